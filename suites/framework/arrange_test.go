package framework

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// The child process of TestSetupWritesAreErrors runs these checks against
// the in-process reference server behind a transport that refuses every
// PATCH and PUT with 400. They are registered in every run of this test
// binary but run only there: no other test of the package calls RunSpecs.
const (
	envArrangeChild  = "SCIMLAB_FRAMEWORK_ARRANGE_CHILD"
	envArrangeReport = "SCIMLAB_FRAMEWORK_ARRANGE_REPORT"
)

var _ = ginkgo.Describe("setup writes", lbl.Of(lbl.Patch), func() {
	var c *Client
	ginkgo.BeforeEach(func() { c = NewClient() })
	replace := func() any { return PatchOp(Op("replace", "displayName", "Refused")) }

	It("ARR-001", "a PATCH that only prepares the check is refused", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx ginkgo.SpecContext) {
		u := CreateUser(ctx, c, NewUser("arr"))
		PatchSetup(ctx, c, UserPath(u), replace())
		gomega.Expect(Get(ctx, c, UserPath(u)).Str("displayName")).To(gomega.Equal("Refused"))
	})

	It("ARR-002", "the PATCH the check is about is refused", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx ginkgo.SpecContext) {
		u := CreateUser(ctx, c, NewUser("arr"))
		PatchOK(ctx, c, UserPath(u), replace())
	})

	It("ARR-003", "a PUT that only prepares the check is refused", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx ginkgo.SpecContext) {
		u := CreateUser(ctx, c, NewUser("arr"))
		PutSetup(ctx, c, UserPath(u), u)
	})

	It("ARR-004", "the PUT the check is about is refused", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx ginkgo.SpecContext) {
		u := CreateUser(ctx, c, NewUser("arr"))
		PutOK(ctx, c, UserPath(u), u)
	})

	It("ARR-005", "what follows a setup PATCH that succeeds is the check again", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx ginkgo.SpecContext) {
		u := CreateUser(ctx, c, NewUser("arr"))
		Arrange(func() {}) // the setup ends; an assertion after it is the check's
		gomega.Expect(Get(ctx, c, UserPath(u)).Str("displayName")).To(gomega.Equal("Refused"), "the check's own assertion")
	})
})

// refuseWrites answers every PATCH and PUT with a SCIM 400 without passing
// it on, and sends every other request to next.
type refuseWrites struct{ next http.RoundTripper }

func (r refuseWrites) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPatch && req.Method != http.MethodPut {
		return r.next.RoundTrip(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	body := `{"schemas":["` + scim.ErrorSchema + `"],"status":"400","scimType":"invalidSyntax","detail":"refused by the test"}`
	return &http.Response{
		Status: "400 Bad Request", StatusCode: http.StatusBadRequest,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {scim.MediaType}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// TestArrangeChild is the child process of TestSetupWritesAreErrors.
func TestArrangeChild(t *testing.T) {
	if os.Getenv(envArrangeChild) == "" {
		t.Skip("runs only as a child of TestSetupWritesAreErrors")
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	Configure(Config{
		Seed: 1,
		Local: func(ctx context.Context, _ string, _ bool) (*LocalServer, error) {
			l, err := server.StartLocal(ctx, server.LocalOptions{DataDSN: ":memory:"})
			if err != nil {
				return nil, err
			}
			return &LocalServer{BaseURL: l.BaseURL, Token: l.Token, Close: l.Close}, nil
		},
		WrapTransport: func(next http.RoundTripper) http.RoundTripper { return refuseWrites{next} },
	})
	sc, rc := ginkgo.GinkgoConfiguration()
	rc.Succinct = true
	ginkgo.RunSpecs(t, "framework arrange", sc, rc)
	run := LastRun()
	if run == nil {
		t.Fatal("the suite produced no report")
	}
	if err := WriteRunJSON(os.Getenv(envArrangeReport), run); err != nil {
		t.Fatal(err)
	}
}

// TestSetupWritesAreErrors: a PATCH or PUT that only prepares what a check
// tests (PatchSetup, PutSetup) and that the target refuses makes the check
// error "setup failed: …"; the same request as the check's subject (PatchOK,
// PutOK) makes it fail; and once the setup is over, a failure is the
// check's again. The checks run in a child process, as Ginkgo runs one
// suite per process.
func TestSetupWritesAreErrors(t *testing.T) {
	if os.Getenv(envArrangeChild) != "" {
		t.Skip("the parent test does not run in its own child")
	}
	report := filepath.Join(t.TempDir(), "arrange.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestArrangeChild$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envArrangeChild+"=1", envArrangeReport+"="+report, "SCIMLAB_REPORT_DIR=")
	out, _ := cmd.CombinedOutput()
	f, err := os.Open(report)
	if err != nil {
		t.Fatalf("the child wrote no report (%v); output:\n%s", err, out)
	}
	defer f.Close()
	run, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		verdict reports.Verdict
		reason  string // the reason starts with it
	}{
		"ARR-001": {reports.Error, "setup failed: PATCH /scim/v2/Users/"},
		"ARR-002": {reports.Fail, "PATCH /scim/v2/Users/"},
		"ARR-003": {reports.Error, "setup failed: PUT /scim/v2/Users/"},
		"ARR-004": {reports.Fail, "PUT /scim/v2/Users/"},
		"ARR-005": {reports.Fail, "the check's own assertion"},
	}
	seen := map[string]bool{}
	for _, c := range run.Checks {
		w, ok := want[c.ID]
		if !ok {
			t.Errorf("unexpected check %s: %s %q", c.ID, c.Verdict, c.Reason)
			continue
		}
		seen[c.ID] = true
		if c.Verdict != w.verdict || !strings.HasPrefix(c.Reason, w.reason) {
			t.Errorf("%s: %s %q, want %s %q…", c.ID, c.Verdict, c.Reason, w.verdict, w.reason)
		}
		if c.ID != "ARR-005" && !strings.Contains(c.Reason, "got 400") {
			t.Errorf("%s: the reason %q does not name the refusal", c.ID, c.Reason)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("%s is not in the child's report; output:\n%s", id, out)
		}
	}
}

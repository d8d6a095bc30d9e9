package all

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"
)

// runCLI is the child side of TestRunEntry: it runs the suite through Run,
// the CLI entry point, instead of RunSpecs(t).
func runCLI(t *testing.T, cfg framework.Config) {
	var out bytes.Buffer
	dir := filepath.Join(filepath.Dir(os.Getenv(envChildReport)), "reports")
	run, err := Run(context.Background(), Config{LabelFilter: "discovery && MUST", ReportDir: dir, Out: &out, Seed: 42})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := Run(context.Background(), Config{}); !errors.Is(err, ErrAlreadyRan) {
		t.Errorf("a second Run: got %v, want ErrAlreadyRan", err)
	}
	if !strings.Contains(out.String(), "SCIM 2.0 conformance") {
		t.Errorf("Config.Out did not receive Ginkgo's output:\n%s", out.String())
	}
	if err := framework.WriteRunJSON(os.Getenv(envChildReport), run); err != nil {
		t.Fatal(err)
	}
}

// TestRunEntry runs the suite through Run (the CLI entry) in a child process
// and checks the report it returns and writes.
func TestRunEntry(t *testing.T) {
	parentWithLocalServer(t, "this test uses the in-process server")
	run, out, err := runChild(t, "cli")
	if err != nil {
		t.Fatalf("child: %v\n%s", err, tail(out, 60))
	}
	if len(run.Checks) == 0 || run.Failed() {
		t.Fatalf("want passing discovery MUST checks, got %d checks, failed=%v", len(run.Checks), run.Failed())
	}
	for _, c := range run.Checks {
		if c.Area != "discovery" || c.Level != reports.Must {
			t.Errorf("%s (%s, %s) ran despite the label filter \"discovery && MUST\"", c.ID, c.Area, c.Level)
		}
	}
	if run.Seed != 42 || run.Kind != "test" || run.Target == "" || len(run.Capabilities) == 0 {
		t.Errorf("run metadata: seed %d, kind %q, target %q, %d capabilities", run.Seed, run.Kind, run.Target, len(run.Capabilities))
	}
	matches, _ := filepath.Glob(filepath.Join(t.TempDir(), "..", "*", "reports", "report.json"))
	if len(matches) == 0 {
		t.Errorf("Run wrote no report.json into Config.ReportDir")
	}
}

// TestRunErrors checks the errors Run returns before any spec runs.
func TestRunErrors(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	ctx := context.Background()
	cases := []struct {
		name string
		cfg  Config
		want error
	}{
		{"bad scheme", Config{Target: "ftp://example.test/scim", Token: "t"}, ErrConfig},
		{"no credential", Config{Target: "http://127.0.0.1:1/scim/v2"}, ErrConfig},
		{"token and basic", Config{Target: "http://127.0.0.1:1/scim/v2", Token: "t", Basic: "a:b"}, ErrConfig},
		{"query in target", Config{Target: "http://127.0.0.1:1/scim/v2?x=1", Token: "t"}, ErrConfig},
		{"bad label filter", Config{LabelFilter: "MUST &&"}, ErrConfig},
		{"missing capabilities file", Config{CapabilitiesFile: "/nonexistent/spc.json"}, ErrConfig},
		{"unreachable", Config{Target: "http://127.0.0.1:1/scim/v2", Token: "scimlab-test"}, ErrUnreachable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SCIM_BASE_URL", "")
			t.Setenv("SCIM_TOKEN", "")
			t.Setenv("SCIM_BASIC", "")
			_, err := Run(ctx, tc.cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "scimlab-test") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// TestDeclaredUnsupported runs the suite with a ServiceProviderConfig that
// declares every optional feature unsupported, against a server that
// supports them all: gated checks are skipped with the reason, and each
// probe reports unsupported-but-works, but for the password change (USR-071),
// whose effect cannot be read back: skipped, with that reason.
func TestDeclaredUnsupported(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	if testConfig(t).Target != "" {
		t.Skip("uses the in-process server")
	}
	run, out, _ := runChild(t, "caps")
	byID := map[string]reports.Check{}
	for _, c := range run.Checks {
		byID[c.ID] = c
	}
	reason := regexp.MustCompile(`^ServiceProviderConfig\.(patch|bulk|filter|sort|etag|changePassword)\.supported: false$`)
	for _, id := range []string{"PAT-001", "BLK-001", "FLT-001", "SRT-001", "ETG-001", "USR-070", "GRP-020"} {
		c := byID[id]
		if c.Verdict != reports.Skipped || !reason.MatchString(c.Reason) {
			t.Errorf("%s: %s %q, want skipped for a declared-unsupported feature", id, c.Verdict, c.Reason)
		}
		if c.Capability == "" {
			t.Errorf("%s names no capability", id)
		}
	}
	for _, id := range []string{"PAT-090", "BLK-090", "SRT-020", "ETG-090"} {
		if c := byID[id]; c.Verdict != reports.UnsupportedButWorks {
			t.Errorf("probe %s: %s %q, want unsupported-but-works", id, c.Verdict, c.Reason)
		}
	}
	// An accepted password change proves nothing: the server may ignore it
	// (RFC 7644 §3.3) and password is never returned.
	if c := byID["USR-071"]; c.Verdict != reports.Skipped || !strings.Contains(c.Reason, "accepted a password change it declares unsupported") || !strings.Contains(c.Reason, "cannot be read back") {
		t.Errorf("probe USR-071: %s %q, want skipped: accepted, effect cannot be read back", c.Verdict, c.Reason)
	}
	for _, c := range run.Capabilities {
		if c.Name == "patch" && (c.Declared || c.Observed == nil || !*c.Observed) {
			t.Errorf("capability patch: declared %v observed %v, want declared false, observed true", c.Declared, c.Observed)
		}
	}
	for _, c := range run.Checks {
		if c.Verdict.Failing() && c.Level.Required() {
			t.Logf("note: %s %s: %s", c.Verdict, c.ID, c.Reason)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 60))
	}
}

package simulator

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// errNotSent stands for the CLI's errTargetGone: what a request gets once
// the target is taken as gone.
var errNotSent = errors.New("not sent: the target stopped answering earlier in the run")

// goneAfter wraps a transport so that the first n requests go through and
// every later one fails at once with errNotSent, as the CLI's watch does
// once the target stopped answering.
func goneAfter(n int64) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		var sent atomic.Int64
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if sent.Add(1) > n {
				if req.Body != nil {
					_ = req.Body.Close()
				}
				return nil, errNotSent
			}
			return next.RoundTrip(req)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// intercepted starts a fake target whose requests go to answer first: when
// it returns false, the fake answers them. It returns the SCIM base URL.
func intercepted(t *testing.T, answer func(w http.ResponseWriter, r *http.Request) bool) string {
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !answer(w, r) {
			ft.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// recorded returns the check r records for step.
func recorded(t *testing.T, r *recorder, step idp.Step) reports.Check {
	t.Helper()
	for _, c := range r.checks() {
		if c.ID == r.idp.CheckID(step) {
			return c
		}
	}
	t.Fatalf("no check for %s", step)
	return reports.Check{}
}

// checkOf returns the check of step in run.
func checkOf(t *testing.T, run *reports.Run, p *idp.IdP, step idp.Step) reports.Check {
	t.Helper()
	for _, c := range run.Checks {
		if c.ID == p.CheckID(step) {
			return c
		}
	}
	t.Fatalf("no check %s in:\n%s", p.CheckID(step), verdicts(run))
	return reports.Check{}
}

// TestLostTargetChecksAreErrors: a target that stops answering in the
// middle of a run (every later request is not sent) leaves the checks whose
// requests got no response as errors naming the cause, never failures: the
// target gave no wrong answer. The clean-up, whose DELETEs were not sent
// either, says that it deleted none of them, on stderr and in its note.
func TestLostTargetChecksAreErrors(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(faketarget.New(faketarget.Options{}))
	t.Cleanup(srv.Close)
	var progress bytes.Buffer
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 20, Groups: 3, Seed: 91,
		WrapTransport: goneAfter(25), Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Checks {
		if c.Verdict == reports.Fail {
			t.Errorf("%s is fail (%s); the target never answered wrongly", c.ID, c.Reason)
		}
	}
	for _, step := range []idp.Step{idp.StepLookupUser, idp.StepImport, idp.StepDeactivate, idp.StepReprovision, idp.StepEndState} {
		c := checkOf(t, run, p, step)
		if c.Verdict != reports.Error || !strings.Contains(c.Reason, "not sent: the target stopped answering") {
			t.Errorf("%s: %s %q, want an error naming the cause", c.ID, c.Verdict, c.Reason)
		}
	}
	if c := checkOf(t, run, p, idp.StepTestConnection); c.Verdict != reports.Pass {
		t.Errorf("test connection, answered before the loss: %s %q", c.Verdict, c.Reason)
	}

	created := len(run.OrphanList())
	if created == 0 {
		t.Fatalf("no orphans; the run created users before the loss:\n%s", verdicts(run))
	}
	notes := strings.Join(run.Notes, "\n")
	if strings.Contains(notes, "deleted the 0 users and 0 groups") || !strings.Contains(notes, "could not be deleted") || !strings.Contains(notes, "not sent") {
		t.Errorf("the clean-up note does not say that nothing was deleted, and why:\n%s", notes)
	}
	var line string
	for _, l := range strings.Split(progress.String(), "\n") {
		if strings.HasPrefix(l, "simulate: clean-up: ") && !strings.Contains(l, "to do") {
			line = l
		}
	}
	// The cause itself is the run's last line (the CLI's), said once.
	if !strings.Contains(line, " 0 of ") || !strings.Contains(line, "left on the target, listed as orphans (the first: the DELETE got no response)") ||
		strings.Contains(line, "done") || strings.Contains(line, "stopped answering") {
		t.Errorf("clean-up progress line %q, want how many of them were deleted and why the rest were left:\n%s", line, progress.String())
	}
}

// TestUnansweredAndWrongAnswers: a step whose failed requests all got no
// response is an error; one with a wrong answer among them fails, and its
// evidence is that answer.
func TestUnansweredAndWrongAnswers(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "http://target/scim/v2/Users", nil)
	lost := func() *response {
		return &response{req: idp.Request{Method: http.MethodGet, Path: "/Users"}, err: errNotSent, httpReq: req}
	}
	wrong := &response{req: idp.Request{Method: http.MethodGet, Path: "/Users"}, status: 500, httpReq: req,
		httpResp: &http.Response{StatusCode: 500, Header: http.Header{}}}
	c := newClient("http://target/scim/v2", p, Config{}, nil)
	check := func(r *recorder, step idp.Step) reports.Check { t.Helper(); return recorded(t, r, step) }

	r := newRecorder(p, c)
	r.record(idp.StepLookupUser, nil, "")
	r.record(idp.StepLookupUser, lost(), "GET /Users: no response: not sent")
	r.record(idp.StepLookupUser, lost(), "GET /Users: no response: not sent")
	got := check(r, idp.StepLookupUser)
	if got.Verdict != reports.Error || !strings.Contains(got.Reason, "2 of 3 requests got no response") || !strings.Contains(got.Reason, "not sent") {
		t.Errorf("only unanswered: %s %q, want error", got.Verdict, got.Reason)
	}
	if len(got.Evidence) != 1 || got.Evidence[0].Response.Status != 0 {
		t.Errorf("evidence %+v, want the unanswered request", got.Evidence)
	}
	// A later phase with nothing to do names the step that did not pass.
	r.noWork(idp.StepDeleteGroup, "no group to delete", false)
	if c := check(r, idp.StepDeleteGroup); c.Verdict != reports.Error || !strings.Contains(c.Reason, p.CheckID(idp.StepLookupUser)) {
		t.Errorf("after an unanswered step: %s %q", c.Verdict, c.Reason)
	}

	r.record(idp.StepLookupUser, wrong, "GET /Users answered 500")
	r.record(idp.StepLookupUser, lost(), "GET /Users: no response: not sent")
	got = check(r, idp.StepLookupUser)
	if got.Verdict != reports.Fail || !strings.Contains(got.Reason, "1 of 5 requests failed; first: GET /Users answered 500") || !strings.Contains(got.Reason, "3 more got no response") {
		t.Errorf("mixed: %s %q, want fail on the wrong answer", got.Verdict, got.Reason)
	}
	if len(got.Evidence) != 1 || got.Evidence[0].Response.Status != 500 {
		t.Errorf("evidence %+v, want the wrong answer", got.Evidence)
	}

	// One unanswered request alone.
	r.record(idp.StepCreateUser, lost(), "POST /Users: no response within the IdP's timeout (1m0s)")
	if c := check(r, idp.StepCreateUser); c.Verdict != reports.Error || !strings.Contains(c.Reason, "the target did not answer: POST /Users: no response within") {
		t.Errorf("one unanswered: %s %q", c.Verdict, c.Reason)
	}
}

// TestEndStateOfUnansweredProvisioning: a user whose create got no
// response is not a difference the target showed: the end-state check is
// an error, not a failure, though the target answered every read.
func TestEndStateOfUnansweredProvisioning(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	var creates atomic.Int64
	target := intercepted(t, func(w http.ResponseWriter, r *http.Request) bool {
		// The second user's create gets no answer: the connection closes.
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Users") || creates.Add(1) != 2 {
			return false
		}
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return true
	})
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 3, Groups: 0, Seed: 4, Scenario: "initial-sync", Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c := checkOf(t, run, p, idp.StepCreateUser); c.Verdict != reports.Error || !strings.Contains(c.Reason, "1 of 3 requests got no response") {
		t.Errorf("create: %s %q, want an error for the unanswered create", c.Verdict, c.Reason)
	}
	if c := checkOf(t, run, p, idp.StepEndState); c.Verdict != reports.Error || !strings.Contains(c.Reason, "its create got no response (the target closed the connection before answering)") {
		t.Errorf("end state: %s %q, want an error: the missing user's create got no response", c.Verdict, c.Reason)
	}
}

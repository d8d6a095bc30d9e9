package all

import (
	"regexp"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// bugpackReason is the first line of a failed bug replay: the exchange, its
// method and path, the status and what a correct server answers.
var bugpackReason = regexp.MustCompile(`^(setup )?exchange \d+ failed: (GET|POST|PUT|PATCH|DELETE) /\S+: status \d{3}, `)

// TestBugPackEvidence runs the bug pack against the strict reference
// server, which fails several of its IdP-tolerance bugs, and checks that
// every BPK check that did not pass carries the exchange that decided it
// (absolute URL, response status) and a reason that starts with the
// exchange and its status and includes what the server said. A bug whose
// setup exchange was refused never got to the bug: error, not fail.
func TestBugPackEvidence(t *testing.T) {
	parentWithLocalServer(t, "the strict reference server is what fails these bugs")
	run, out, _ := runChild(t, "bugpack")
	failing := 0
	for _, c := range run.Checks {
		if !strings.HasPrefix(c.ID, "BPK-") || c.Verdict == reports.Pass {
			continue
		}
		failing++
		if !bugpackReason.MatchString(c.Reason) {
			t.Errorf("%s: the reason does not start with the exchange and its status: %q", c.ID, c.Reason)
		}
		if strings.HasPrefix(c.Reason, "setup ") != (c.Verdict == reports.Error) {
			t.Errorf("%s is %s with reason %q: a failed setup exchange is an error, a failed bug exchange a fail", c.ID, c.Verdict, c.Reason)
		}
		if !strings.Contains(c.Reason, "; the server said: ") {
			t.Errorf("%s: the reason does not say what the server answered: %q", c.ID, c.Reason)
		}
		if len(c.Evidence) == 0 {
			t.Errorf("%s (%s) has no evidence", c.ID, c.Verdict)
		}
		for _, ex := range c.Evidence {
			if !strings.HasPrefix(ex.Request.URL, "http://127.0.0.1:") || ex.Response.Status == 0 {
				t.Errorf("%s: evidence %s %s → %d: want an absolute URL and the response", c.ID, ex.Request.Method, ex.Request.URL, ex.Response.Status)
			}
		}
	}
	if failing < 5 {
		t.Errorf("only %d BPK checks did not pass against the strict server; output:\n%s", failing, tail(out, 40))
	}
}

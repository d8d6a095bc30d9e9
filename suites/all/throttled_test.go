package all

import (
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reports"
)

// startThrottled starts the reference server (lenient, so that the bug
// pack's IdP shapes pass) behind a proxy that throttles: of every three
// requests, one is answered 429 with Retry-After: 0 and one 503 with a
// Retry-After date already past, so every request passes on its second or
// third try; and every request under /Groups, and every DELETE of a user,
// is answered 429 for good. No wait is longer than zero, so the test does
// not sleep.
func startThrottled(t *testing.T) (baseURL, token string) {
	var n atomic.Int64
	return startBehind(t, func(w http.ResponseWriter, r *http.Request) bool {
		forGood := strings.Contains(r.URL.Path, "/Groups") || r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/Users/")
		switch k := n.Add(1) % 3; {
		case forGood || k == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"slow down"}`))
		case k == 2:
			w.Header().Set("Retry-After", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			return false
		}
		return true
	})
}

// TestThrottledTarget runs the user, group and bug-pack checks against a
// target that throttles. Requests that get through on a later try pass as
// they would have; a check whose request is still throttled after the
// retries is an error naming the rate limit, never a failure; users whose
// clean-up DELETE is still throttled are orphans that say so; and the
// report says that the target throttled.
func TestThrottledTarget(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	run, out, _ := runChild(t, "throttled")
	s := run.Summary()
	t.Logf("%d checks: %d pass, %d error, %d skipped", len(run.Checks), s.Of(reports.Pass), s.Of(reports.Error), s.Of(reports.Skipped))
	limited := 0
	for _, c := range run.Checks {
		switch {
		case c.Verdict == reports.Fail:
			t.Errorf("%s is fail, but the target only throttled: %s", c.ID, c.Reason)
		case c.Verdict == reports.Error && !strings.Contains(c.Reason, "rate limited: the target answered "):
			t.Errorf("%s is an error that does not name the rate limit: %s", c.ID, c.Reason)
		case c.Verdict == reports.Error:
			limited++
		}
	}
	if limited == 0 || s.Of(reports.Pass) < 20 {
		t.Errorf("%d rate-limited errors and %d passes: want both (the groups are throttled for good, the users get through)", limited, s.Of(reports.Pass))
	}
	orphans := run.OrphanList()
	if len(orphans) == 0 {
		t.Error("no orphans: the users whose DELETE stayed throttled must be listed")
	}
	for _, o := range orphans {
		// The bug pack's own clean-up words its reason its own way.
		if !strings.HasPrefix(o.Reason, "DELETE: rate limited: ") && !strings.Contains(o.Reason, ": rate limited: ") {
			t.Errorf("orphan %+v", o)
		}
	}
	notes := strings.Join(run.Notes, "\n")
	for _, want := range []string{"the target throttled the run: ", "429 Too Many Requests", "503 Service Unavailable", "still throttled after that"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the notes lack %q:\n%s", want, notes)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 60))
	}
}

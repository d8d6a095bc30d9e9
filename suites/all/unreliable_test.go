package all

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// startBehind starts the reference server (lenient, so that the bug pack's
// IdP shapes pass) behind a proxy that lets intercept answer each request
// first; what it does not answer (false) passes through.
func startBehind(t *testing.T, intercept func(w http.ResponseWriter, r *http.Request) bool) (baseURL, token string) {
	t.Helper()
	local, up := startUpstream(t, true)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !intercept(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL + up.Path, local.Token
}

// startUnreliable starts the reference server behind a proxy that answers
// nothing at all under /Groups and to any DELETE: it closes the
// connection, as a target that has died does. Everything else passes
// through.
func startUnreliable(t *testing.T) (baseURL, token string) {
	return startBehind(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/Groups") && r.Method != http.MethodDelete {
			return false
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return true
	})
}

// TestUnreliableTarget runs the filter, group and bug-pack checks against a
// target that gives no response under /Groups and to DELETE. Checks that
// could not run are errors that say the target did not answer, never
// skipped and never failed; the filter checks on users, which do not need a
// group, still run and pass; what could not be deleted is listed as an
// orphan, not failed as a check; and the filter capability is not reported
// broken for what a group fixture did.
func TestUnreliableTarget(t *testing.T) {
	if os.Getenv(envChild) != "" {
		t.Skip("child process")
	}
	run, out, _ := runChild(t, "unreliable")
	t.Logf("%d checks: %+v", len(run.Checks), run.Summary())
	var sharedSetup, noAnswer int
	for _, c := range run.Checks {
		switch {
		case c.Verdict == reports.Fail:
			t.Errorf("%s is fail, but the target never answered it wrongly: %s", c.ID, c.Reason)
		case c.Verdict == reports.Skipped && !strings.HasPrefix(c.Reason, "ServiceProviderConfig."):
			t.Errorf("%s is skipped for a reason the target did not declare: %s", c.ID, c.Reason)
		case c.Verdict == reports.Error && strings.HasPrefix(c.Reason, "not run: the setup it shares with FLT-060 failed (BeforeAll): "):
			sharedSetup++
		case c.Verdict == reports.Error && (strings.Contains(c.Reason, "no response") || strings.HasSuffix(c.Reason, "EOF")):
			noAnswer++
		case c.Verdict == reports.Error:
			t.Errorf("%s: error without the cause (no response): %s", c.ID, c.Reason)
		case c.Area == "filter" && strings.HasPrefix(c.ID, "FLT-0") && c.ID < "FLT-060" && c.Verdict != reports.Pass:
			t.Errorf("%s is %s: the user filters do not need /Groups", c.ID, c.Verdict)
		}
	}
	if sharedSetup != 5 {
		t.Errorf("%d group filter checks name the failed group fixture, want 5 (FLT-061..065)", sharedSetup)
	}
	if noAnswer < 10 {
		t.Errorf("only %d checks say the target gave no response", noAnswer)
	}
	if len(run.Orphans) == 0 {
		t.Errorf("no orphans: the users this run could not delete must be listed")
	}
	for _, row := range run.CapabilityMatrix() {
		if row.Status == reports.DeclaredButBroken {
			t.Errorf("capability %s reported %s by checks that could not run (%+v)", row.Name, row.Status, row.Checks)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", tail(out, 60))
	}
}

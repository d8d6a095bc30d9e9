package cli

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
)

// TestThrottledDiscoveryWritesAReport: a target that answers every
// discovery request 429 past the retries is neither unreachable nor
// misconfigured. The run ends with exit 1 and still writes its reports,
// every selected check an error that names the throttling, so that a CI job
// gating on the report sees why nothing ran.
func TestThrottledDiscoveryWritesAReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scimlab in a child process")
	}
	target := proxyFor(t, startReference(t, server.LocalOptions{Lenient: true}), func(_ int64, w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig"), strings.Contains(r.URL.Path, "/Schemas"), strings.Contains(r.URL.Path, "/ResourceTypes"):
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	dir := t.TempDir()
	code, out, errb := runChild(t, nil, "test", "--target", target, "--token", "t0ken", "--label-filter", "users", "--report-dir", dir)
	if code != ExitFailures || !strings.Contains(errb, "throttled") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatalf("no report: %v\nstdout:\n%s\nstderr:\n%s", err, out, errb)
	}
	var run reports.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	if len(run.Checks) == 0 {
		t.Fatal("the report lists no check")
	}
	for _, c := range run.Checks {
		if c.Verdict != reports.Error || !strings.Contains(c.Reason, "throttled") {
			t.Errorf("%s: %s %q; want an error naming the throttling", c.ID, c.Verdict, c.Reason)
		}
	}
	if !strings.Contains(strings.Join(run.Notes, "\n"), "suite setup failed: the target throttled discovery") {
		t.Errorf("notes: %q", run.Notes)
	}
}

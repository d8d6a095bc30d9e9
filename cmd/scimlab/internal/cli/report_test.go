package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// writeRun writes run as a report.json into a new directory.
func writeRun(t *testing.T, run *reports.Run) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	run.SchemaVersion = reports.SchemaVersion
	if err := reports.WriteJSON(f, run); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportDiffGate: report diff exits 1 when checks that passed are
// missing from the new run (a run with no checks never reads as "No
// regressions."), and 2 for runs of different kinds.
func TestReportDiffGate(t *testing.T) {
	passing := []reports.Check{
		{ID: "USR-001", Title: "creates a user", Level: reports.Must, Verdict: reports.Pass},
		{ID: "USR-002", Title: "reads a user", Level: reports.Must, Verdict: reports.Pass},
	}
	old := writeRun(t, &reports.Run{Kind: "test", Checks: passing})
	same := writeRun(t, &reports.Run{Kind: "test", Checks: passing})
	empty := writeRun(t, &reports.Run{Kind: "test"})
	sim := writeRun(t, &reports.Run{Kind: "simulate", IdP: "okta-oin", Checks: []reports.Check{{ID: "SIM-OKTA-001", Level: "IDP:okta", Verdict: reports.Pass}}})

	if code, out, errs := runCLI(t, "report", "diff", old, same); code != ExitOK || !strings.HasPrefix(out, "No regressions.") {
		t.Errorf("same checks: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "report", "diff", old, empty); code != ExitFailures || !strings.HasPrefix(out, "REGRESSED: 2 checks that passed are missing from the new run") {
		t.Errorf("new run without checks: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := runCLI(t, "report", "diff", old, sim)
	if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "the old run is a test run and the new one a simulate run") {
		t.Errorf("test vs simulate: exit %d, stdout %q, stderr %q; want 2 and one line", code, out, errs)
	}
}

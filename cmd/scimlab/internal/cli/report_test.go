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

// TestReportRenderOutput: -o picks the format from its extension unless
// --format says otherwise, and never overwrites the report it reads; the
// diff renders JSON too.
func TestReportRenderOutput(t *testing.T) {
	run := writeRun(t, &reports.Run{Kind: "test", Target: "http://127.0.0.1:1/scim/v2", Checks: []reports.Check{
		{ID: "USR-001", Title: "creates a user", Level: reports.Must, Verdict: reports.Pass},
	}})
	dir := t.TempDir()
	for name, prefix := range map[string]string{
		"r.html": "<!doctype html>", "junit.xml": "<?xml", "r.md": "#", "r.json": "{", "r.txt": "scimlab test",
	} {
		out := filepath.Join(dir, name)
		if code, _, errs := runCLI(t, "report", "render", run, "-o", out); code != ExitOK {
			t.Fatalf("-o %s: exit %d: %s", name, code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil || !strings.HasPrefix(strings.ToLower(string(b)), strings.ToLower(prefix)) {
			t.Errorf("-o %s wrote %.80q (%v), want it to start with %q", name, b, err, prefix)
		}
	}
	forced := filepath.Join(dir, "forced.html")
	if code, _, errs := runCLI(t, "report", "render", run, "--format", "md", "-o", forced); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b, _ := os.ReadFile(forced); !strings.HasPrefix(string(b), "#") {
		t.Errorf("--format md -o forced.html wrote %.80q", b)
	}
	before, _ := os.ReadFile(run)
	code, out, errs := runCLI(t, "report", "render", run, "-o", run)
	after, _ := os.ReadFile(run)
	if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "is the report being read") || string(before) != string(after) {
		t.Errorf("-o the input: exit %d, stderr %q, file changed %v", code, errs, string(before) != string(after))
	}
	if code, out, errs := runCLI(t, "report", "diff", run, run, "--format", "json"); code != ExitOK || !strings.Contains(out, `"regressed": false`) {
		t.Errorf("diff --format json: exit %d\n%s%s", code, out, errs)
	}
}

// TestMissingSubcommandIsOneLine: a command or command group called with
// nothing after it says so in one line and exits 2, as any usage error.
func TestMissingSubcommandIsOneLine(t *testing.T) {
	for args, want := range map[string]string{
		"":              "scimlab: missing command; want one of bench, demo,",
		"token":         "scimlab token: missing subcommand; want create, list, revoke, basic, admin, account",
		"report":        "scimlab report: missing subcommand; want render, diff",
		"token basic":   "scimlab token basic: missing subcommand; want set, clear",
		"token admin":   "scimlab token admin: missing subcommand; want set",
		"token account": "scimlab token account: missing subcommand; want deactivate, activate",
	} {
		code, out, errs := runCLI(t, strings.Fields(args)...)
		if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, want) {
			t.Errorf("scimlab %s: exit %d, stdout %q, stderr %q; want 2 and one line starting %q", args, code, out, errs, want)
		}
	}
}

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
)

// TestSimulateEmptyDirectory: --users 0 --groups 0 is an empty directory,
// not the default 150 users and 10 groups: against a target with --keep
// nothing is created, every step that needs a user or a group is skipped
// saying the directory is empty, and the run passes on what it could
// check (the test connection). --help says what 0 means.
func TestSimulateEmptyDirectory(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	dir := t.TempDir()
	code, out, errs := runCLI(t, "simulate", "--target", l.BaseURL, "--token", l.Token, "--users", "0", "--groups", "0", "--keep", "--report-dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(run.Notes, "\n"), "directory: 0 users, 0 groups") {
		t.Errorf("notes %q, want an empty directory", run.Notes)
	}
	empty := 0
	for _, c := range run.Checks {
		switch {
		case c.ID == "SIM-OKTA-TEST-CONNECTION" || c.ID == "SIM-OKTA-IMPORT":
			if c.Verdict != reports.Pass {
				t.Errorf("%s %s: %s", c.ID, c.Verdict, c.Reason)
			}
		case c.Verdict != reports.Skipped:
			t.Errorf("%s %s: %s, want skipped", c.ID, c.Verdict, c.Reason)
		case strings.Contains(c.Reason, "the directory is empty"):
			empty++
		}
	}
	if empty < 10 {
		t.Errorf("%d checks say the directory is empty:\n%s", empty, out)
	}
	for _, kind := range []string{"Users", "Groups"} {
		if n := countResources(t, l, kind); n != 0 {
			t.Errorf("an empty directory made %d %s", n, kind)
		}
	}
	for _, cmd := range []string{"simulate", "demo"} {
		_, help, _ := runCLI(t, cmd, "--help")
		if !strings.Contains(help, "0 is none: the steps that need a user have nothing to do") || !strings.Contains(help, "0 is none: the steps that need a group have nothing to do") {
			t.Errorf("%s --help does not say what 0 means:\n%s", cmd, help)
		}
	}
}

// countResources returns how many resources of kind the reference server holds.
func countResources(t *testing.T, l *server.Local, kind string) int {
	t.Helper()
	var list struct{ TotalResults int }
	getJSON(t, l, "/"+kind+"?count=0", &list)
	return list.TotalResults
}

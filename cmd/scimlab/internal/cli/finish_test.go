package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// TestStopAfterTheLastCheck: a run stopped after its last check (the run
// itself saw nothing) still exits 1, and its reports say so rather than
// PASSED; a run that already fails gets no extra check.
func TestStopAfterTheLastCheck(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupt"))
	passing := func() *reports.Run {
		return &reports.Run{Checks: []reports.Check{{ID: "X-001", Title: "x", Level: reports.Must, Verdict: reports.Pass}}}
	}

	dir := t.TempDir()
	var out, errb bytes.Buffer
	run := passing()
	if code := finishRun(ctx, &env{stdout: &out, stderr: &errb}, "test", run, dir, nil); code != ExitFailures {
		t.Fatalf("exit %d, want %d", code, ExitFailures)
	}
	if !run.Failed() || !strings.Contains(strings.Join(run.Notes, "\n"), "after its last check") {
		t.Errorf("the run reads as passed: failed=%v notes=%q", run.Failed(), run.Notes)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(md), "PASSED") || !strings.Contains(string(md), checkInterrupted) {
		t.Errorf("report.md of an interrupted run:\n%s", md)
	}
	if strings.Contains(out.String(), "PASSED") {
		t.Errorf("summary of an interrupted run:\n%s", out.String())
	}

	failing := passing()
	failing.Checks[0].Verdict = reports.Fail
	failing.Notes = []string{"interrupted (interrupt): the checks after the stop did not run"}
	finishRun(ctx, &env{stdout: &out, stderr: &errb}, "test", failing, "", nil)
	if len(failing.Checks) != 1 || len(failing.Notes) != 1 {
		t.Errorf("a run that noticed the stop got more: %+v %q", failing.Checks, failing.Notes)
	}

	done := passing()
	if code := finishRun(context.Background(), &env{stdout: &out, stderr: &errb}, "test", done, "", nil); code != ExitOK || len(done.Checks) != 1 {
		t.Errorf("an uninterrupted passing run: exit %d, %d checks", code, len(done.Checks))
	}
}

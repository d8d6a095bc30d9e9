package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/scimlab/scimlab/reports"
)

// finishRun stamps the tool, writes the reports (when dir is set), prints the
// terminal summary and maps the run to an exit code: 1 when the run was
// interrupted (ctx ended); 3 when the target stopped answering during the
// run (see targetWatch; w may be nil); 1 when a required check (MUST or an
// IdP need) failed; else 0.
func finishRun(ctx context.Context, e *env, name string, run *reports.Run, dir string, w *targetWatch) ExitCode {
	// Read once, so that the reports and the exit code agree even when the
	// signal lands while they are being written.
	interrupted := ctx.Err() != nil
	if interrupted {
		markInterrupted(ctx, run)
	}
	var lost *lostTarget
	ran := ranChecks(run)
	if w != nil {
		if lost = w.lost(ctx); lost != nil {
			lost.record(run, ran)
		}
	}
	v, c := Version()
	run.Tool = reports.Tool{Name: "scimlab", Version: v, Commit: c}
	run.SchemaVersion = reports.SchemaVersion
	run.Command = reports.RedactCommand(run.Command)
	run, err := e.scrubRun(run)
	if err != nil {
		return fail(e, name, err, ExitUsage)
	}
	var text strings.Builder
	if err := reports.WriteText(&text, run, reports.UseColor(e.stdout)); err != nil {
		return fail(e, name, err, ExitUsage)
	}
	summary := text.String()
	if dir == "" {
		// The summary lists the first checks and sends the reader to the
		// HTML report for the rest; without --report-dir there is none.
		summary = strings.ReplaceAll(summary, "(see report.html)", "(pass --report-dir DIR to write every report)")
	}
	if _, err := io.WriteString(e.stdout, summary); err != nil {
		return fail(e, name, err, ExitUsage)
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fail(e, name, err, ExitUsage)
		}
		paths, err := reports.WriteAll(abs, run)
		if err != nil {
			return fail(e, name, fmt.Errorf("writing reports: %w", err), ExitUsage)
		}
		fmt.Fprintf(e.stdout, "reports: %s (HTML: %s)\n", abs, paths["html"])
	}
	if interrupted {
		fmt.Fprintf(e.stderr, "scimlab %s: interrupted: the run is incomplete, so it cannot pass (exit 1)\n", name)
		return ExitFailures
	}
	if lost != nil {
		return fail(e, name, fmt.Errorf("the target stopped answering during the run (after %d %s): %s (exit 3)", ran, plural(ran, "check", "checks"), lost.cause), ExitUnreachable)
	}
	if run.Failed() {
		return ExitFailures
	}
	return ExitOK
}

// interruptedNote is the report note of a run that ctx cut short; what
// names the checks it did not run, which the run lists with the verdict
// error (test: "not run: the run stopped before it"; replay: "not
// replayed").
func interruptedNote(ctx context.Context, what string) string {
	return fmt.Sprintf("interrupted (%v): %s did not run; they are in this report with the verdict error, so the run cannot pass", context.Cause(ctx), what)
}

// checkInterrupted is the ID of the check a run gets when it was stopped
// too late for the run itself to notice (after its last check) while no
// required check failed: the exit is 1, so the report must not read as
// passed either.
const checkInterrupted = "RUN-INTERRUPTED"

// markInterrupted makes sure that run, stopped by ctx, cannot read as
// passed: a run that noticed the stop already holds a failing check; one
// stopped after its last check gets a note and a RUN-INTERRUPTED error.
func markInterrupted(ctx context.Context, run *reports.Run) {
	if run.Failed() {
		return
	}
	cause := fmt.Sprint(context.Cause(ctx))
	run.Notes = append(run.Notes, "interrupted ("+cause+") as the run ended, after its last check; the exit code is 1, so the run does not read as passed")
	run.Checks = append(run.Checks, reports.Check{
		ID: checkInterrupted, Title: "The run ends without being stopped", Area: "run", Level: requiredLevel(run),
		Verdict: reports.Error, Reason: "the run was stopped (" + cause + ")",
	})
}

package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// TestInterruptedReplayNoteSaysWhatTheReportHolds: a replay stopped part way
// lists every exchange of the recording, those never sent as errors, and
// its note says so with the right count, not that they are missing.
func TestInterruptedReplayNoteSaysWhatTheReportHolds(t *testing.T) {
	const total = 12
	ctx, target := cancelledAt(t, 5)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"replay", listSession(t, total), "--target", target, "--token", "t0ken", "--report-dir", dir}, &out, &errb)
	if code != ExitFailures {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out.String(), errb.String())
	}
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	notSent := 0
	for _, c := range run.Checks {
		if c.Verdict == reports.Error && c.Reason == "not replayed: the replay was interrupted" {
			notSent++
		}
	}
	if len(run.Checks) != total || notSent == 0 || notSent == total {
		t.Fatalf("%d checks, %d of them not sent; want all %d, some not sent", len(run.Checks), notSent, total)
	}
	count := fmt.Sprintf(" %d of the %d exchanges ", notSent, total)
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, count) || !strings.Contains(notes, "in this report with the verdict error") || strings.Contains(notes, "not in this report") {
		t.Errorf("notes %q, want one saying that%sare in this report with the verdict error", notes, count)
	}
}

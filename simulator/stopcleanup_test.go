package simulator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

// TestStopDuringCleanupIsInTheReport: Ctrl-C once every phase has run, in
// the clean-up, still stops the run (the CLI exits 1), so the report says
// so: a note and an error SIM-<IDP>-SCENARIO check, never a pass. The
// clean-up itself goes on and removes what the run created.
func TestStopDuringCleanupIsInTheReport(t *testing.T) {
	l := startReference(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run, err := Run(ctx, Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 6, Groups: 2, Seed: 3,
		trace: func(op string) {
			if op == opCleanup {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	c := check(run, "SIM-OKTA-SCENARIO")
	if c == nil || c.Verdict != reports.Error || !strings.Contains(c.Reason, "during the clean-up") {
		t.Fatalf("scenario check: %+v", c)
	}
	if !run.Failed() {
		t.Error("a run stopped in its clean-up passes")
	}
	for _, l := range run.Readiness() {
		if l.IdP && l.Ready() {
			t.Errorf("a run stopped in its clean-up reads %q", l.String())
		}
	}
	if !strings.Contains(strings.Join(run.Notes, "\n"), "interrupted (context canceled) during the clean-up") {
		t.Errorf("no note says the run was stopped: %q", run.Notes)
	}
	// Every other check kept the verdict it had: the phases all ran.
	for _, ch := range run.Checks {
		if ch.ID != c.ID && ch.Verdict.Failing() {
			t.Errorf("%s %s: %s", ch.ID, ch.Verdict, ch.Reason)
		}
	}
	if n := countOn(t, l.BaseURL, l.Token, "Users"); n != 0 || len(run.Orphans) > 0 {
		t.Errorf("the clean-up stopped: %d users left, orphans %v", n, run.Orphans)
	}
}

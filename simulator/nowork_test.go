package simulator

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
)

// TestNoWorkVerdict: a step the run gave nothing to do is skipped when
// every earlier step passed (the directory was too small for it), and an
// error naming the first earlier step that did not pass otherwise; a step
// after it is unaffected by steps that come later.
func TestNoWorkVerdict(t *testing.T) {
	p, err := idp.LoadIdP("okta")
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(r *recorder, step idp.Step) reports.Check { t.Helper(); return recorded(t, r, step) }

	clean := newRecorder(p, nil)
	clean.record(idp.StepCreateUser, nil, "")
	clean.noWork(idp.StepDeleteUser, "no user to delete", false)
	if c := verdict(clean, idp.StepDeleteUser); c.Verdict != reports.Skipped || c.Reason != "no user to delete" {
		t.Errorf("after passing steps: %s %q, want skipped", c.Verdict, c.Reason)
	}

	failed := newRecorder(p, nil)
	failed.record(idp.StepCreateUser, nil, "POST /Users answered 500")
	failed.record(idp.StepRenameGroup, nil, "later step")
	failed.noWork(idp.StepDeleteUser, "no user to delete", false)
	c := verdict(failed, idp.StepDeleteUser)
	if c.Verdict != reports.Error || !strings.Contains(c.Reason, p.CheckID(idp.StepCreateUser)) || !strings.Contains(c.Reason, "no user to delete") {
		t.Errorf("after a failed step: %s %q, want an error naming %s", c.Verdict, c.Reason, p.CheckID(idp.StepCreateUser))
	}
	failed.noWork(idp.StepMembers, "no group with members or candidates to churn", false)
	if c := verdict(failed, idp.StepMembers); c.Verdict != reports.Error || !strings.Contains(c.Reason, p.CheckID(idp.StepCreateUser)) {
		t.Errorf("members after a failed create: %s %q", c.Verdict, c.Reason)
	}

	// Nothing to do as the step's normal outcome (initial sync found no
	// user already on the target) is skipped, whatever failed before.
	failed.noWork(idp.StepReactivate, "no user to reactivate: initial sync does so only for users its lookups find already on the target, and they found none", true)
	if c := verdict(failed, idp.StepReactivate); c.Verdict != reports.Skipped || strings.Contains(c.Reason, "did not pass") {
		t.Errorf("a normal no-work after a failed step: %s %q, want skipped", c.Verdict, c.Reason)
	}

	// A later phase that sends the step's requests decides its verdict,
	// whatever an earlier phase with nothing to do said.
	failed.noWork(idp.StepUpdateUser, "no user the lookups found needs an update", false)
	failed.record(idp.StepUpdateUser, nil, "")
	if c := verdict(failed, idp.StepUpdateUser); c.Verdict != reports.Pass {
		t.Errorf("a step that ran after an idle phase: %s %q, want pass", c.Verdict, c.Reason)
	}
	// A step whose requests were never sent because the read before them
	// failed says so, not that it had nothing to do.
	failed.block(idp.StepDeactivate, "no PUT was sent: the read of the user before it failed")
	failed.noWork(idp.StepDeactivate, "no user to deactivate", false)
	if c := verdict(failed, idp.StepDeactivate); c.Verdict != reports.Error || !strings.Contains(c.Reason, "no PUT was sent") {
		t.Errorf("a blocked step: %s %q", c.Verdict, c.Reason)
	}
	// A step the IdP never takes stays skipped, even in a stopped run.
	failed.skip(idp.StepDeleteUser, "okta never deletes users")
	failed.stopped(idp.StepDeleteUser, "not run: the run stopped")
	failed.stopped(idp.StepEndState, "not run: the run stopped")
	if c := verdict(failed, idp.StepDeleteUser); c.Verdict != reports.Skipped || c.Reason != "okta never deletes users" {
		t.Errorf("a step the IdP never takes: %s %q", c.Verdict, c.Reason)
	}
	if c := verdict(failed, idp.StepEndState); c.Verdict != reports.Error || c.Reason != "not run: the run stopped" {
		t.Errorf("a step the run stopped before: %s %q", c.Verdict, c.Reason)
	}
}

// TestInitialSyncLinkStepsAfterFailedLookups: initial sync's update and
// reactivate steps, left with nothing to do, are skipped only when every
// lookup answered; when some lookups failed, the users they would have
// found are unknown, so the steps are errors naming the lookup step.
func TestInitialSyncLinkStepsAfterFailedLookups(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		failed map[int64]bool // which user lookups (1-based) answer 503
		want   reports.Verdict
	}{
		{"every lookup answered", nil, reports.Skipped},
		{"two lookups failed", map[int64]bool{2: true, 5: true}, reports.Error},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lookups atomic.Int64
			target := intercepted(t, func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodGet || !strings.Contains(r.URL.RawQuery, "filter=userName") || !tc.failed[lookups.Add(1)] {
					return false
				}
				w.Header().Set("Content-Type", "application/scim+json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"503","detail":"fault"}`))
				return true
			})
			run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 10, Groups: 2, Seed: 5, Scenario: "initial-sync", Concurrency: 1})
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range []idp.Step{idp.StepUpdateUser, idp.StepReactivate} {
				c := checkOf(t, run, p, step)
				if c.Verdict != tc.want {
					t.Errorf("%s: %s %q, want %s", c.ID, c.Verdict, c.Reason, tc.want)
				}
				if tc.want == reports.Error && (!strings.Contains(c.Reason, "after "+p.CheckID(idp.StepLookupUser)+" did not pass") || !strings.Contains(c.Reason, "2 of the 10 lookups failed")) {
					t.Errorf("%s: %q, want the reason to name the failed lookups", c.ID, c.Reason)
				}
				if tc.want == reports.Error && strings.Contains(c.Reason, "they found none") {
					t.Errorf("%s: %q says the lookups found none", c.ID, c.Reason)
				}
			}
		})
	}
}

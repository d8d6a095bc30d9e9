package simulator

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// checkIDs returns the IDs of a run's checks, in report order.
func checkIDs(run *reports.Run) []string {
	out := make([]string, len(run.Checks))
	for i, c := range run.Checks {
		out[i] = c.ID
	}
	return out
}

// declaredIDs is the check IDs the phases of scenario scen declare for IdP name.
func declaredIDs(t *testing.T, name, scen string) []string {
	t.Helper()
	p, err := idp.LoadIdP(name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadScenario(scen)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, step := range (&runner{idp: p}).scenarioSteps(s.Steps) {
		out = append(out, p.CheckID(step))
	}
	return out
}

// checkReasons fails for a check that does not pass and gives no reason.
func checkReasons(t *testing.T, what string, run *reports.Run) {
	t.Helper()
	for _, c := range run.Checks {
		if c.Verdict != reports.Pass && c.Reason == "" {
			t.Errorf("%s: %s is %s without a reason", what, c.ID, c.Verdict)
		}
	}
}

// TestEveryScenarioListsEveryCheck: whatever the target answers (a strict
// or quirky profile that fails early steps, a target that already holds
// the users, an empty directory), a scenario's report holds one check for
// every step of that scenario, the same IDs as a run on which every step
// can run, each with a verdict and, unless it passed, a reason. An
// interrupted run adds SIM-<IDP>-SCENARIO and keeps the others.
func TestEveryScenarioListsEveryCheck(t *testing.T) {
	for _, name := range idp.Names() {
		for _, scen := range Scenarios() {
			t.Run(name+"/"+scen, func(t *testing.T) {
				t.Parallel()
				simulate := func(l *server.Local, users, groups int) *reports.Run {
					t.Helper()
					run, err := Run(context.Background(), Config{IdP: name, Target: l.BaseURL, Token: l.Token, Users: users, Groups: groups, Seed: 5,
						Scenario: scen, Keep: true, TimeScale: 1e-6})
					if err != nil {
						t.Fatal(err)
					}
					return run
				}
				start := func(prof string, lenient bool) *server.Local {
					t.Helper()
					l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: prof, Lenient: lenient})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Close() })
					return l
				}

				// Every step runs against the lenient reference server.
				l := start("rfc", true)
				full := checkIDs(simulate(l, 8, 3))
				if want := declaredIDs(t, name, scen); !slices.Equal(full, want) {
					t.Fatalf("a run where every step can run lists\n%v\nthe scenario declares\n%v", full, want)
				}
				// The same directory again on the same target: the lookups
				// find every user and group, and link them.
				again := simulate(l, 8, 3)
				if got := checkIDs(again); !slices.Equal(got, full) {
					t.Errorf("against a target that already holds the users: %v, want %v", got, full)
				}
				checkReasons(t, "second run", again)

				for _, prof := range profile.Names() {
					run := simulate(start(prof, false), 8, 3)
					if got := checkIDs(run); !slices.Equal(got, full) {
						t.Errorf("profile %s lists\n%v\nwant\n%v", prof, got, full)
					}
					checkReasons(t, "profile "+prof, run)
				}
				for _, size := range [][2]int{{0, 0}, {0, 3}, {1, 0}} {
					run := simulate(start("rfc", true), size[0], size[1])
					if got := checkIDs(run); !slices.Equal(got, full) {
						t.Errorf("%d users, %d groups: %v, want %v", size[0], size[1], got, full)
					}
					checkReasons(t, "small directory", run)
				}

				// Interrupted during the initial sync.
				ft := faketarget.New(faketarget.Options{})
				srv := httptest.NewServer(ft)
				defer srv.Close()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var sent atomic.Int64
				run, err := Run(ctx, Config{IdP: name, Target: srv.URL + "/scim/v2", Users: 8, Groups: 3, Seed: 5, Scenario: scen, Concurrency: 1, Keep: true,
					trace: func(op string) {
						if !ownOp(op) && sent.Add(1) == 5 {
							cancel()
						}
					}})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("err %v, want context.Canceled", err)
				}
				p, _ := idp.LoadIdP(name)
				want := append(slices.Clone(full), p.CheckID(idp.StepScenario))
				if got := checkIDs(run); !slices.Equal(got, want) {
					t.Errorf("interrupted: %v, want %v", got, want)
				}
				checkReasons(t, "interrupted", run)
				if c := check(run, p.CheckID(idp.StepEndState)); c == nil || c.Verdict != reports.Error || !strings.Contains(c.Reason, "the run stopped") {
					t.Errorf("interrupted: the read-back that never ran is %+v", c)
				}
			})
		}
	}
}

// TestNoWorkReasonsNameTheCause: a step left with nothing to do says why,
// truthfully: against aws-identity-center, which refuses Okta's startIndex,
// no user is provisioned, so nothing can be deactivated or reactivated; the
// directory was not too small.
func TestNoWorkReasonsNameTheCause(t *testing.T) {
	l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: "aws"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 8, Groups: 3, Seed: 1, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"SIM-OKTA-CREATE-USER":  "every lookup before a create failed (see SIM-OKTA-LOOKUP-USER)",
		"SIM-OKTA-CREATE-GROUP": "every lookup before a create failed (see SIM-OKTA-LOOKUP-GROUP)",
		"SIM-OKTA-UPDATE-USER":  "none of the directory's 8 users was provisioned",
		"SIM-OKTA-DEACTIVATE":   "none of the directory's 8 users was provisioned",
		"SIM-OKTA-REACTIVATE":   "no user was deactivated: none of the directory's 8 users was provisioned",
	} {
		c := check(run, id)
		if c == nil {
			t.Errorf("%s is missing", id)
			continue
		}
		if c.Verdict != reports.Error || !strings.Contains(c.Reason, want) || !strings.Contains(c.Reason, "after SIM-OKTA-TEST-CONNECTION did not pass") || strings.Contains(c.Reason, "too small") {
			t.Errorf("%s: %s %q, want an error saying %q", id, c.Verdict, c.Reason, want)
		}
	}
}

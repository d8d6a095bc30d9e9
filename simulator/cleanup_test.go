package simulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// countOn returns totalResults of GET base/kind?count=0.
func countOn(t *testing.T, base, token, kind string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/"+kind+"?count=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		TotalResults int `json:"totalResults"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.TotalResults
}

// verdicts is a run's checks as "ID verdict reason" lines.
func verdicts(run *reports.Run) string {
	var b strings.Builder
	for _, c := range run.Checks {
		b.WriteString(c.ID + " " + string(c.Verdict) + " " + c.Reason + "\n")
	}
	return b.String()
}

// deleteAnswers starts a fake target that answers every DELETE with status
// and deletes nothing, and returns its SCIM base URL.
func deleteAnswers(t *testing.T, status int) string {
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(status)
			return
		}
		ft.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// TestSameSeedTwiceAgainstOneTarget: a run removes what it created, so the
// same simulation run again against the same target passes again, with the
// same checks, instead of colliding with the first run's renamed users and
// groups (409 uniqueness).
func TestSameSeedTwiceAgainstOneTarget(t *testing.T) {
	for _, name := range []string{"okta-oin", "entra"} {
		t.Run(name, func(t *testing.T) {
			l := startReference(t, true)
			cfg := Config{IdP: name, Target: l.BaseURL, Token: l.Token, Users: 30, Groups: 4, Seed: 7}
			var first string
			for pass := 1; pass <= 2; pass++ {
				run, err := Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				if run.Failed() || len(run.Orphans) > 0 {
					t.Fatalf("pass %d: failed %v, orphans %v\n%s", pass, run.Failed(), run.Orphans, verdicts(run))
				}
				if n, m := countOn(t, l.BaseURL, l.Token, "Users"), countOn(t, l.BaseURL, l.Token, "Groups"); n != 0 || m != 0 {
					t.Fatalf("pass %d left %d users and %d groups on the target", pass, n, m)
				}
				if pass == 1 {
					first = verdicts(run)
				} else if got := verdicts(run); got != first {
					t.Errorf("the same seed gave other checks:\nfirst\n%s\nsecond\n%s", first, got)
				}
			}
		})
	}
}

// TestKeepLeavesTheRunsResources: with Keep the target keeps what the run
// created, to be inspected.
func TestKeepLeavesTheRunsResources(t *testing.T) {
	l := startReference(t, true)
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 5, Groups: 2, Seed: 3, Scenario: "initial-sync", Keep: true})
	if err != nil || run.Failed() {
		t.Fatalf("err %v, failed %v", err, run.Failed())
	}
	if n, m := countOn(t, l.BaseURL, l.Token, "Users"), countOn(t, l.BaseURL, l.Token, "Groups"); n != 5 || m != 2 {
		t.Fatalf("the target holds %d users and %d groups, want 5 and 2", n, m)
	}
}

// TestCleanupListsWhatItCannotDelete: resources the target refuses to delete
// are the report's orphans, each with its reason; the clean-up is not a
// check of the target, and its requests are not counted as the IdP's.
func TestCleanupListsWhatItCannotDelete(t *testing.T) {
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: deleteAnswers(t, http.StatusMethodNotAllowed), Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || run.Failed() {
		t.Fatalf("err %v, failed %v", err, run.Failed())
	}
	orphans := run.OrphanList()
	if len(orphans) != 6 || !strings.Contains(orphans[0].URL, "/scim/v2/Groups/") || orphans[0].Reason != "DELETE answered 405" || !strings.Contains(orphans[5].URL, "/scim/v2/Users/") {
		t.Fatalf("orphans %+v, want the 2 groups then the 4 users", orphans)
	}
	for _, op := range run.Operations {
		if ownOp(op.Operation) {
			t.Errorf("the clean-up is counted as IdP traffic: %+v", op)
		}
	}
	if check(run, "SIM-OKTA-"+strings.ToUpper(string(idp.StepDeleteUser))) != nil {
		t.Error("the clean-up shows as a check")
	}
}

// TestCleanupSaysWhenTheTargetKeepsDeletedResources: on a target whose
// DELETE only deactivates, what still reads back after its DELETE is an
// orphan with the reason, and the note says that a later run with the same
// seed meets it.
func TestCleanupSaysWhenTheTargetKeepsDeletedResources(t *testing.T) {
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: deleteAnswers(t, http.StatusNoContent), Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || run.Failed() {
		t.Fatalf("err %v, failed %v", err, run.Failed())
	}
	orphans := run.OrphanList()
	if len(orphans) != 6 {
		t.Fatalf("orphans %+v, want all 6", orphans)
	}
	if len(run.OrphanDetails) != 6 {
		t.Errorf("orphanDetails %+v: each orphan's reason belongs there, not glued to its URL", run.OrphanDetails)
	}
	for _, o := range orphans {
		if o.Reason != "DELETE answered 204, but GET still answers 200 (active=true)" && o.Reason != "DELETE answered 204, but GET still answers 200" {
			t.Errorf("orphan %+v", o)
		}
	}
	notes := strings.Join(run.Notes, "\n")
	for _, want := range []string{"deleted the 0 users and 0 groups", "4 users and 2 groups it created are still on the target", "this target keeps what it deletes", "A later run with the same --seed therefore differs"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// A target that deletes gets no such warning.
	l := startReference(t, true)
	run, err = Run(context.Background(), Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || strings.Contains(strings.Join(run.Notes, "\n"), "keeps what it deletes") || len(run.Orphans) > 0 {
		t.Errorf("err %v, notes %v, orphans %v", err, run.Notes, run.Orphans)
	}
}

// TestCleanupFindsWhatDeactivatingProfilesKeep runs the lifecycle against
// the reference server's profiles whose DELETE only deactivates a user:
// atlassian (then 404 by id, but still listed by userName) and slack (still
// read by id, active=false). Every user the run created, including the one
// the IdP itself deleted, is an orphan with the reason; the groups, which
// both delete, are gone.
func TestCleanupFindsWhatDeactivatingProfilesKeep(t *testing.T) {
	for _, tc := range []struct {
		profile, reason string
		// idpDeleted counts the users found after the IdP's own DELETE. On
		// slack, Entra's re-provisioning brings its deleted user back, so
		// the clean-up deletes it again.
		idpDeleted int
	}{
		{"atlassian", `, but the user is still listed by userName eq "`, 1},
		{"slack", ", but GET still answers 200 (active=false)", 0},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: tc.profile, Lenient: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			run, err := Run(context.Background(), Config{IdP: "entra", Target: l.BaseURL, Token: l.Token, Users: 6, Groups: 2, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			orphans := run.OrphanList()
			idpDeleted := 0
			for _, o := range orphans {
				if !strings.Contains(o.URL, "/Users/") || !strings.Contains(o.Reason, tc.reason) {
					t.Errorf("orphan %+v, want a user with %q", o, tc.reason)
				}
				if strings.HasPrefix(o.Reason, "the IdP's DELETE answered 204") {
					idpDeleted++
				}
			}
			if len(orphans) != 6 || idpDeleted != tc.idpDeleted {
				t.Fatalf("%d orphans (%d the IdP deleted), want the 6 users (%d):\n%+v", len(orphans), idpDeleted, tc.idpDeleted, orphans)
			}
			if n := countOn(t, l.BaseURL, l.Token, "Groups"); n != 0 {
				t.Errorf("%d groups left", n)
			}
			if notes := strings.Join(run.Notes, "\n"); !strings.Contains(notes, "A later run with the same --seed therefore differs") {
				t.Errorf("notes:\n%s", notes)
			}
		})
	}
}

// throttledDeletes starts a fake target that answers the first n DELETEs of
// each resource with 429 and Retry-After: 0 (n < 0: every one), then
// deletes; it returns its SCIM base URL.
func throttledDeletes(t *testing.T, n int) string {
	ft := faketarget.New(faketarget.Options{})
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			mu.Lock()
			seen[r.URL.Path]++
			k := seen[r.URL.Path]
			mu.Unlock()
			if n < 0 || k <= n {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
		}
		ft.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

// TestCleanupRetriesThrottledDeletes: the clean-up waits out a 429 as
// Retry-After asks, also for an IdP that never retries one (Entra); a
// target still throttling after the retries leaves orphans that say so.
func TestCleanupRetriesThrottledDeletes(t *testing.T) {
	run, err := Run(context.Background(), Config{IdP: "entra", Target: throttledDeletes(t, 2), Users: 3, Groups: 1, Seed: 3, Scenario: "initial-sync"})
	if err != nil || run.Failed() || len(run.Orphans) > 0 {
		t.Fatalf("err %v, failed %v, orphans %v", err, run.Failed(), run.Orphans)
	}
	if notes := strings.Join(run.Notes, "\n"); !strings.Contains(notes, "deleted the 3 users and 1 group ") {
		t.Errorf("notes:\n%s", notes)
	}
	run, err = Run(context.Background(), Config{IdP: "entra", Target: throttledDeletes(t, -1), Users: 3, Groups: 1, Seed: 3, Scenario: "initial-sync"})
	if err != nil {
		t.Fatal(err)
	}
	orphans := run.OrphanList()
	if len(orphans) != 4 {
		t.Fatalf("orphans %+v, want all 4", orphans)
	}
	for _, o := range orphans {
		if !strings.HasPrefix(o.Reason, "DELETE: rate limited: the target answered 429 Too Many Requests 10 times") {
			t.Errorf("orphan %+v", o)
		}
	}
}

package simulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
// are the report's orphans; the clean-up is not a check of the target, and
// its requests are not counted as the IdP's.
func TestCleanupListsWhatItCannotDelete(t *testing.T) {
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: deleteAnswers(t, http.StatusMethodNotAllowed), Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || run.Failed() {
		t.Fatalf("err %v, failed %v", err, run.Failed())
	}
	if len(run.Orphans) != 6 || !strings.Contains(run.Orphans[0], "/scim/v2/Groups/") || !strings.Contains(run.Orphans[0], "(DELETE answered 405)") {
		t.Fatalf("orphans %v, want the 2 groups then the 4 users", run.Orphans)
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
// DELETE only deactivates (Slack), the clean-up says that a later run with
// the same seed will meet what this one renamed.
func TestCleanupSaysWhenTheTargetKeepsDeletedResources(t *testing.T) {
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: deleteAnswers(t, http.StatusNoContent), Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || run.Failed() {
		t.Fatalf("err %v, failed %v", err, run.Failed())
	}
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, "deleted the 4 users and 2 groups") || !strings.Contains(notes, "this target keeps deleted resources") || !strings.Contains(notes, "GET Users/") {
		t.Errorf("notes:\n%s", notes)
	}
	// A target that deletes gets no such warning.
	l := startReference(t, true)
	run, err = Run(context.Background(), Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 4, Groups: 2, Seed: 3, Scenario: "initial-sync"})
	if err != nil || strings.Contains(strings.Join(run.Notes, "\n"), "keeps deleted") {
		t.Errorf("err %v, notes %v", err, run.Notes)
	}
}

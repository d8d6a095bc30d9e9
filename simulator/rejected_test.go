package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// rewritten starts a fake target whose answers go through edit before they
// are sent: edit gets the request, its body, and the fake's status and
// decoded body, and returns what to send instead (a nil body sends none;
// drop closes the connection without an answer, after the fake acted). It
// returns the fake and the SCIM base URL.
func rewritten(t *testing.T, edit func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool)) (*faketarget.Target, string) {
	t.Helper()
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		ft.ServeHTTP(rec, r)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		status, body, drop := edit(r, rec.Code, body)
		if drop {
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(status)
		if body != nil {
			_ = json.NewEncoder(w).Encode(body)
		}
	}))
	t.Cleanup(srv.Close)
	return ft, srv.URL + "/scim/v2"
}

// holds returns how many users and groups ft holds.
func holds(t *testing.T, ft *faketarget.Target) (users, groups int) {
	t.Helper()
	count := func(kind string) int {
		rec := httptest.NewRecorder()
		ft.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/scim/v2/"+kind+"?count=0", nil))
		var l struct{ TotalResults int }
		if err := json.Unmarshal(rec.Body.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		return l.TotalResults
	}
	return count("Users"), count("Groups")
}

func isCreate(r *http.Request) bool {
	return r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/Users") || strings.HasSuffix(r.URL.Path, "/Groups"))
}

// TestCleanupRemovesWhatRejectedCreatesMade: a create whose answer the IdP
// rejects (200 for 201, active as the string "True") still made the
// resource. The clean-up removes every one of them, its note counts them,
// and the end-state check judges what the target holds rather than
// calling them never provisioned.
func TestCleanupRemovesWhatRejectedCreatesMade(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	ft, target := rewritten(t, func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool) {
		if a, ok := body["active"].(bool); ok && a {
			body["active"] = "True"
		}
		if isCreate(r) && status == http.StatusCreated {
			status = http.StatusOK
		}
		return status, body, false
	})
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 6, Groups: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if u, g := holds(t, ft); u != 0 || g != 0 {
		t.Errorf("the target still holds %d users and %d groups after the clean-up:\n%s", u, g, strings.Join(run.Notes, "\n"))
	}
	if o := run.OrphanList(); len(o) != 0 {
		t.Errorf("orphans %v", o)
	}
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, "clean-up: deleted the 6 users and 2 groups this run created") {
		t.Errorf("clean-up note does not count what was created:\n%s", notes)
	}
	if c := checkOf(t, run, p, idp.StepCreateUser); c.Verdict != reports.Fail || !strings.Contains(c.Reason, "answered 200") {
		t.Errorf("create: %s %q, want a failure for the 200", c.Verdict, c.Reason)
	}
	c := checkOf(t, run, p, idp.StepEndState)
	if strings.Contains(c.Reason, "never provisioned") || !strings.Contains(c.Reason, `active is "\"True\""`) {
		t.Errorf("end state: %s %q, want it to judge the users the target holds (active as a string)", c.Verdict, c.Reason)
	}
}

// TestCleanupSweepsCreatesWithoutAnAnswer: a create that got no answer, or
// an answer without an id, may have made the resource; the clean-up looks
// it up by userName or displayName, as the IdP would, and deletes what it
// finds. The end-state check reads it back the same way.
func TestCleanupSweepsCreatesWithoutAnAnswer(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	var creates atomic.Int64
	ft, target := rewritten(t, func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool) {
		if !isCreate(r) || status != http.StatusCreated {
			return status, body, false
		}
		switch creates.Add(1) {
		case 2:
			return 0, nil, true // stored, but the connection closes
		case 3:
			return http.StatusCreated, nil, false // stored, answered with no body
		}
		return status, body, false
	})
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 4, Groups: 1, Seed: 5, Scenario: "initial-sync", Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if u, g := holds(t, ft); u != 0 || g != 0 {
		t.Errorf("the target still holds %d users and %d groups after the clean-up:\n%s", u, g, strings.Join(run.Notes, "\n"))
	}
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, "deleted the 4 users and 1 group ") || !strings.Contains(notes, "2 creates got no usable answer") {
		t.Errorf("clean-up note:\n%s", notes)
	}
	if c := checkOf(t, run, p, idp.StepEndState); c.Verdict != reports.Pass {
		t.Errorf("end state: %s %q, want pass: the target holds every user as pushed", c.Verdict, c.Reason)
	}
}

// TestCleanupLeavesLinkedUsers: a user the IdP's lookup found and linked
// was on the target before the run; a sweep by the name of a create that
// got no answer (here the case twin's, which matches it ignoring case)
// never deletes it.
func TestCleanupLeavesLinkedUsers(t *testing.T) {
	var drop atomic.Bool
	ft, target := rewritten(t, func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool) {
		return status, body, drop.Load() && isCreate(r) && status == http.StatusConflict
	})
	// The directory's first user is on the target before the run.
	if _, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 1, Seed: 8, Scenario: "initial-sync", Keep: true}); err != nil {
		t.Fatal(err)
	}
	if u, _ := holds(t, ft); u != 1 {
		t.Fatalf("setup: %d users", u)
	}
	drop.Store(true)
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 1, Seed: 8, Scenario: writeScenario(t, "initial-sync", "edge-cases")})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(run.Notes, "\n")
	if !strings.Contains(notes, "1 create got no usable answer") {
		t.Errorf("the case twin's unanswered create was not looked up:\n%s", notes)
	}
	if u, _ := holds(t, ft); u != 1 {
		t.Errorf("the clean-up deleted the user the IdP linked, or left the long-name users (%d left):\n%s", u, notes)
	}
}

// TestCreateAnswersTracked: every create answer with an id is the run's,
// whatever its status, except a 409, whose id names what was there before.
func TestCreateAnswersTracked(t *testing.T) {
	post := idp.Request{Method: http.MethodPost, Path: "/Users", Body: []byte(`{"userName":"ana"}`)}
	for _, tc := range []struct {
		status       int
		body         string
		owned, swept bool
	}{
		{201, `{"id":"a","userName":"ana","active":"True"}`, true, false},
		{200, `{"id":"a","userName":"ana"}`, true, false},
		{500, `{"id":"a"}`, true, false},
		{409, `{"id":"a","userName":"ana"}`, false, false},
		{201, ``, false, true},
		{201, `<html>`, false, true},
		{503, `{"status":"503"}`, false, true},
		{400, `{"status":"400"}`, false, false},
	} {
		l := newLedger()
		l.observe(post, &response{status: tc.status, body: []byte(tc.body)})
		if owned := len(l.remaining()) == 1; owned != tc.owned {
			t.Errorf("%d %s: owned %v, want %v", tc.status, tc.body, owned, tc.owned)
		}
		if swept := len(l.unsureCreates()) == 1; swept != tc.swept {
			t.Errorf("%d %s: looked up by name %v, want %v", tc.status, tc.body, swept, tc.swept)
		}
		if tc.owned && l.name(resourceRef{kind: "Users", id: "a"}) != "ana" {
			t.Errorf("%d %s: name %q", tc.status, tc.body, l.name(resourceRef{kind: "Users", id: "a"}))
		}
	}
}

// TestImportFindsWhatTotalResultsHides: a totalResults that counts only the
// page stops Okta's import after one page; the import check names the
// users it never saw.
func TestImportFindsWhatTotalResultsHides(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	_, target := rewritten(t, func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool) {
		if rs, ok := body["Resources"].([]any); ok && r.URL.Query().Get("filter") == "" {
			body["totalResults"] = len(rs)
		}
		return status, body, false
	})
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 130, Groups: 1, Seed: 2, Scenario: writeScenario(t, "initial-sync", "import")})
	if err != nil {
		t.Fatal(err)
	}
	c := checkOf(t, run, p, idp.StepImport)
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "listed 100 of the 130 users this run provisioned; missing ") || !strings.Contains(c.Reason, "and 27 more") {
		t.Errorf("import: %s %q, want a failure naming the 30 users it never saw", c.Verdict, c.Reason)
	}
}

// TestImportFindsIgnoredStartIndex: a target that ignores startIndex
// serves the first page again; the import check says so, naming the id
// listed twice, and never passes.
func TestImportFindsIgnoredStartIndex(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodGet && q.Get("filter") == "" && q.Has("startIndex") {
			start := q.Get("startIndex")
			q.Del("startIndex")
			r.URL.RawQuery = q.Encode()
			rec := httptest.NewRecorder()
			ft.ServeHTTP(rec, r)
			var body map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			body["startIndex"], _ = strconv.Atoi(start)
			w.Header().Set("Content-Type", "application/scim+json")
			_ = json.NewEncoder(w).Encode(body)
			return
		}
		ft.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 130, Groups: 1, Seed: 2, Scenario: writeScenario(t, "initial-sync", "import")})
	if err != nil {
		t.Fatal(err)
	}
	c := checkOf(t, run, p, idp.StepImport)
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "is on page 1 and again on page 2 of /Users") {
		t.Errorf("import: %s %q, want a failure for the page served twice", c.Verdict, c.Reason)
	}
}

// TestImportSaysActiveIsAString: the first user's active as the string
// "True" is named as such, not as missing.
func TestImportSaysActiveIsAString(t *testing.T) {
	p, err := idp.LoadIdP("okta-oin")
	if err != nil {
		t.Fatal(err)
	}
	_, target := rewritten(t, func(r *http.Request, status int, body map[string]any) (int, map[string]any, bool) {
		if rs, ok := body["Resources"].([]any); ok {
			for _, it := range rs {
				if o, ok := it.(map[string]any); ok && o["active"] == true {
					o["active"] = "True"
				}
			}
		}
		return status, body, false
	})
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: target, Users: 2, Groups: 1, Seed: 2, Scenario: writeScenario(t, "initial-sync", "import")})
	if err != nil {
		t.Fatal(err)
	}
	c := checkOf(t, run, p, idp.StepImport)
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, `has active as the string "True", not a JSON boolean`) || strings.Contains(c.Reason, "lacks active") {
		t.Errorf("import: %s %q", c.Verdict, c.Reason)
	}
}

// writeScenario writes a scenario file of steps and returns its path.
func writeScenario(t *testing.T, steps ...string) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("name: test\nsteps:\n")
	for _, s := range steps {
		b.WriteString("  - " + s + "\n")
	}
	path := t.TempDir() + "/scenario.yaml"
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

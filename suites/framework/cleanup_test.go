package framework

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/leftover"
	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// TestCleanupContextOutlivesTheFirstInterrupt: the first interrupt cancels
// the clean-up node's context; the clean-up's own context goes on, until a
// second interrupt (or its time limit) ends it.
func TestCleanupContextOutlivesTheFirstInterrupt(t *testing.T) {
	prev := interrupts
	interrupts = newInterruptWatch()
	t.Cleanup(func() { interrupts = prev })

	node, interrupt := context.WithCancelCause(context.Background())
	ctx, cancel := cleanupContext(node, time.Hour)
	defer cancel()
	if _, ok := ctx.Deadline(); !ok {
		t.Error("the clean-up context has no time limit")
	}
	interrupts.count()
	interrupt(errors.New("Interrupted by User"))
	if err := ctx.Err(); err != nil {
		t.Fatalf("the first interrupt ended the clean-up: %v", err)
	}
	interrupts.count()
	<-ctx.Done()
	if cause := context.Cause(ctx); !errors.Is(cause, errSecondInterrupt) {
		t.Errorf("the clean-up ended with %v, want the second interrupt", cause)
	}
}

// localTarget makes an in-process reference server the run's target, with
// run id r1, sending authorization (empty: the server's own token), until
// the test ends; then the clean-up's state is reset.
func localTarget(t *testing.T, authorization string) *server.Local {
	t.Helper()
	l, err := server.StartLocal(context.Background(), server.LocalOptions{DataDSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	if authorization == "" {
		authorization = "Bearer " + l.Token
	}
	prev := target
	target = &Target{BaseURL: l.BaseURL, Authorization: authorization, RunID: "r1", RequestTimeout: time.Minute, Caps: &Capabilities{}}
	t.Cleanup(func() {
		target = prev
		unanswered.take()
		registered = resourceSet{}
		orphanMu.Lock()
		orphans = nil
		orphanMu.Unlock()
		l.Close()
	})
	return l
}

// TestUnansweredCreatesAreSwept: a user or group whose create got no answer
// (a POST to /Users, /Groups or /Bulk) is found by its name and removed at
// the end, unless a Cleanup already has it; what is not the run's is never
// touched.
func TestUnansweredCreatesAreSwept(t *testing.T) {
	l := localTarget(t, "")
	ctx := context.Background()
	c := NewClient()
	create := func(endpoint string, doc map[string]any) string {
		t.Helper()
		resp := c.Post(ctx, endpoint, doc)
		if resp.Status != http.StatusCreated {
			t.Fatalf("POST %s: %s", endpoint, resp.Summary())
		}
		return resp.Doc().ID()
	}
	user := func(name string) map[string]any {
		return map[string]any{"schemas": []string{scim.UserSchema}, "userName": name}
	}
	group := func(name string) map[string]any {
		return map[string]any{"schemas": []string{scim.GroupSchema}, "displayName": name}
	}
	// What the target created though the run never got the answer.
	lostUser := create("/Users", user("scimlab-r1-u-001@example.com"))
	lostBulkUser := create("/Users", user("scimlab-r1-blk-002@example.com"))
	lostGroup := create("/Groups", group("scimlab-r1-g-003"))
	// What the sweep must leave: another's user, another run's, and one
	// whose Cleanup is registered.
	others := create("/Users", user("someone.else@example.com"))
	otherRun := create("/Users", user("scimlab-r2-u-001@example.com"))
	cleaned := create("/Users", user("scimlab-r1-u-004@example.com"))
	registered.add("/Users/" + cleaned)

	lost := errors.New(`Post "…": Interrupted by User`)
	body := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	noteUnanswered(http.MethodPost, l.BaseURL+"/Users", body(user("scimlab-r1-u-001@example.com")), lost)
	noteUnanswered(http.MethodPost, l.BaseURL+"/Users", body(user("scimlab-r1-u-004@example.com")), lost)
	noteUnanswered(http.MethodPost, l.BaseURL+"/Users", body(user("scimlab-r2-u-001@example.com")), lost)
	noteUnanswered(http.MethodPost, l.BaseURL+"/Users?attributes=id", body(user("scimlab-r1-u-005@example.com")), lost) // never created
	noteUnanswered(http.MethodPost, l.BaseURL+"/Users", body(user("someone.else@example.com")), nil)                    // answered
	bulkData := func(v any) json.RawMessage { return body(v) }
	noteUnanswered(http.MethodPost, l.BaseURL+"/Bulk", body(scim.BulkRequest{Schemas: []string{scim.BulkRequestSchema}, Operations: []scim.BulkOperation{
		{Method: "POST", Path: "/Users", BulkID: "a", Data: bulkData(user("scimlab-r1-blk-002@example.com"))},
		{Method: "POST", Path: "/Groups", BulkID: "b", Data: bulkData(group("scimlab-r1-g-003"))},
		{Method: "DELETE", Path: "/Users/" + others},
	}}), lost)

	sweepUnanswered(ctx, c)

	for path, gone := range map[string]bool{
		"/Users/" + lostUser: true, "/Users/" + lostBulkUser: true, "/Groups/" + lostGroup: true,
		"/Users/" + others: false, "/Users/" + otherRun: false, "/Users/" + cleaned: false,
	} {
		resp := c.Get(ctx, path)
		if got := resp.Status == http.StatusNotFound; got != gone {
			t.Errorf("%s: %s; want it gone: %v", path, resp.Summary(), gone)
		}
	}
	if o := Orphans(); len(o) != 0 {
		t.Errorf("orphans %+v, want none", o)
	}
	if left := unanswered.take(); len(left) != 0 {
		t.Errorf("the sweep left %+v", left)
	}
}

// TestUnansweredCreateThatCannotBeLookedUpIsAnOrphan: when the lookup by
// name fails, the resource may be on the target: it is an orphan at the
// lookup's URL, with why.
func TestUnansweredCreateThatCannotBeLookedUpIsAnOrphan(t *testing.T) {
	l := localTarget(t, "Bearer wrong") // every request of the sweep is refused
	noteUnanswered(http.MethodPost, l.BaseURL+"/Groups", []byte(`{"displayName":"scimlab-r1-g-001"}`), errors.New("connection reset"))
	sweepUnanswered(context.Background(), NewClient())
	o := Orphans()
	if len(o) != 1 || !strings.Contains(o[0].URL, "/Groups?filter=displayName%20eq%20%22scimlab-r1-g-001%22") ||
		!strings.Contains(o[0].Reason, `the create of the group "scimlab-r1-g-001" got no answer (connection reset)`) ||
		!strings.Contains(o[0].Reason, "the lookup by displayName failed") {
		t.Errorf("orphans %+v", o)
	}
}

// TestCreatedPath: the answer to a create names the new resource by the id
// in its body, or else by its Location, whatever its status; an answer that
// names none (a SCIM error, an empty 200) gives "".
func TestCreatedPath(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		loc    string
		want   string
	}{
		{201, `{"id":"a1","userName":"x"}`, "", "/Users/a1"},
		{200, `{"id":"a b","userName":"x"}`, "", "/Users/a%20b"},
		{200, ``, "https://t.example/scim/v2/Users/z9", "/Users/z9"},
		{202, `not json`, "https://t.example/scim/v2/Groups/z9", ""},
		{409, `{"schemas":["` + scim.ErrorSchema + `"],"status":"409"}`, "", ""},
		{200, `{}`, "", ""},
	} {
		r := &Response{Status: tc.status, Body: []byte(tc.body), Header: http.Header{}}
		if tc.loc != "" {
			r.Header.Set("Location", tc.loc)
		}
		if got := createdPath(leftover.Users, r); got != tc.want {
			t.Errorf("status %d body %q Location %q: createdPath = %q, want %q", tc.status, tc.body, tc.loc, got, tc.want)
		}
	}
}

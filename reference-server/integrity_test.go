package server

import (
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
)

// everyBackend runs fn against each store of backends and, when
// SCIMLAB_TEST_POSTGRES names a server, against PostgreSQL too.
func everyBackend(t *testing.T, fn func(t *testing.T, open func(testing.TB) store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		fn(t, func(tb testing.TB) store.Store {
			st, err := postgres.Open(dsn)
			if err != nil {
				tb.Fatalf("postgres.Open: %v", err)
			}
			return st
		})
	})
}

// raceMemberDelete makes the server delete user uid between the check of a
// new group's members and the group's insert: the hook starts the DELETE
// and gives it a moment to finish. Where the check and the insert share a
// transaction the DELETE cannot finish before the insert and waits for it
// (the moment passes; the outcome does not depend on its length); where
// they did not, it finished and the group was created with a member whose
// user was gone. It returns a wait for the DELETE's status.
func raceMemberDelete(e *env, uid string) (wait func() int) {
	var once sync.Once
	done := make(chan int, 1)
	e.srv.hookMembersChecked = func() {
		once.Do(func() {
			go func() { done <- e.do("DELETE", "/Users/"+uid, nil).Status }()
			select {
			case st := <-done:
				done <- st
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
	return func() int { return <-done }
}

// checkNoDanglingMember checks that no group lists uid, a deleted user.
func checkNoDanglingMember(t *testing.T, e *env, uid string) {
	t.Helper()
	gs, total, err := e.st.List(t.Context(), store.Query{Type: "Group", HasMember: uid, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 0 {
		t.Fatalf("%d groups still list deleted user %s as a member (first: %s)", total, uid, gs[0].ID)
	}
}

// A group created with a member racing the member's DELETE either fails as
// for an unknown member or ends up without it: never a membership of a
// user that is gone.
func TestGroupCreateRacesMemberDelete(t *testing.T) {
	everyBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnvOn(t, open(t))
		uid := e.createUser("racer")["id"].(string)
		wait := raceMemberDelete(e, uid)
		r := e.do("POST", "/Groups", groupBody("Racers", uid))
		if st := wait(); st != 204 {
			t.Fatalf("DELETE user: status %d", st)
		}
		switch r.Status {
		case 201:
			g := e.must(200, "GET", "/Groups/"+r.obj()["id"].(string), nil).obj()
			if ms := memberValues(g); len(ms) != 0 {
				t.Errorf("group created with member %v whose user was deleted", ms)
			}
		default:
			wantError(t, r, 400, scim.InvalidValue)
		}
		checkNoDanglingMember(t, e, uid)
	})
}

// The same race through /Bulk: a bulk POST of a group runs the same create.
func TestBulkGroupCreateRacesMemberDelete(t *testing.T) {
	everyBackend(t, func(t *testing.T, open func(testing.TB) store.Store) {
		e := newEnvOn(t, open(t))
		uid := e.createUser("racer")["id"].(string)
		wait := raceMemberDelete(e, uid)
		r := e.must(200, "POST", "/Bulk", map[string]any{
			"schemas": []any{scim.BulkRequestSchema},
			"Operations": []any{map[string]any{
				"method": "POST", "path": "/Groups", "bulkId": "g",
				"data": groupBody("Racers", uid),
			}},
		})
		if st := wait(); st != 204 {
			t.Fatalf("DELETE user: status %d", st)
		}
		ops, _ := r.obj()["Operations"].([]any)
		if len(ops) != 1 {
			t.Fatalf("bulk response: %s", r)
		}
		if st := ops[0].(map[string]any)["status"]; st != "201" && st != "400" {
			t.Fatalf("bulk group create: status %v (%s)", st, r)
		}
		checkNoDanglingMember(t, e, uid)
	})
}

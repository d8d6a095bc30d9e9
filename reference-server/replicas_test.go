package server

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
)

// TestReplicasShareOnePostgres runs two servers on one PostgreSQL database,
// as replicas behind a load balancer do: a token made through one is
// accepted by the other; what one writes the other reads at once (neither
// serves from a read cache, which is only right for a sole writer); a
// userName taken through one is a 409 through the other; and member adds to
// one group sent through both at once all land (idp-traffic.md B19: lost
// concurrent group PATCHes).
func TestReplicasShareOnePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() store.Store {
		st, err := postgres.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// Cached tokens are trusted for an hour: only the auth epoch can make a
	// revocation through one replica reach the other (below).
	longCache := func(_ *profile.Profile, c *Config) { c.TokenCacheTTL = time.Hour }
	a := newEnvOn(t, open(), infoLogs, longCache)
	b := newEnvOn(t, open(), infoLogs, longCache)
	if a.srv.cache != nil || b.srv.cache != nil {
		t.Fatal("a server on PostgreSQL keeps a read cache; replicas would serve stale resources")
	}
	bWithA := *b
	bWithA.token = a.token // a token created through replica a, used on replica b

	u := a.createUser("replica@example.test")
	id := u["id"].(string)
	got := bWithA.must(200, "GET", "/Users/"+id, nil).obj()
	if got["userName"] != "replica@example.test" {
		t.Fatalf("replica b read %v", got)
	}
	// Warm any per-server state on a, then change the user through b.
	a.must(200, "GET", "/Users/"+id, nil)
	b.must(200, "PATCH", "/Users/"+id, patchBody(op("replace", "active", false)))
	if got := a.must(200, "GET", "/Users/"+id, nil).obj(); got["active"] != false {
		t.Fatalf("replica a still reads active=%v after replica b's PATCH", got["active"])
	}
	if r := a.must(200, "GET", "/Users/"+id, nil); r.Header.Get("ETag") != b.must(200, "GET", "/Users/"+id, nil).Header.Get("ETag") {
		t.Fatal("the replicas disagree on the ETag")
	}
	wantError(t, b.do("POST", "/Users", userBody("REPLICA@example.test")), 409, scim.Uniqueness)

	const n = 24
	ids := make([]string, n)
	for i := range ids {
		ids[i] = a.createUser(fmt.Sprintf("member-%d@example.test", i))["id"].(string)
	}
	gid := b.createGroup("replicated")["id"].(string)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := a
			if i%2 == 1 {
				e = b
			}
			statuses[i] = e.do("PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": ids[i]}}))).Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 && s != 204 {
			t.Errorf("member add %d through replica %c: status %d", i, "ab"[i%2], s)
		}
	}
	g := a.must(200, "GET", "/Groups/"+gid, nil).obj()
	if ms, _ := g["members"].([]any); len(ms) != n {
		t.Fatalf("the group has %d members after %d concurrent adds through two replicas, want %d", len(ms), n, n)
	}

	// A user read by id shows its group (read with it in one statement on
	// PostgreSQL, store.GetWithGroups).
	if gs, _ := b.must(200, "GET", "/Users/"+ids[1], nil).obj()["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["value"] != gid {
		t.Errorf("GET of a member through replica b: groups %v, want the one group", gs)
	}

	// A lookup, a page and a filtered page of users show each one's groups:
	// on PostgreSQL read in a page's own statement (store.Query.WithGroups),
	// for a filtered page with one more statement for the whole page
	// (store.GroupsOfMany), and for a lookup with GroupsOf.
	if gs, _ := b.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "member-1@example.test"`), nil).obj()["Resources"].([]any)[0].(map[string]any)["groups"].([]any); len(gs) != 1 || gs[0].(map[string]any)["value"] != gid {
		t.Errorf("a userName eq lookup through replica b: groups %v, want the one group", gs)
	}
	for _, q := range []string{"/Users?count=100", "/Users?count=100&filter=" + url.QueryEscape(`userName sw "member-"`)} {
		inGroup := 0
		page := b.must(200, "GET", q, nil).obj()
		for _, r := range page["Resources"].([]any) {
			u := r.(map[string]any)
			gs, _ := u["groups"].([]any)
			switch {
			case len(gs) == 1 && gs[0].(map[string]any)["value"] == gid && gs[0].(map[string]any)["display"] == "replicated":
				inGroup++
			case len(gs) != 0:
				t.Errorf("%s: user %v: groups %v", q, u["userName"], gs)
			}
		}
		if inGroup != n {
			t.Errorf("%s: %d users on the page show the group, want %d", q, inGroup, n)
		}
	}

	// Each replica's /metrics shows its PostgreSQL connection pool.
	m := string(a.must(200, "GET", "/metrics", nil).Body)
	for _, want := range []string{"scimlab_store_pool_max_connections ", `scimlab_store_pool_connections{state="idle"} `, "scimlab_store_pool_empty_acquires_total "} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	// Replica a created n users among its requests: a store call each at least.
	if got := metricValue(t, m, "scimlab_store_pool_acquires_total"); got < n {
		t.Errorf("scimlab_store_pool_acquires_total = %v after replica a created %d users", got, n)
	}
	if strings.Contains(m, "scimlab_store_wal_syncs_total") {
		t.Error("/metrics on PostgreSQL shows the SQLite writer's series")
	}

	a.must(204, "DELETE", "/Users/"+ids[0], nil)
	wantError(t, b.do("GET", "/Users/"+ids[0], nil), 404, "")
	g = b.must(200, "GET", "/Groups/"+gid, nil).obj()
	if ms, _ := g["members"].([]any); len(ms) != n-1 {
		t.Fatalf("after deleting a member through replica a, replica b sees %d members, want %d", len(ms), n-1)
	}

	// A token revoked through replica a is refused by replica b, which had
	// just verified and cached it: b's store hears of the change through
	// LISTEN/NOTIFY (store.AuthEpoch), rather than when its cache entry ages out.
	bWithA.must(200, "GET", "/Users?count=1", nil)
	tok, err := a.st.TokenByHash(t.Context(), auth.Hash(a.token))
	if err != nil {
		t.Fatal(err)
	}
	tok.Revoked = time.Now()
	if err := a.st.PutToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	for i := 0; bWithA.do("GET", "/Users?count=1", nil).Status != 401; i++ {
		if i == 6000 {
			t.Fatal("replica b still accepts a token revoked through replica a after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

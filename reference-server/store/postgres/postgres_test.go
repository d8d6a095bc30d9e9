package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
	"github.com/scimlab/scimlab/reference-server/store/storetest"
)

// open opens a store on dsn, closed when the test ends.
func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// withParam returns dsn with a query parameter set.
func withParam(t testing.TB, dsn, k, v string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("bad DSN")
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestConformance(t *testing.T) {
	pgtest.DSN(t) // skip the whole suite, not each subtest, without a server
	storetest.Run(t, func(t *testing.T) store.Store {
		// Small pools: the suite's subtests run in parallel, each with a
		// store of its own, against one server's connection limit.
		return open(t, withParam(t, pgtest.DSN(t), "pool_max_conns", "4"))
	})
}

// onBoth runs n calls of fn at once, call i on store a when i is even and
// on b when it is odd (two replicas), and returns their errors.
func onBoth(n int, a, b *postgres.Store, fn func(i int, s *postgres.Store) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() { errs[i] = fn(i, s) })
	}
	wg.Wait()
	return errs
}

// noErrs fails the test on the first error.
func noErrs(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func user(id, name string) *store.Resource {
	return &store.Resource{Type: "User", ID: id, Key: name, Doc: map[string]any{"userName": name}}
}

func group(id, name string) *store.Resource {
	return &store.Resource{Type: "Group", ID: id, Key: name, Doc: map[string]any{"displayName": name}}
}

// TestReplicas runs two stores on one schema, as two reference-server
// processes on one database: each sees the other's writes, and concurrent
// read-modify-writes through both lose nothing.
func TestReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a := open(t, dsn)
	b := open(t, dsn) // the schema is migrated already
	ctx := t.Context()

	if err := a.Create(ctx, user("u1", "alice"), nil); err != nil {
		t.Fatal(err)
	}
	got, err := b.Get(ctx, "User", "u1", false)
	if err != nil || got.Key != "alice" || got.Version != 1 {
		t.Fatalf("b.Get after a.Create = %+v, %v", got, err)
	}
	if _, err := b.Update(ctx, "User", "u1", 1, func(_ store.Tx, r *store.Resource) error {
		r.Doc["nickName"] = "Al"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err = a.Get(ctx, "User", "u1", false)
	if err != nil || got.Version != 2 || got.Doc["nickName"] != "Al" {
		t.Fatalf("a.Get after b.Update = %+v, %v", got, err)
	}
	_, err = a.Update(ctx, "User", "u1", 1, func(store.Tx, *store.Resource) error { return nil })
	if !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("a.Update at a version b replaced: %v, want ErrVersionMismatch", err)
	}

	t.Run("ConcurrentMemberAdds", func(t *testing.T) {
		if err := a.Create(ctx, group("g1", "g1"), nil); err != nil {
			t.Fatal(err)
		}
		const n = 40
		noErrs(t, onBoth(n, a, b, func(i int, s *postgres.Store) error {
			_, err := s.Update(ctx, "Group", "g1", 0, func(tx store.Tx, r *store.Resource) error {
				_, err := tx.AddMembers("g1", []store.Member{{Value: fmt.Sprintf("m%02d", i)}})
				return err
			})
			return err
		}))
		g, err := b.Get(ctx, "Group", "g1", true)
		if err != nil {
			t.Fatal(err)
		}
		if ms, _ := g.Doc["members"].([]any); len(ms) != n || g.Version != n+1 {
			t.Fatalf("%d members, version %d after %d concurrent adds through two stores; want %d, %d", len(ms), g.Version, n, n, n+1)
		}
	})

	t.Run("ConcurrentDocUpdates", func(t *testing.T) {
		const n = 30
		noErrs(t, onBoth(n, a, b, func(i int, s *postgres.Store) error {
			_, err := s.Update(ctx, "User", "u1", 0, func(tx store.Tx, r *store.Resource) error {
				tags, _ := r.Doc["tags"].([]any)
				r.Doc["tags"] = append(tags, fmt.Sprint(i))
				return nil
			})
			return err
		}))
		got, err := a.Get(ctx, "User", "u1", false)
		if err != nil {
			t.Fatal(err)
		}
		if tags, _ := got.Doc["tags"].([]any); len(tags) != n || got.Version != 2+n {
			t.Fatalf("%d tags, version %d after %d concurrent updates through two stores", len(tags), got.Version, n)
		}
	})

	t.Run("CrossGroupUpdates", func(t *testing.T) {
		// Each update changes its own group and the other's, in opposite
		// orders: deadlocks, if any, are retried, and every change lands.
		for _, id := range []string{"x1", "x2"} {
			if err := a.Create(ctx, group(id, id), nil); err != nil {
				t.Fatal(err)
			}
		}
		const n = 20
		noErrs(t, onBoth(n, a, b, func(i int, s *postgres.Store) error {
			self, other := "x1", "x2"
			if i%2 == 1 {
				self, other = "x2", "x1"
			}
			_, err := s.Update(ctx, "Group", self, 0, func(tx store.Tx, r *store.Resource) error {
				if _, err := tx.AddMembers(self, []store.Member{{Value: fmt.Sprintf("s%02d", i)}}); err != nil {
					return err
				}
				_, err := tx.AddMembers(other, []store.Member{{Value: fmt.Sprintf("o%02d", i)}})
				return err
			})
			return err
		}))
		for _, id := range []string{"x1", "x2"} {
			g, err := a.Get(ctx, "Group", id, true)
			if err != nil {
				t.Fatal(err)
			}
			if ms, _ := g.Doc["members"].([]any); len(ms) != n || g.Version != n+1 {
				t.Fatalf("%s: %d members, version %d; want %d, %d", id, len(ms), g.Version, n, n+1)
			}
		}
	})

	t.Run("DeleteMember", func(t *testing.T) {
		if err := a.Create(ctx, user("u9", "nine"), nil); err != nil {
			t.Fatal(err)
		}
		if err := a.Create(ctx, group("g9", "g9"), []store.Member{{Value: "u9"}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, "User", "u9", 0); err != nil {
			t.Fatal(err)
		}
		g, err := a.Get(ctx, "Group", "g9", true)
		if err != nil || g.Version != 2 || g.Doc["members"] != nil {
			t.Fatalf("group after its member was deleted through the other store: %+v, %v", g, err)
		}
	})

	t.Run("SettingOnce", func(t *testing.T) {
		const n = 20
		var won atomic.Int32
		noErrs(t, onBoth(n, a, b, func(i int, s *postgres.Store) error {
			ok, err := s.PutSettingIfAbsent(ctx, "notice/x", fmt.Sprint(i))
			if ok {
				won.Add(1)
			}
			return err
		}))
		if won.Load() != 1 {
			t.Fatalf("%d stores stored the setting, want 1", won.Load())
		}
	})

	t.Run("TouchFlushedAtClose", func(t *testing.T) {
		c, err := postgres.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.PutToken(ctx, store.Token{ID: "tk", Hash: "hk", Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		if err := c.TouchToken(ctx, "tk", at); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		tok, err := a.TokenByHash(ctx, "hk")
		if err != nil || !tok.LastUsed.Equal(at) {
			t.Fatalf("LastUsed through another store after Close = %v, %v; want %v", tok.LastUsed, err, at)
		}
		// An earlier use, through another store, does not move it back.
		if err := b.TouchToken(ctx, "tk", at.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		b2, err := postgres.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := b2.TouchToken(ctx, "tk", at.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := b2.Close(); err != nil {
			t.Fatal(err)
		}
		if tok, err := a.TokenByHash(ctx, "hk"); err != nil || !tok.LastUsed.Equal(at) {
			t.Fatalf("LastUsed = %v, %v after an earlier use; want %v", tok.LastUsed, err, at)
		}
	})
}

// TestReplicaConflicts checks that the database, not a process, enforces
// uniqueness: a Key taken through one store is taken for the other, and of
// concurrent creates of one Key through both, exactly one succeeds.
func TestReplicaConflicts(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := t.Context()
	if err := a.Create(ctx, user("u1", "alice"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, user("u2", "alice"), nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create of a Key taken through the other store: %v, want ErrConflict", err)
	}
	if err := b.Create(ctx, user("u1", "other"), nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Create of an id taken through the other store: %v, want ErrConflict", err)
	}
	if err := b.Create(ctx, user("u3", "carol"), nil); err != nil {
		t.Fatal(err)
	}
	_, err := a.Update(ctx, "User", "u3", 0, func(_ store.Tx, r *store.Resource) error { r.Key = "alice"; return nil })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update to a Key taken through the other store: %v, want ErrConflict", err)
	}
	if err := a.PutToken(ctx, store.Token{ID: "t1", Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutToken(ctx, store.Token{ID: "t2", Hash: "h"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutToken with a hash taken through the other store: %v, want ErrConflict", err)
	}

	const n = 20
	errs := onBoth(n, a, b, func(i int, s *postgres.Store) error {
		return s.Create(ctx, user(fmt.Sprintf("s%d", i), "same"), nil)
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Fatal(err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent creates of one Key through two stores succeeded, want 1", ok)
	}
}

// TestOpenMigrated checks Open on a schema already at the current version,
// and concurrent Opens of a new schema: one migrates, the others wait for
// it and find the schema current, and the version is recorded once.
func TestOpenMigrated(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 6
	var wg sync.WaitGroup
	stores := make(chan *postgres.Store, n)
	for range n {
		wg.Go(func() {
			s, err := postgres.Open(dsn)
			if err != nil {
				t.Error(err)
				return
			}
			stores <- s
		})
	}
	wg.Wait()
	close(stores)
	for s := range stores {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	s := open(t, dsn) // migrated already
	if err := s.Create(t.Context(), user("u1", "alice"), nil); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, top int
	if err := conn.QueryRow(ctx, "SELECT count(*), max(version) FROM scimlab_schema_version").Scan(&rows, &top); err != nil {
		t.Fatal(err)
	}
	if rows != postgres.SchemaVersion || top != postgres.SchemaVersion {
		t.Fatalf("scimlab_schema_version has %d rows up to %d, want %d", rows, top, postgres.SchemaVersion)
	}

	// Opening a current schema needs neither the migration lock nor DDL:
	// it succeeds while another session holds the lock.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", postgres.MigrationLock); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", postgres.MigrationLock) //nolint:errcheck // the connection closes anyway
	opened := make(chan error, 1)
	go func() {
		s, err := postgres.Open(dsn)
		if err == nil {
			err = s.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Open of a current schema waited for the migration lock")
	}
}

// TestOpenNewerSchema checks that a database migrated by a newer scimlab is
// refused rather than used.
func TestOpenNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "INSERT INTO scimlab_schema_version (version) VALUES ($1)", postgres.SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(dsn); err == nil {
		s.Close()
		t.Fatal("Open of a newer schema: no error")
	}
}

// openB opens a store on a new schema for a benchmark; it skips without a server.
func openB(b *testing.B) *postgres.Store { return open(b, pgtest.DSN(b)) }

func BenchmarkCreate(b *testing.B) {
	s := openB(b)
	b.SetParallelism(8) // 8 callers per CPU, as from concurrent HTTP requests
	storetest.BenchCreate(b, s)
}

func BenchmarkGet(b *testing.B)         { storetest.BenchGet(b, openB(b)) }
func BenchmarkGetParallel(b *testing.B) { storetest.BenchGetParallel(b, openB(b)) }
func BenchmarkLookupKey(b *testing.B)   { storetest.BenchLookupKey(b, openB(b)) }
func BenchmarkListMatch(b *testing.B)   { storetest.BenchListMatch(b, openB(b)) }
func BenchmarkAddMemberLargeGroup(b *testing.B) {
	storetest.BenchAddMemberLargeGroup(b, openB(b))
}
func BenchmarkUpdateUser(b *testing.B) { storetest.BenchUpdateUser(b, openB(b)) }

// TestGroupsOfMany: one query answers GroupsOf for many ids alike, in the
// same order, with ids in no group absent.
func TestGroupsOfMany(t *testing.T) {
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := s.Create(ctx, user(id, id), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, group("g1", "Admins"), []store.Member{{Value: "u1"}, {Value: "u2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, group("g2", "Staff"), []store.Member{{Value: "u1"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GroupsOfMany(ctx, []string{"u1", "u2", "u3", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		one, err := s.GroupsOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got[id]) != fmt.Sprint(one) && !(len(one) == 0 && got[id] == nil) {
			t.Errorf("%s: GroupsOfMany %v, GroupsOf %v", id, got[id], one)
		}
	}
	if want := "[{g1 Admins} {g2 Staff}]"; fmt.Sprint(got["u1"]) != want {
		t.Errorf("u1: %v, want %s", got["u1"], want)
	}
	if _, ok := got["u3"]; ok {
		t.Errorf("u3 is in no group but has an entry: %v", got["u3"])
	}
}

// TestGetWithGroups: one statement returns what Get and GroupsOf return.
func TestGetWithGroups(t *testing.T) {
	s := twoUsersOneInTwoGroups(t)
	ctx := context.Background()
	for _, id := range []string{"u1", "u2"} {
		r, groups, err := s.GetWithGroups(ctx, "User", id)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.Get(ctx, "User", id, false)
		if err != nil {
			t.Fatal(err)
		}
		wantGroups, err := s.GroupsOf(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(*r) != fmt.Sprint(*want) {
			t.Errorf("%s: GetWithGroups %+v, Get %+v", id, *r, *want)
		}
		if groups == nil || fmt.Sprint(groups) != fmt.Sprint(wantGroups) {
			t.Errorf("%s: groups %#v, GroupsOf %#v", id, groups, wantGroups)
		}
	}
	if _, g, _ := s.GetWithGroups(ctx, "User", "u1"); fmt.Sprint(g) != "[{g2 Staff} {g1 Admins}]" {
		t.Errorf("u1's groups %v, want them in creation order", g)
	}
	if _, _, err := s.GetWithGroups(ctx, "User", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if _, _, err := s.GetWithGroups(ctx, "Group", "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a User's id as a Group: %v, want ErrNotFound", err)
	}
}

// TestListWithGroups: Query.WithGroups fills each User's Groups on a page
// in the page's own statement, the same as GroupsOf; a Match query, a Key
// lookup and a Group listing leave Groups nil (the caller falls back to
// GroupsOf).
func TestListWithGroups(t *testing.T) {
	s := twoUsersOneInTwoGroups(t)
	ctx := context.Background()
	want := map[string]string{"u1": "[{g2 Staff} {g1 Admins}]", "u2": "[]"}
	for name, q := range map[string]store.Query{
		"page":   {Type: "User", Limit: 10, WithGroups: true},
		"page 2": {Type: "User", Offset: 1, Limit: 1, WithGroups: true},
	} {
		page, _, err := s.List(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(page) == 0 {
			t.Fatalf("%s: an empty page", name)
		}
		for _, r := range page {
			if r.Groups == nil || fmt.Sprint(r.Groups) != want[r.ID] {
				t.Errorf("%s: %s's groups %#v, want %s", name, r.ID, r.Groups, want[r.ID])
			}
		}
	}
	for name, q := range map[string]store.Query{
		"match":     {Type: "User", Limit: -1, WithGroups: true, Match: func(*store.Resource) bool { return true }},
		"lookup":    {Type: "User", Key: "u1", Limit: -1, WithGroups: true},
		"not asked": {Type: "User", Limit: -1},
		"groups":    {Type: "Group", Limit: -1, WithGroups: true},
	} {
		page, _, err := s.List(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, r := range page {
			if r.Groups != nil {
				t.Errorf("%s: %s has Groups %v, want nil", name, r.ID, r.Groups)
			}
		}
	}
}

// twoUsersOneInTwoGroups opens a store holding users u1 and u2 and groups
// g2 "Staff" and g1 "Admins" (created in that order), both with u1 alone.
func twoUsersOneInTwoGroups(t *testing.T) *postgres.Store {
	t.Helper()
	s := open(t, pgtest.DSN(t))
	ctx := context.Background()
	for _, id := range []string{"u1", "u2"} {
		if err := s.Create(ctx, user(id, id), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, group("g2", "Staff"), []store.Member{{Value: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, group("g1", "Admins"), []store.Member{{Value: "u1"}}); err != nil {
		t.Fatal(err)
	}
	return s
}

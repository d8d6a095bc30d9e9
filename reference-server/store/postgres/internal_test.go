package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
	"github.com/scimlab/scimlab/reference-server/store/storetest"
)

// TestOpenErrorsHidePassword needs no server: nothing listens on port 1.
func TestOpenErrorsHidePassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	for _, tc := range []struct{ dsn, secret string }{
		{"postgres://scimlab:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", secret},
		{"postgresql://scimlab@127.0.0.1:1/db?sslmode=disable&password=" + secret + "&connect_timeout=5", secret},
		{"postgres://scimlab:" + secret + "@127.0.0.1:1/db?sslmode=bogus", secret},
		{"postgres://scimlab:" + secret + "@127.0.0.1:notaport/db", secret},
		{"postgres://scimlab:" + secret + "@127.0.0.1:1/db?pool_max_conns=zero", secret},
		{"postgres://scimlab:" + secret + "@[::1/db", secret},
		{"postgres://scimlab:" + secret + "@127.0.0.1:1,127.0.0.1:2/db?connect_timeout=5&sslmode=disable", secret},
		{"postgres://scimlab:" + secret + "@127.0.0.1:1,127.0.0.1:2/db?sslmode=disable&pool_max_conns=x", secret},
		{"postgres://scimlab@127.0.0.1:1,127.0.0.1:2/db?sslmode=disable&password=" + secret + "&pool_max_conns=x", secret},
		// Ambiguous: an unescaped '?' in the password.
		{"postgres://scimlab:s3c?ret-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", "ret-pw"},
		{"host=127.0.0.1 port=1 password=" + secret, secret},
		{"", secret},
	} {
		s, err := Open(tc.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open: no error")
			continue
		}
		if strings.Contains(err.Error(), tc.secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "store/postgres: ") {
			t.Errorf("Open error does not say where it comes from: %v", err)
		}
		t.Log(err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable":         "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgresql://u@h/db?password=pw&sslpassword=k&x=1": "postgresql://u@h/db?password=xxxxx&sslpassword=xxxxx&x=1",
		"postgres://h/db": "postgres://h/db",
		"postgres://u:p%40ss@h/db?search_path=t_0123456789abc": "postgres://u:xxxxx@h/db?search_path=t_0123456789abc",
		"postgres://u:pw@h1:5432,h2:5432/db?password=x":        "postgres://u:xxxxx@h1:5432,h2:5432/db?password=xxxxx",
		"postgres://u:pw@[::1/db?password=x":                   "postgres://xxxxx@[::1/db",
		"postgres://u:pw@[::1/db?options=a@b&password=x":       "postgres://xxxxx@b",
	} {
		got, err := redact(in)
		if err != nil || got != want {
			t.Errorf("redact(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	wrapped := scrub(errors.New("cannot connect to postgres://u:p%40ss@h/db (p@ss)"), "postgres://u:p%40ss@h/db")
	if msg := wrapped.Error(); strings.Contains(msg, "p@ss") || strings.Contains(msg, "p%40ss") {
		t.Errorf("scrub left the password: %s", msg)
	}
}

func TestSchemaVersion(t *testing.T) {
	if SchemaVersion != len(migrations) {
		t.Fatalf("SchemaVersion %d, but %d migrations", SchemaVersion, len(migrations))
	}
}

func TestWhere(t *testing.T) {
	w, args := where(store.Query{Type: "User", Key: "k", MemberOf: "g"})
	if want := " WHERE r.type = $1 AND r.key = $2 AND r.key <> '' AND r.id IN (SELECT value FROM members WHERE group_id = $3)"; w != want {
		t.Errorf("where = %q, want %q", w, want)
	}
	if len(args) != 3 || args[0] != "User" || args[1] != "k" || args[2] != "g" {
		t.Errorf("args = %v", args)
	}
	if w, args := where(store.Query{}); w != "" || args != nil {
		t.Errorf("where of an empty query = %q, %v", w, args)
	}
}

// TestIndexedQueries checks that every lookup the store makes by id, Key,
// ExternalID or member has an index to use: with sequential scans priced
// out, no plan may contain one.
func TestIndexedQueries(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	type q struct {
		sql  string
		args []any
	}
	var qs []q
	for _, query := range []store.Query{
		{Type: "User", ID: "x"},
		{Type: "User", Key: "x"},
		{Type: "User", ExternalID: "x"},
		{Type: "User", MemberOf: "g"},
		{Type: "Group", HasMember: "u"},
		{Type: "User"},
		{ID: "x"},
	} {
		w, args := where(query)
		qs = append(qs, q{selectFrom(withMembers|withGroups) + w + " ORDER BY r.seq", args})
		qs = append(qs, q{pageSQL(w, len(args), withMembers|withGroups), append(args, 10, 20)})
		qs = append(qs, q{"SELECT count(*) FROM resources r" + w, args})
	}
	qs = append(qs,
		q{"SELECT value, type, display FROM members WHERE group_id = $1 ORDER BY pos", []any{"g"}},
		q{`SELECT r.id, r.type, r.doc FROM members m JOIN resources r ON r.id = m.group_id WHERE m.value = $1 ORDER BY r.seq`, []any{"u"}},
		q{"SELECT 1 FROM resources WHERE id IN (SELECT group_id FROM members WHERE value = $1) ORDER BY seq FOR NO KEY UPDATE", []any{"u"}},
		q{"SELECT COALESCE(max(pos), 0) FROM members WHERE group_id = $1", []any{"g"}},
		q{"DELETE FROM members WHERE value = $1", []any{"u"}},
		q{"SELECT id FROM tokens WHERE hash = $1", []any{"h"}},
	)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // EXPLAIN of a DELETE does not run it; rolled back anyway
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		rows, err := tx.Query(ctx, "EXPLAIN "+q.sql, q.args...)
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s\nscans a table:\n%s", q.sql, plan)
		}
	}
}

// TestUnavailable: connection failures and server shutdowns are
// store.ErrUnavailable (a 503 to retry); a statement the database refused
// is not.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin shutdown
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot connect now (starting up)
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "53300"}, true}, // too many connections
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
		{&pgconn.PgError{Code: codeUniqueViolation}, false},
		{&pgconn.PgError{Code: "42P01"}, false}, // undefined table
		{errors.New("some other failure"), false},
	} {
		err := dbErr(ctx, "get", fmt.Errorf("wrapped: %w", tc.err))
		if got := errors.Is(err, store.ErrUnavailable); got != tc.want {
			t.Errorf("%v: unavailable %v, want %v", tc.err, got, tc.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := dbErr(cctx, "get", io.ErrUnexpectedEOF); errors.Is(err, store.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("a call whose context ended: %v; want context.Canceled, not unavailable", err)
	}
}

// TestUnreachableDatabase: when the database goes away under an open store
// (here, the TCP proxy it connects through closes), calls fail with
// store.ErrUnavailable, not a generic error.
func TestUnreachableDatabase(t *testing.T) {
	dsn := pgtest.DSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal("bad DSN")
	}
	upstream := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	u.Host = ln.Addr().String()
	s, err := Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Create(ctx, &store.Resource{Type: "User", ID: "u1", Key: "u1", Doc: map[string]any{}}, nil); err != nil {
		t.Fatal(err)
	}
	ln.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	if _, err := s.Get(ctx, "User", "u1", false); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get with the database gone: %v, want store.ErrUnavailable", err)
	}
	if _, err := s.TokenByHash(ctx, "h"); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("TokenByHash with the database gone: %v, want store.ErrUnavailable", err)
	}
}

// TestPageReadsExtrasForItsRowsOnly: a page deep into a listing reads
// members and groups for the rows on the page, not for every row its
// OFFSET skips (which would make page k cost O(k)).
func TestPageReadsExtrasForItsRowsOnly(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	for i := range 30 {
		id := fmt.Sprintf("u%02d", i)
		if err := s.Create(ctx, &store.Resource{Type: "User", ID: id, Key: id, Doc: map[string]any{"userName": id}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w, args := where(store.Query{Type: "User"})
	rows, err := s.pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+pageSQL(w, len(args), withMembers|withGroups), append(args, 5, 20)...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	aggregates := 0
	for _, l := range lines {
		if strings.Contains(l, "Aggregate") {
			aggregates++
			if !strings.Contains(l, "loops=5)") {
				t.Errorf("an extra is read more often than the page has rows (5):\n%s", strings.Join(lines, "\n"))
			}
		}
	}
	if aggregates != 2 {
		t.Errorf("want two per-row aggregates (members, groups), got %d:\n%s", aggregates, strings.Join(lines, "\n"))
	}
}

// openInternal opens a store on a fresh schema for a test of the package's
// internals.
func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestAuthEpochAcrossReplicas: a token or setting change committed through
// one store reaches another store's auth epoch through LISTEN/NOTIFY;
// while that store's LISTEN connection is down, every read of the epoch
// is new (so a server trusts no cached token then).
func TestAuthEpochAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	if e1, e2 := a.AuthEpoch(), a.AuthEpoch(); e1 == e2 && !a.listen.listening.Load() {
		t.Fatal("the epoch stood still before the LISTEN connection was up")
	}
	waitFor(t, "the LISTEN connection", a.listen.listening.Load)
	for name, change := range map[string]func() error{
		"PutToken":           func() error { return b.PutToken(ctx, store.Token{ID: "t1", Hash: "h1", Name: "t1"}) },
		"PutSetting":         func() error { return b.PutSetting(ctx, "account/x", "inactive") },
		"PutSettingIfAbsent": func() error { _, err := b.PutSettingIfAbsent(ctx, "notice/1", "x"); return err },
	} {
		before := a.AuthEpoch()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, name+" to move the other store's epoch", func() bool { return a.AuthEpoch() != before })
	}
	before := a.AuthEpoch()
	if _, err := b.ListTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, &store.Resource{Type: "User", ID: "u", Key: "u", Doc: map[string]any{"userName": "u"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PutSettingIfAbsent(ctx, "notice/1", "again"); err != nil {
		t.Fatal(err)
	}
	// A notification would have arrived by the time this one does.
	if err := b.PutSetting(ctx, "marker", "x"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker's notification", func() bool { return a.AuthEpoch() != before })
	if got := a.AuthEpoch(); got != before+1 {
		t.Errorf("a read, a resource write and a no-op setting moved the epoch: %d → %d, want one step for the marker", before, got)
	}
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 6000 {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLockTimeoutIsUnavailable: a row lock held elsewhere past the lock
// timeout makes a write fail with store.ErrUnavailable (the server's 503),
// not wait without limit, and it is not retried as a NOWAIT conflict is.
// The timeout is LockTimeout unless the URL sets lock_timeout, as here.
func TestLockTimeoutIsUnavailable(t *testing.T) {
	dsn := pgtest.DSN(t)
	def, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var shown string
	if err := def.pool.QueryRow(t.Context(), "SHOW lock_timeout").Scan(&shown); err != nil {
		t.Fatal(err)
	}
	def.Close()
	if want := fmt.Sprintf("%ds", int(LockTimeout.Seconds())); shown != want {
		t.Errorf("lock_timeout = %q, want %q", shown, want)
	}
	s, err := Open(dsn + "&lock_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	for _, r := range []*store.Resource{
		{Type: "User", ID: "u1", Key: "alice", Doc: map[string]any{"userName": "alice"}},
		{Type: "Group", ID: "g1", Key: "g1", Doc: map[string]any{"displayName": "G1"}},
	} {
		if err := s.Create(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT 1 FROM resources WHERE id IN ('u1', 'g1') FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Update(ctx, "User", "u1", 0, func(store.Tx, *store.Resource) error { return nil })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Update of a locked row: %v, want ErrUnavailable", err)
	}
	if err := s.Delete(ctx, "User", "u1", 0); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Delete of a locked row: %v, want ErrUnavailable", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.AddMembers("g1", []store.Member{{Value: "u2", Type: "User"}})
		return err
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("AddMembers to a locked group: %v, want ErrUnavailable", err)
	}
}

// TestUnstorableValues: what the server's checks would refuse, if it
// reached the database, is store.ErrUnstorable (the server's 400), not a
// bare database error (its 500).
func TestUnstorableValues(t *testing.T) {
	s := openInternal(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	long := make([]byte, 3000) // incompressible: PostgreSQL cannot shrink it under the index limit
	for i := range long {
		long[i] = byte('a' + rnd.IntN(26))
	}
	for i, r := range []*store.Resource{
		{Type: "User", Key: "a\x00b"},
		{Type: "User", Key: "x", ExternalID: "\x00"},
		{Type: "User", Key: string(long)},
		{Type: "User", Key: "y", ExternalID: string(long)},
	} {
		r.ID = fmt.Sprintf("u%d", i)
		r.Doc = map[string]any{"userName": "n"}
		if err := s.Create(t.Context(), r, nil); !errors.Is(err, store.ErrUnstorable) {
			t.Errorf("Create %d: %v, want ErrUnstorable", i, err)
		}
		err := s.Write(t.Context(), func(tx store.Tx) error { return tx.Create(r, nil) })
		if !errors.Is(err, store.ErrUnstorable) {
			t.Errorf("Tx.Create %d: %v, want ErrUnstorable", i, err)
		}
	}
}

// TestUpdateTokensAcrossReplicas: two stores on one database (two
// replicas) never both see room under a token limit.
func TestUpdateTokensAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	b, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	storetest.ConcurrentTokenLimit(t, a, b, 2)
}

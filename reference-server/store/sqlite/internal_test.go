package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/storetest"
)

func openT(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// plan returns SQLite's query plan for q, one step per line.
func plan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.rdb.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "\n")
}

// TestIndexedQueries checks that lookups by an index field never scan a
// whole table (a plain "SCAN resources" or "SCAN members"), and that a
// scan of one type walks the type index in seq order without sorting.
func TestIndexedQueries(t *testing.T) {
	s := openT(t, ":memory:")
	queries := []store.Query{
		{Type: "User", ID: "x"},
		{Type: "User", Key: "x"},
		{Type: "User", ExternalID: "x"},
		{Type: "User", MemberOf: "g"},
		{Type: "Group", HasMember: "u"},
		{Type: "User", Key: "x", ExternalID: "y", MemberOf: "g"},
		{Type: "Group", HasMember: "u", MemberOf: "g"},
		{ID: "x"},
		{HasMember: "u"},
	}
	for _, q := range queries {
		w, args := where(q)
		for _, sql := range []string{
			"SELECT COUNT(*) FROM resources" + w,
			"SELECT " + resourceCols + " FROM resources" + w + " ORDER BY seq",
		} {
			p := plan(t, s, sql, args...)
			for _, line := range strings.Split(p, "\n") {
				if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "USING") {
					t.Errorf("%+v: full scan:\n%s\n%s", q, sql, p)
				}
				if strings.Contains(line, "resources_type") {
					t.Errorf("%+v: walks the whole type:\n%s\n%s", q, sql, p)
				}
			}
		}
	}
	w, args := where(store.Query{Type: "User"})
	p := plan(t, s, "SELECT "+resourceCols+" FROM resources"+w+" ORDER BY seq", args...)
	if !strings.Contains(p, "resources_type") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("type scan plan:\n%s", p)
	}
	for _, q := range []string{
		membersQuery,
		"SELECT COALESCE(MAX(pos), 0) FROM members WHERE group_id = ?",
		"SELECT group_id FROM members WHERE value = ?",
		"DELETE FROM members WHERE value = ?",
		"DELETE FROM members WHERE group_id = ? AND value = ?",
		"UPDATE resources SET version = version + 1, modified = ? WHERE id = ?",
		"SELECT 1 FROM resources WHERE id = ? LIMIT 1",
		"SELECT 1 FROM resources WHERE type = ? AND key = ? AND key <> '' AND id <> ?",
		"SELECT id FROM tokens WHERE hash = ?",
	} {
		p := plan(t, s, q, "a", "b", "c")
		if strings.Contains(p, "SCAN ") && !strings.Contains(p, "USING") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s:\n%s", q, p)
		}
	}
	p = plan(t, s, `SELECT r.id FROM members m JOIN resources r ON r.id = m.group_id WHERE m.value = ? ORDER BY r.seq`, "u")
	if strings.Contains(p, "SCAN ") {
		t.Errorf("GroupsOf plan:\n%s", p)
	}
}

// TestBatch holds a commit in its sync so that the next requests run into
// one open transaction, and checks that each gets its own outcome: a failing
// request rolls back to its savepoint only, a panic reaches its caller, the
// others commit together, and a caller whose context ended before its
// request ran writes nothing.
func TestBatch(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "b.db"))
	ctx := context.Background()
	release := make(chan struct{})
	var hold sync.Once
	holding := make(chan struct{})
	s.beforeSync = func() { hold.Do(func() { close(holding); <-release }) }
	waitFor := func(what string, cond func() bool) {
		for {
			s.mu.Lock()
			ok := cond()
			s.mu.Unlock()
			if ok {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	insert := func(id string) func(w *wtx) error {
		return func(w *wtx) error {
			_, err := w.exec("INSERT INTO settings (key, value) VALUES (?, 'x')", id)
			return err
		}
	}
	first := make(chan error, 1)
	go func() { first <- s.do(ctx, insert("first")) }()
	<-holding // the first commit is done and its sync held
	commits := s.Stats().Commits

	boom := errors.New("boom")
	type result struct {
		name string
		err  error
		pnc  any
	}
	results := make(chan result, 4)
	queued := 0
	submit := func(name string, fn func(w *wtx) error) {
		queued++
		go func() {
			defer func() {
				if p := recover(); p != nil {
					results <- result{name: name, pnc: p}
				}
			}()
			results <- result{name: name, err: s.do(ctx, fn)}
		}()
		waitFor(name+" to run", func() bool { return s.cur != nil && len(s.cur.reqs) == queued })
	}
	submit("a", insert("a"))
	submit("fails", func(w *wtx) error {
		if err := insert("f")(w); err != nil {
			return err
		}
		return boom
	})
	submit("panics", func(w *wtx) error {
		_ = insert("p")(w)
		panic("kaboom")
	})
	submit("b", insert("b"))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.do(cctx, insert("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("a request whose context had ended: %v, want context.Canceled", err)
	}
	select {
	case r := <-results:
		t.Fatalf("%s answered before the commit before it was durable: %+v", r.name, r)
	default:
	}

	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	got := map[string]result{}
	for range 4 {
		r := <-results
		got[r.name] = r
	}
	if got["a"].err != nil || got["b"].err != nil {
		t.Fatalf("a: %v, b: %v", got["a"].err, got["b"].err)
	}
	if !errors.Is(got["fails"].err, boom) {
		t.Fatalf("fails: %v", got["fails"].err)
	}
	if got["panics"].pnc != "kaboom" {
		t.Fatalf("panics: %+v", got["panics"])
	}
	if n := s.Stats().Commits - commits; n != 1 {
		t.Errorf("the four requests took %d commits, want 1", n)
	}
	m, err := s.SettingsWithPrefix(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m["first"] == "" || m["a"] == "" || m["b"] == "" {
		t.Fatalf("committed settings %v, want first, a and b only", m)
	}
}

func TestGroupCommit(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "g.db"))
	before := s.Stats()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			r := &store.Resource{Type: "User", ID: fmt.Sprint(i), Key: fmt.Sprint("user", i)}
			if err := s.Create(t.Context(), r, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if n := st.Requests - before.Requests; n != 200 {
		t.Fatalf("%d requests ran, want 200", n)
	}
	t.Logf("200 concurrent creates: %d commits", st.Commits-before.Commits)
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scimlab.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u := &store.Resource{Type: "User", ID: "u1", Key: "alice", ExternalID: "e1", Doc: map[string]any{"userName": "alice", "n": 1.5}}
	if err := s.Create(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	last := &store.Resource{Type: "User", ID: "u2", Key: "bob"}
	if err := s.Create(ctx, last, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "User", "u2", 0); err != nil {
		t.Fatal(err)
	}
	g := &store.Resource{Type: "Group", ID: "g1", Key: "admins", Doc: map[string]any{"displayName": "Admins"}}
	if err := s.Create(ctx, g, []store.Member{{Value: "u1", Type: "User", Display: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutToken(ctx, store.Token{ID: "t1", Hash: "h1", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	used := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.TouchToken(ctx, "t1", used); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "profile", "aws"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path)
	got, err := s.Get(ctx, "User", "u1", false)
	if err != nil || got.Key != "alice" || got.ExternalID != "e1" || got.Doc["n"] != 1.5 || got.Version != 2 /* 1, then g1's creation made it a member */ || !got.Created.Equal(u.Created) {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	gg, err := s.Get(ctx, "Group", "g1", true)
	if err != nil || len(gg.Doc["members"].([]any)) != 1 {
		t.Fatalf("group after reopen: %+v, %v", gg, err)
	}
	tok, err := s.TokenByHash(ctx, "h1")
	if err != nil || !tok.LastUsed.Equal(used) {
		t.Fatalf("token after reopen: %+v, %v (touch not flushed at Close?)", tok, err)
	}
	if v, ok, err := s.Setting(ctx, "profile"); v != "aws" || !ok || err != nil {
		t.Fatalf("setting after reopen: %q %v %v", v, ok, err)
	}
	next := &store.Resource{Type: "User", ID: "u3"}
	if err := s.Create(ctx, next, nil); err != nil {
		t.Fatal(err)
	}
	if next.Seq <= g.Seq || next.Seq <= last.Seq {
		t.Fatalf("Seq %d reused or not increasing (had %d, %d)", next.Seq, last.Seq, g.Seq)
	}
	var v int
	if err := s.rdb.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("user_version %d, %v", v, err)
	}
	var jm string
	if err := s.rdb.QueryRow("PRAGMA journal_mode").Scan(&jm); err != nil || jm != "wal" {
		t.Fatalf("journal_mode %q, %v", jm, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wc.ExecContext(context.Background(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestTouchCoalesced(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "t.db"))
	ctx := context.Background()
	if err := s.PutToken(ctx, store.Token{ID: "t1", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	at := time.Now().UTC().Truncate(time.Microsecond)
	for i := range 1000 {
		if err := s.TouchToken(ctx, "t1", at.Add(time.Duration(i)*time.Microsecond)); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Commits != before.Commits {
		t.Fatalf("TouchToken committed %d times; want no commit before the flush", st.Commits-before.Commits)
	}
	want := at.Add(999 * time.Microsecond)
	tok, err := s.TokenByHash(ctx, "h1")
	if err != nil || !tok.LastUsed.Equal(want) {
		t.Fatalf("LastUsed %v, %v; want %v", tok.LastUsed, err, want)
	}
	s.flushNow()
	if st := s.Stats(); st.TouchFlushes != before.TouchFlushes+1 {
		t.Fatalf("%d touch flushes, want 1", st.TouchFlushes-before.TouchFlushes)
	}
	var used int64
	if err := s.rdb.QueryRow("SELECT last_used FROM tokens WHERE id = 't1'").Scan(&used); err != nil || !fromMicros(used).Equal(want) {
		t.Fatalf("stored last_used %v, %v", fromMicros(used), err)
	}
	if n := s.touches.Len(); n != 0 {
		t.Fatalf("%d pending touches after flush", n)
	}
}

// More first-time List calls than the read pool has connections, at once:
// each holds a connection for its read transaction, so a statement prepared
// on the pool would wait for a connection none of them gives back.
func TestConcurrentFirstListsDoNotDeadlock(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		r := &store.Resource{Type: "User", ID: fmt.Sprintf("u%d", i), Key: fmt.Sprintf("user%d", i), Doc: map[string]any{"userName": fmt.Sprintf("user%d", i)}}
		if err := s.Create(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, total, err := s.List(ctx, store.Query{Type: "User", Offset: i % 5, Limit: 3 + i%4})
			if err == nil && total != 20 {
				err = fmt.Errorf("total %d, want 20", total)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// holdFirstSync makes the store's next sync wait until the returned
// function is called, and starts a write that becomes that sync's leader, so
// that the requests submitted next share one open transaction.
func holdFirstSync(t *testing.T, s *Store) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	var hold sync.Once
	holding := make(chan struct{})
	s.beforeSync = func() { hold.Do(func() { close(holding); <-gate }) }
	done := make(chan error, 1)
	go func() {
		done <- s.do(t.Context(), func(w *wtx) error {
			_, err := w.exec("INSERT INTO settings (key, value) VALUES ('leader', 'x')")
			return err
		})
	}()
	<-holding
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// locked runs f with the write lock held.
func (s *Store) locked(f func() bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

// TestSingleWriteNeedsNoSavepoint: a create whose INSERT fails on the unique
// key runs without a savepoint and leaves its batch-mates intact.
func TestSingleWriteNeedsNoSavepoint(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "s.db"))
	release := holdFirstSync(t, s)
	errs := make(chan error, 3)
	for i, key := range []string{"alice", "alice", "bob"} {
		go func() {
			errs <- s.Create(t.Context(), &store.Resource{Type: "User", ID: fmt.Sprint("u", i), Key: key, Doc: map[string]any{}}, nil)
		}()
		for !s.locked(func() bool { return s.cur != nil && len(s.cur.reqs) == i+1 }) {
			time.Sleep(time.Millisecond)
		}
	}
	release()
	var conflicts int
	for range 3 {
		if err := <-errs; errors.Is(err, store.ErrConflict) {
			conflicts++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if conflicts != 1 {
		t.Fatalf("%d conflicts, want 1", conflicts)
	}
	for _, id := range []string{"u0", "u2"} {
		if _, err := s.Get(t.Context(), "User", id, false); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

// TestFailureAfterLastWriteAbortsBatch: a request that fails after a write
// it declared its last cannot be undone alone, so its whole batch fails and
// nothing of it is committed.
func TestFailureAfterLastWriteAbortsBatch(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "a.db"))
	release := holdFirstSync(t, s)
	errs := make(chan error, 2)
	go func() {
		errs <- s.do(t.Context(), func(w *wtx) error {
			_, err := w.exec("INSERT INTO settings (key, value) VALUES ('mate', 'x')")
			return err
		})
	}()
	for !s.locked(func() bool { return s.cur != nil && len(s.cur.reqs) == 1 }) {
		time.Sleep(time.Millisecond)
	}
	go func() {
		errs <- s.do(t.Context(), func(w *wtx) error {
			if _, err := w.write(true, "INSERT INTO settings (key, value) VALUES ('bad', 'x')"); err != nil {
				return err
			}
			return errors.New("fails after its last write")
		})
	}()
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a request of the aborted batch succeeded")
		}
	}
	release()
	m, err := s.SettingsWithPrefix(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || m["leader"] == "" {
		t.Fatalf("settings %v, want only the leader's", m)
	}
}

// TestCommitsAreSynced: every commit of a file store is followed by a sync
// of the WAL before its callers are answered; ":memory:" never syncs.
func TestCommitsAreSynced(t *testing.T) {
	for _, dsn := range []string{filepath.Join(t.TempDir(), "c.db"), ":memory:"} {
		s := openT(t, dsn)
		before := s.Stats()
		for i := range 20 {
			if err := s.PutSetting(t.Context(), fmt.Sprint("k", i), "v"); err != nil {
				t.Fatal(err)
			}
		}
		st := s.Stats()
		commits, syncs := st.Commits-before.Commits, st.Syncs-before.Syncs
		want := commits
		if dsn == ":memory:" {
			want = 0
		}
		if commits != 20 || syncs != want {
			t.Errorf("%s: %d commits, %d syncs; want 20 and %d", dsn, commits, syncs, want)
		}
	}
}

// TestCheckpointsOffTheWriter: the checkpointer runs every ckptEvery
// commits, the write connection checkpoints only as a backstop, and the WAL
// is folded into the database in the end.
func TestCheckpointsOffTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s := openT(t, path)
	var auto int
	err := s.wc.QueryRowContext(t.Context(), "PRAGMA wal_autocheckpoint").Scan(&auto)
	if err != nil || auto != walBackstop {
		t.Fatalf("wal_autocheckpoint %d, %v; want %d", auto, err, walBackstop)
	}
	for i := range ckptEvery {
		if err := s.PutSetting(t.Context(), fmt.Sprint("k", i), "v"); err != nil {
			t.Fatal(err)
		}
	}
	for s.Stats().Checkpoints == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the WAL holds %d bytes after Close", fi.Size())
	}
}

// TestWALStaysBounded: under a steady stream of concurrent writes the WAL
// restarts from its beginning instead of growing without end (a PASSIVE
// checkpoint alone never catches up while writes go on).
func TestWALStaysBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s := openT(t, path)
	big := strings.Repeat("x", 3000) // about a page per write
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2 * walBackstop / 16 {
				if err := s.PutSetting(t.Context(), fmt.Sprint(g, "-", i), big); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if limit := int64(walBackstop+512) * 4096; fi.Size() > limit {
		t.Errorf("the WAL grew to %d bytes after writing about %d pages; want at most %d", fi.Size(), 2*walBackstop, limit)
	}
}

// TestPanicInWritePathStopsTheProcess: a panic in the store's own write path
// (injected here before a sync) ends the process with its message instead
// of leaving every later write waiting for a combiner that is gone.
func TestPanicInWritePathStopsTheProcess(t *testing.T) {
	if os.Getenv("SCIMLAB_STORE_PANIC_CHILD") == "1" {
		s, err := Open(filepath.Join(t.TempDir(), "p.db"))
		if err != nil {
			t.Fatal(err)
		}
		s.beforeSync = func() { panic("injected") }
		go func() {
			defer func() { _ = recover() }() // as the server's HTTP middleware would
			_ = s.PutSetting(context.Background(), "k", "v")
		}()
		time.Sleep(30 * time.Second) // only reached if the process survived
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicInWritePathStopsTheProcess$")
	cmd.Env = append(os.Environ(), "SCIMLAB_STORE_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the write path panicked and cannot go on: injected") {
		t.Fatalf("the child ended with %v:\n%s", err, out)
	}
}

// TestCancelledWhileQueuedDoesNotRun: a write whose context ends while it
// waits behind the combiner is answered with the context's error and never
// runs.
func TestCancelledWhileQueuedDoesNotRun(t *testing.T) {
	s := openT(t, filepath.Join(t.TempDir(), "q.db"))
	release, running := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.do(t.Context(), func(w *wtx) error {
			close(running)
			<-release // holds the combiner
			_, err := w.exec("INSERT INTO settings (key, value) VALUES ('first', 'x')")
			return err
		})
	}()
	<-running
	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() { queued <- s.PutSetting(ctx, "queued", "x") }()
	for !s.locked(func() bool { return len(s.queue) == 1 }) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled write: %v, want context.Canceled", err)
	}
	if _, ok, err := s.Setting(t.Context(), "queued"); ok || err != nil {
		t.Fatalf("the cancelled write was stored (%v, %v)", ok, err)
	}
}

// TestWriterKeepsItsCacheAfterReads: after a run of reads through the read
// pool, whose connections then sit idle, sequential updates must keep
// finding their pages in the writer's cache (releasePages in
// checkpoint.go). Without it the writer re-read about 12 pages per update;
// with it, under 1.
func TestWriterKeepsItsCacheAfterReads(t *testing.T) {
	if _, err := os.Stat("/proc/self/io"); err != nil {
		t.Skip("counts read system calls through /proc/self/io")
	}
	s := openT(t, filepath.Join(t.TempDir(), "cache.db"))
	ctx := t.Context()
	const n = 10000
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				r := &store.Resource{Type: "User", ID: fmt.Sprintf("%08d-cache", i), Key: fmt.Sprintf("user%05d@example.test", i), ExternalID: fmt.Sprintf("ext-%d", i),
					Doc: map[string]any{"userName": fmt.Sprintf("user%05d@example.test", i), "name": map[string]any{"givenName": "Cache", "familyName": "User"}, "active": true}}
				if err := s.Create(ctx, r, nil); err != nil {
					t.Error(err)
					return
				}
				ids[i] = r.ID
			}
		}()
	}
	wg.Wait()
	for i := range 3000 {
		if _, err := s.Get(ctx, "User", ids[i*7%n], false); err != nil {
			t.Fatal(err)
		}
	}
	reads := func() int64 {
		b, err := os.ReadFile("/proc/self/io")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "syscr: "); ok {
				c, _ := strconv.ParseInt(v, 10, 64)
				return c
			}
		}
		t.Fatal("no syscr in /proc/self/io")
		return 0
	}
	const updates = 2000
	before := reads()
	for i := range updates {
		if _, err := s.Update(ctx, "User", ids[i], 0, func(_ store.Tx, r *store.Resource) error {
			r.Doc["active"] = i%2 == 0
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if per := float64(reads()-before) / updates; per > 3 {
		t.Errorf("%.1f read system calls per update after reads: the writer's cache is not kept", per)
	}
}

// TestLockHeldElsewhereIsUnavailable: when another process holds the
// database's write lock past the busy timeout, a write fails with
// store.ErrUnavailable (the server's 503 with Retry-After, not a 500), and
// the store writes again once the lock is released.
func TestLockHeldElsewhereIsUnavailable(t *testing.T) {
	defer func(ms int) { busyTimeoutMS = ms }(busyTimeoutMS)
	busyTimeoutMS = 50
	path := filepath.Join(t.TempDir(), "busy.db")
	s := openT(t, path)
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = s.PutSetting(t.Context(), "k", "held")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a write under another process's lock: %v, want store.ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "busy.db") {
		t.Errorf("the error does not name the database: %v", err)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(t.Context(), "k", "free"); err != nil {
		t.Fatalf("a write after the lock is released: %v", err)
	}
	if v, ok, err := s.Setting(t.Context(), "k"); err != nil || !ok || v != "free" {
		t.Fatalf("the setting reads back as %q (%v, %v)", v, ok, err)
	}
}

// TestServeAlone: one claim per database file at a time, dropped by Close;
// ":memory:" stores are private and never conflict.
func TestServeAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.db")
	a, b := openT(t, path), openT(t, path)
	if err := a.ServeAlone(); err != nil {
		t.Fatal(err)
	}
	err := b.ServeAlone()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("(pid %d)", os.Getpid())) {
		t.Fatalf("a second claim: %v, want an error naming pid %d", err, os.Getpid())
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.ServeAlone(); err != nil {
		t.Fatalf("a claim after the holder closed: %v", err)
	}
	m1, m2 := openT(t, ":memory:"), openT(t, ":memory:")
	if err := m1.ServeAlone(); err != nil {
		t.Fatal(err)
	}
	if err := m2.ServeAlone(); err != nil {
		t.Fatal(err)
	}
}

// TestAuthEpochSharedByProcesses: a token or setting change committed
// through one store on a file changes the auth epoch every store on that
// file reads (through the shared NAME.lock mapping, as another process's
// would), and reads and other writes leave it alone.
func TestAuthEpochSharedByProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epoch.db")
	server, cli := openT(t, path), openT(t, path)
	ctx := t.Context()
	e0 := server.AuthEpoch()
	if err := cli.Create(ctx, &store.Resource{Type: "User", ID: "u", Key: "u", Doc: map[string]any{"userName": "u"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ListTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if e := server.AuthEpoch(); e != e0 {
		t.Fatalf("a resource write and a read moved the epoch %d → %d", e0, e)
	}
	for name, change := range map[string]func() error{
		"PutToken":           func() error { return cli.PutToken(ctx, store.Token{ID: "t1", Hash: "h1", Name: "t1"}) },
		"PutSetting":         func() error { return cli.PutSetting(ctx, "account/x", "inactive") },
		"PutSettingIfAbsent": func() error { _, err := cli.PutSettingIfAbsent(ctx, "notice/1", "x"); return err },
	} {
		before := server.AuthEpoch()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if server.AuthEpoch() == before {
			t.Errorf("%s through another store left the epoch at %d", name, before)
		}
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Errorf("no sidecar: %v", err)
	}
}

// TestUpdateTokensAcrossStores: two stores on one file (as two processes,
// e.g. two `scimlab token create` at once) never both see room under a
// token limit.
func TestUpdateTokensAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.db")
	storetest.ConcurrentTokenLimit(t, openT(t, path), openT(t, path), 2)
}

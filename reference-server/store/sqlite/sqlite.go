// Package sqlite is the embedded store.Store: SQLite through the pure-Go
// driver modernc.org/sqlite.
//
// Writes run on their callers' goroutines, one at a time, in one open
// transaction with a savepoint each where needed; a leader commits the batch,
// syncs the write-ahead log (one fdatasync for the batch: group commit) and
// answers it, while the next batch already runs (writer.go, walsync.go). A
// returned write is therefore durable, and read-modify-write happens under
// the write lock, so concurrent updates of one resource never lose data.
// Reads use a pool of query-only connections, which WAL lets run alongside
// the writer.
//
// ":memory:" opens a private in-process database (the memdb VFS, shared by
// this Store's connections, gone after Close).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/touches"
)

const (
	// touchEvery is how often coalesced TouchToken calls are written.
	touchEvery = time.Second
)

// busyTimeoutMS is how long a connection waits for a lock held by another
// connection or process before giving up (a variable for tests).
var busyTimeoutMS = 10000

// Store is the SQLite backend. Create it with Open.
type Store struct {
	name    string // the dsn as given, for errors
	tempDir string // for ":memory:": the throwaway directory removed on Close

	wdb    *sql.DB
	wc     *sql.Conn
	wstmts map[string]*sql.Stmt // statements on wc; used by the combiner only

	rdb    *sql.DB
	rstmts sync.Map  // query → *sql.Stmt on rdb
	marks  pageMarks // where pages of types' full listings start

	closeMu sync.RWMutex // held for reading by every write until it is answered
	closed  atomic.Bool
	shut    chan struct{} // closed when Close has finished

	mu        sync.Mutex    // guards queue, combining, cur and inflight (writer.go)
	queue     []*request    // write requests waiting for the combiner
	combining bool          // a caller holds the combiner's role
	cur       *batch        // the open write transaction; nil when there is none
	inflight  bool          // a committed batch is being synced
	wal       *walSync      // nil: commits need no sync of their own (":memory:", or FULL)
	side      *sidecar      // NAME.lock: the auth epoch and the serving claim; nil for ":memory:"
	memEpoch  atomic.Uint64 // the auth epoch without a sidecar
	serving   bool          // ServeAlone claimed the file

	beforeSync func() // tests: called before each sync of the WAL

	ckpt    chan struct{} // asks the checkpointer to run (checkpoint.go)
	ckptDB  *sql.DB       // the checkpointer's own connection; nil: SQLite checkpoints on commit
	ckptEnd chan struct{} // closed when the checkpointer has stopped

	touchStop, touchEnd chan struct{} // stop the token-touch writer; closed when it has stopped

	requests, commits, syncs, syncWait, busy, checkpoints, touchFlushes atomic.Int64

	touches touches.Pending // token uses not yet written
}

var _ store.Store = (*Store)(nil)

var memSeq atomic.Int64

// Page caches, per connection (SQLite's cache_size; in this build they add
// up to one pool shared by every connection, see releasePages). They live
// outside the Go heap and cost about twice their nominal size in resident
// memory (measured); pages not cached are read from the operating system's
// page cache. The defaults (2 MiB each) made the
// six connections' caches about 22 MiB of a 10,000-user server's resident
// memory; these sizes make them about 5 MiB (scimlab bench, then VmHWM of
// `scimlab serve`).
const (
	// writerCacheKiB holds what writes touch: the right-hand edge of the
	// table and its indexes, where new rows go, and the rows being changed.
	writerCacheKiB = 1024
	// readerCacheKiB is small because a reader's cache is emptied whenever
	// a write has committed since its last read (SQLite resets a WAL
	// reader's cache when the log has changed); it keeps the index interior
	// pages of a run of reads.
	readerCacheKiB = 256
	// checkpointerCacheKiB: a checkpoint copies pages through a buffer of
	// its own, not through the cache.
	checkpointerCacheKiB = 64
)

// Open opens (creating and migrating as needed) the database at dsn: a file
// path such as "scimlab.db", a SQLite "file:" URI, or ":memory:".
func Open(dsn string) (*Store, error) {
	if dsn == "" {
		return nil, errors.New(`store/sqlite: no database given; use a file path such as "scimlab.db", or ":memory:"`)
	}
	// ":memory:" is a throwaway database in a temporary directory, in WAL
	// mode like a file store: SQLite's in-memory VFS has no WAL, so there
	// readers block the writer's commit and a steady stream of reads can
	// starve it (seen as a stalled okta-aiw sync). Durability is not wanted
	// for it, so it commits without fsync.
	tempDir := ""
	syncMode := "NORMAL" // made durable by walSync after each commit
	if dsn == ":memory:" {
		dir, err := os.MkdirTemp("", "scimlab-mem-")
		if err != nil {
			return nil, fmt.Errorf("store/sqlite: open :memory:: %w", err)
		}
		tempDir, syncMode = dir, "OFF"
		dsn = filepath.Join(dir, "scimlab.db")
	}
	base, mem := location(dsn)
	wdsn := base + "_pragma=busy_timeout(" + fmt.Sprint(busyTimeoutMS) + ")"
	if !mem {
		wdsn += "&_pragma=journal_mode(WAL)&_pragma=synchronous(" + syncMode + ")&_pragma=journal_size_limit(67108864)"
	}
	ckptDSN := wdsn + fmt.Sprintf("&_pragma=cache_size(-%d)", checkpointerCacheKiB)
	wdsn += fmt.Sprintf("&_pragma=cache_size(-%d)", writerCacheKiB)
	s := &Store{
		tempDir:   tempDir,
		name:      dsn,
		wstmts:    map[string]*sql.Stmt{},
		shut:      make(chan struct{}),
		ckpt:      make(chan struct{}, 1),
		ckptEnd:   make(chan struct{}),
		touchStop: make(chan struct{}),
		touchEnd:  make(chan struct{}),
	}
	ctx := context.Background()
	fail := func(err error) (*Store, error) {
		if s.wc != nil {
			_ = s.wc.Close()
		}
		if s.wdb != nil {
			_ = s.wdb.Close()
		}
		if s.rdb != nil {
			_ = s.rdb.Close()
		}
		_ = s.wal.close()
		_ = s.side.close()
		if s.ckptDB != nil {
			_ = s.ckptDB.Close()
		}
		if tempDir != "" {
			_ = os.RemoveAll(tempDir)
		}
		return nil, fmt.Errorf("store/sqlite: open %s: %w", dsn, err)
	}
	var err error
	if s.wdb, err = sql.Open("sqlite", wdsn); err != nil {
		return fail(err)
	}
	keepConns(s.wdb, 1)
	if s.wc, err = s.wdb.Conn(ctx); err != nil {
		return fail(err)
	}
	if !mem {
		var jm string
		if err := s.wc.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&jm); err != nil {
			return fail(err)
		}
		if !strings.EqualFold(jm, "wal") {
			return fail(fmt.Errorf("cannot use WAL journal mode (got %q); is the file on a network file system?", jm))
		}
	}
	if err := migrate(ctx, s.wc); err != nil {
		return fail(err)
	}
	if !mem && tempDir == "" {
		var seq int
		var name, file string
		if err := s.wc.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
			return fail(err)
		}
		if file != "" {
			if s.side, err = openSidecar(file); err != nil {
				return fail(err)
			}
		}
	}
	if !mem && syncMode == "NORMAL" {
		if s.wal, err = openWALSync(ctx, s.wc); err != nil {
			// Without a handle on the WAL, let SQLite sync every commit.
			s.wal = nil
			if _, err := s.wc.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
				return fail(err)
			}
		}
	}

	if s.rdb, err = sql.Open("sqlite", base+"_pragma=busy_timeout("+fmt.Sprint(busyTimeoutMS)+")&_pragma=query_only(1)"+fmt.Sprintf("&_pragma=cache_size(-%d)", readerCacheKiB)); err != nil {
		return fail(err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	keepConns(s.rdb, n)
	if err := s.rdb.PingContext(ctx); err != nil {
		return fail(err)
	}
	if !mem {
		if err := s.startCheckpointer(ctx, ckptDSN); err != nil {
			return fail(err)
		}
	} else {
		close(s.ckptEnd)
	}
	go s.touchLoop()
	return s, nil
}

// location turns dsn into a "file:" URI ending in '?' or '&', ready for
// driver parameters, and reports whether it is an in-memory database.
func location(dsn string) (string, bool) {
	switch {
	case dsn == ":memory:":
		// memdb databases whose name starts with '/' are shared by every
		// connection of the process that names them.
		return fmt.Sprintf("file:/scimlab-%d?vfs=memdb&", memSeq.Add(1)), true
	case strings.HasPrefix(dsn, "file:"):
		mem := strings.Contains(dsn, "vfs=memdb") || strings.Contains(dsn, "mode=memory")
		if strings.Contains(dsn, "?") {
			return dsn + "&", mem
		}
		return dsn + "?", mem
	default:
		r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
		return "file:" + r.Replace(dsn) + "?", false
	}
}

// rstmt returns a statement prepared on the read pool, cached by query text.
func (s *Store) rstmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if v, ok := s.rstmts.Load(q); ok {
		return v.(*sql.Stmt), nil
	}
	st, err := s.rdb.PrepareContext(ctx, q)
	if err != nil {
		return nil, s.readErr(err)
	}
	if v, loaded := s.rstmts.LoadOrStore(q, st); loaded {
		_ = st.Close()
		return v.(*sql.Stmt), nil
	}
	return st, nil
}

// query runs a cached read statement on the pool, or inside tx when set.
func (s *Store) query(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if tx != nil {
		if _, ok := s.rstmts.Load(q); !ok {
			// Preparing on the pool would need a second connection while
			// this transaction holds one; with every pooled connection held
			// by a transaction doing the same, all would wait for ever. Run
			// it on the transaction's own connection, and prepare it for
			// later callers once a connection is free.
			go func() { _, _ = s.rstmt(context.Background(), q) }()
			rows, err := tx.QueryContext(ctx, q, args...)
			return rows, s.readErr(err)
		}
	}
	st, err := s.rstmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, s.readErr(err)
}

// readTx starts a read transaction: one snapshot for several queries.
func (s *Store) readTx(ctx context.Context) (*sql.Tx, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	return tx, s.readErr(err)
}

// SQLite's primary result codes for a lock another connection holds.
const (
	sqliteBusy   = 5 // SQLITE_BUSY
	sqliteLocked = 6 // SQLITE_LOCKED
)

// storeErr names the store in err. A lock that another connection or
// process held past the busy timeout (say a second scimlab on the same
// file) is marked store.ErrUnavailable: it passes, so the server answers
// 503 with Retry-After rather than a 500.
func (s *Store) storeErr(err error) error {
	var se interface{ Code() int }
	if errors.As(err, &se) {
		if c := se.Code() & 0xff; c == sqliteBusy || c == sqliteLocked {
			return fmt.Errorf("store/sqlite: %s: %w: %w", s.name, store.ErrUnavailable, err)
		}
	}
	return fmt.Errorf("store/sqlite: %s: %w", s.name, err)
}

// readErr reports errors after Close as ErrClosed, and a lock held past
// the busy timeout as storeErr does.
func (s *Store) readErr(err error) error {
	switch {
	case err == nil:
		return nil
	case s.closed.Load():
		return store.ErrClosed
	}
	return s.storeErr(err)
}

// Close implements store.Store: it stops taking writes, waits for those in
// flight, writes pending token touches and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock() // every write in flight has been answered
	if s.closed.Load() {
		s.closeMu.Unlock()
		<-s.shut
		return nil
	}
	s.closed.Store(true)
	s.closeMu.Unlock()
	defer close(s.shut)
	close(s.touchStop)
	<-s.touchEnd
	s.flushTouchesAtClose()
	if s.ckptDB != nil {
		close(s.ckpt)
		<-s.ckptEnd
	}

	var errs []error
	s.rstmts.Range(func(_, v any) bool {
		errs = append(errs, v.(*sql.Stmt).Close())
		return true
	})
	errs = append(errs, s.rdb.Close())
	for _, st := range s.wstmts {
		errs = append(errs, st.Close())
	}
	ctx := context.Background()
	// Fold the WAL back into the database so that the file stands alone.
	_, _ = s.wc.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	errs = append(errs, s.wc.Close(), s.wdb.Close(), s.wal.close())
	errs = append(errs, s.side.close())
	if s.ckptDB != nil {
		errs = append(errs, s.ckptDB.Close())
	}
	if s.tempDir != "" {
		errs = append(errs, os.RemoveAll(s.tempDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store/sqlite: close %s: %w", s.name, err)
	}
	return nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// keepConns sizes db's pool to n connections that are never closed for age
// or idleness (each holds its prepared statements and page cache).
func keepConns(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

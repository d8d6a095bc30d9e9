// Package postgres is the store.Store for several reference-server replicas
// sharing one PostgreSQL database, through pgx (pgxpool, no database/sql).
//
// Everything that must hold across processes is enforced by the database,
// not by this process: Key uniqueness by a partial unique index, Seq by an
// identity column, PutSettingIfAbsent by the primary key, and no lost update
// by row locks (see "Locking" below). Open creates and migrates the schema
// under a transaction-scoped advisory lock, so replicas starting together
// migrate once.
//
// # Locking
//
// Write transactions run at READ COMMITTED, whatever the server's default,
// because the locking below relies on its rule that every statement sees
// what was committed before it started:
//
//   - Update reads its resource with SELECT … FOR NO KEY UPDATE, so two
//     read-modify-writes of one resource, from any replica, run one after
//     the other and the second sees the first one's result (no lost update;
//     idp-traffic.md B19). NO KEY UPDATE, not UPDATE, because the store
//     never changes a row's id: it does not conflict with the KEY SHARE
//     locks below.
//   - Every member method (Tx.Members, AddMembers, RemoveMembers,
//     SetMembers) first locks the group's row the same way, once per
//     transaction: a group's member list, its positions and its version
//     change under that lock only, so SetMembers' read-then-plan and
//     AddMembers' next position are never stale.
//   - Tx.Get and Tx.Exists take FOR KEY SHARE, so a resource a transaction
//     has seen cannot be deleted before it commits (a PATCH that checks
//     that a member exists and adds it cannot race a DELETE of the member
//     into a dangling membership).
//   - Delete locks the groups that have the resource as a member, then the
//     resource itself FOR UPDATE, then removes it and its memberships.
//
// Two transactions that change two groups' members in opposite orders
// would deadlock. So a transaction that holds a row lock takes a further
// group's lock only if it is free (NOWAIT); when it is not, the attempt
// ends at once and the next one takes every group the failed one locked or
// wanted first, in (id, type) order, the one order all transactions use, so
// that no cycle of waits can form (tx.go, group and lockFirst). Deadlocks
// the store cannot order away (a Delete against a transaction that checked
// the deleted resource, say) PostgreSQL detects and aborts (40P01), and the
// store runs the transaction again too (retry). Update and Write functions
// may therefore run more than once; as the store.Tx contract asks, they act
// only through tx and r, so a repeated run is harmless.
//
// # Round trips
//
// Get by id is one query (members, when asked for, come in the same
// statement through a LATERAL join); Create is one round trip (an implicit
// transaction of one or two statements); Update sends BEGIN with its
// locking read, and a type's listing sends its count and its page in one
// REPEATABLE READ batch (one snapshot for both).
//
// # Durability
//
// The store leaves synchronous_commit as the server has it (on by default):
// a returned Create or Update is committed, and with the default setting on
// disk. Token uses (TouchToken) are the exception, by design: they are kept
// in memory and written about once a second and at Close.
//
// # Pool
//
// The pool is pgxpool's: its size and lifetimes come from the DSN's pool_*
// parameters (pool_max_conns=…, default the greater of 4 and the number of
// CPUs); other unknown query parameters (search_path=…) are sent to the
// server as run-time parameters.
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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/touches"
)

const (
	// touchEvery is how often coalesced TouchToken calls are written.
	touchEvery = time.Second
	// closeFlushTimeout bounds the last write of token uses at Close.
	closeFlushTimeout = 10 * time.Second
	// openTimeout bounds Open: connecting, checking and migrating the schema.
	openTimeout = 5 * time.Minute
	// maxAttempts is how many times a transaction runs when PostgreSQL
	// aborts it for a deadlock or a serialization failure.
	maxAttempts = 8
	// applicationName is reported in pg_stat_activity unless the DSN names one.
	applicationName = "scimlab-reference-server"
)

// LockTimeout is how long a statement waits for a row lock that another
// transaction holds (PostgreSQL's lock_timeout, unless the URL sets one)
// before the call fails with store.ErrUnavailable, which the server answers
// with 503 and Retry-After: the same 10 seconds as the SQLite store's busy
// timeout. A variable for tests.
var LockTimeout = 10 * time.Second

// writeTx are the options of every write transaction: READ COMMITTED
// explicitly, as the locking (package comment) relies on it.
var writeTx = pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}

// Store is the PostgreSQL backend. Create it with Open; it is safe for
// concurrent use, and several Stores (in one process or many) may share a
// database.
type Store struct {
	pool *pgxpool.Pool
	name string // the DSN with its password masked, for errors

	// closeMu is held for reading by every call while it runs, so that
	// Close waits for calls in flight; closed is guarded by it.
	closeMu sync.RWMutex
	closed  bool
	shut    chan struct{} // closed when Close has finished

	touchStop, touchEnd chan struct{} // stop the token-touch writer; closed when it has stopped

	touches touches.Pending // token uses not yet written

	listen listener // store.AuthEpoch (notify.go)
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.GroupsOfMany  = (*Store)(nil)
	_ store.GetWithGroups = (*Store)(nil)
	_ store.AuthEpoch     = (*Store)(nil)
)

// Stats is the connection pool's state and counters, for metrics.
type Stats struct {
	MaxConns      int32 // the pool's size (pool_max_conns)
	AcquiredConns int32 // connections in use now
	IdleConns     int32 // open connections not in use now
	// Acquires counts every time a call took a connection from the pool;
	// EmptyAcquires those that found none free and waited (or opened one):
	// a rate close to Acquires' means the pool is too small for the load.
	Acquires, EmptyAcquires int64
	AcquireWait             time.Duration // time calls spent getting a connection, all told
}

// Stats returns the pool's state and counters.
func (s *Store) Stats() Stats {
	st := s.pool.Stat()
	return Stats{
		MaxConns: st.MaxConns(), AcquiredConns: st.AcquiredConns(), IdleConns: st.IdleConns(),
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), AcquireWait: st.AcquireDuration(),
	}
}

// Open connects to the database at dsn, a postgres:// or postgresql:// URL
// (pgx's connection string: sslmode=…, search_path=…, pool_max_conns=…),
// creates or migrates the schema, and returns the store. Errors name what
// failed and show the URL with its password masked, never the password.
//
// The tables go into the first schema of the connection's search_path; give
// the store a database or a schema of its own.
func Open(dsn string) (*Store, error) {
	name, err := redact(dsn)
	if err != nil {
		return nil, err
	}
	var secret string // the password as pgx parsed it
	fail := func(what string, err error) (*Store, error) {
		// Scrubbed whole: for an ambiguous URL (an unescaped '?' or '@' in
		// the password) net/url and pgx may disagree on where the password
		// ends, and name is net/url's reading.
		return nil, scrub(fmt.Errorf("store/postgres: open %s: %s: %w", name, what, err), dsn, secret)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fail("parse the connection URL", err)
	}
	secret = cfg.ConnConfig.Password
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["lock_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["lock_timeout"] = fmt.Sprint(LockTimeout.Milliseconds())
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fail("create the connection pool", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fail("connect", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return fail("migrate the schema", err)
	}
	s := &Store{
		pool:      pool,
		name:      name,
		shut:      make(chan struct{}),
		touchStop: make(chan struct{}),
		touchEnd:  make(chan struct{}),
	}
	go s.touchLoop()
	return s, nil
}

// Redact returns dsn, a postgres:// or postgresql:// URL, with its
// passwords masked, for messages; "a PostgreSQL URL" when it is none.
func Redact(dsn string) string {
	r, err := redact(dsn)
	if err != nil {
		return "a PostgreSQL URL"
	}
	return r
}

// redact returns dsn with its password masked (in the user information and
// in password/sslpassword query parameters), or an error, itself free of
// the DSN, when dsn is not a PostgreSQL URL.
func redact(dsn string) (string, error) {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return "", errors.New("store/postgres: the database must be a postgres:// or postgresql:// URL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		// pgx takes URLs that net/url does not, such as several hosts
		// (postgres://u:pw@h1:5432,h2:5432/db): keep only what is surely
		// no secret. Everything up to the last '@' is user information;
		// after it, the query and anything that looks like one go.
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			rest = "xxxxx@" + rest[i+1:]
		}
		if i := strings.IndexAny(rest, "?#&="); i >= 0 {
			rest = rest[:i]
		}
		return scheme + "://" + rest, nil
	}
	q := u.Query()
	masked := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.Redacted(), nil
}

// scrubbed is an error whose text has had a DSN's secrets removed; Unwrap
// still gives the original error to errors.Is and errors.As.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// scrub returns err with the raw dsn and the passwords given (or found in
// dsn) removed from its text. pgx masks passwords itself; this is the belt
// to its braces, for error texts that quote the connection string.
func scrub(err error, dsn string, secrets ...string) error {
	msg := err.Error()
	clean := msg
	if name, rerr := redact(dsn); rerr == nil && dsn != "" {
		clean = strings.ReplaceAll(clean, dsn, name)
	}
	for _, pw := range append(passwords(dsn), secrets...) {
		if len(pw) >= 3 { // shorter ones would mangle the text and protect nothing
			clean = strings.ReplaceAll(clean, pw, "xxxxx")
			clean = strings.ReplaceAll(clean, url.QueryEscape(pw), "xxxxx")
			clean = strings.ReplaceAll(clean, url.PathEscape(pw), "xxxxx")
		}
	}
	// pgx puts each address it tried on a line of its own; keep the
	// message on one line, as logs and the CLI's one-line errors need.
	clean = strings.TrimRight(clean, "\n\t :")
	clean = strings.NewReplacer(":\n\t", ": ", "\n\t", "; ", "\n", "; ").Replace(clean)
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean, err: err}
}

// passwords returns the passwords dsn holds, decoded, when it parses.
func passwords(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	var out []string
	if pw, ok := u.User.Password(); ok && pw != "" {
		out = append(out, pw)
	}
	q := u.Query()
	for _, k := range []string{"password", "sslpassword"} {
		if v := q.Get(k); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// enter starts a call: it fails when the store is closed or ctx is done,
// and otherwise holds Close off until the returned function is called.
func (s *Store) enter(ctx context.Context) (func(), error) {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.closeMu.RUnlock()
		return nil, err
	}
	return s.closeMu.RUnlock, nil
}

// dbErr wraps an error from the database with what was being done. When ctx
// ended, the context's error is part of the chain, so that errors.Is(err,
// context.Canceled) holds whatever pgx made of the cancellation.
func dbErr(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("store/postgres: %s: %w (%w)", what, cerr, err)
	}
	if ctx.Err() == nil && unavailable(err) {
		return fmt.Errorf("store/postgres: %s: %w: %w", what, store.ErrUnavailable, err)
	}
	if code, _ := pgCode(err); code == codeUntranslatable || code == codeCharNotInRepertoire || code == codeProgramLimitExceeded {
		// A value the server's checks let through (a NUL, a key too long
		// for its index): the client's input, not a broken server.
		return fmt.Errorf("store/postgres: %s: %w: %w", what, store.ErrUnstorable, err)
	}
	return fmt.Errorf("store/postgres: %s: %w", what, err)
}

// unavailable reports whether err says the database could not be reached or
// dropped the connection, rather than refusing the statement: a connection
// that could not be made, broke (EOF, a network error) or was ended by the
// server (SQLSTATE class 08, admin or crash shutdown, not accepting
// connections yet, too many connections). The server answers those with a
// 503 that asks the client to retry.
func unavailable(err error) bool {
	if code, _ := pgCode(err); code != "" {
		switch {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		case code == codeLockNotAvailable:
			// lock_timeout: a row held longer than LockTimeout (by a
			// long transaction, an operator's lock), as SQLite's busy
			// timeout; the store's own NOWAIT attempts are retried
			// instead (nowait).
			var nw *nowaitError
			return !errors.As(err, &nw)
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err)
}

// pgCode returns the SQLSTATE of a PostgreSQL error in err's chain, and the
// constraint it names, if any.
func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

// SQLSTATEs the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03" // NOWAIT (or lock_timeout)
	codeCharNotInRepertoire  = "22021" // a NUL in text
	codeUntranslatable       = "22P05"
	codeProgramLimitExceeded = "54000" // an index row too large
)

// nowaitError is a lock that the store asked for with NOWAIT and did not
// get: the transaction is run again, taking its locks in order (tx.go).
type nowaitError struct{ err error }

func (e *nowaitError) Error() string { return e.err.Error() }
func (e *nowaitError) Unwrap() error { return e.err }

// retryable reports whether PostgreSQL aborted a transaction only because
// of concurrent ones, so that running it again may succeed.
func retryable(err error) bool {
	code, _ := pgCode(err)
	var nw *nowaitError
	return code == codeSerializationFailure || code == codeDeadlockDetected || (code == codeLockNotAvailable && errors.As(err, &nw))
}

// retry runs attempt until it succeeds, fails for another reason than a
// deadlock or serialization failure, or has run maxAttempts times; it waits
// a little, with jitter, between runs so that the aborted transactions do
// not collide again.
func retry(ctx context.Context, attempt func() error) error {
	for i := 1; ; i++ {
		err := attempt()
		if err == nil || i >= maxAttempts || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := time.Duration(1<<min(i, 6)) * time.Millisecond // 2ms … 64ms
		wait = wait/2 + rand.N(wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

// rollback ends tx when it has not been committed (after a commit it does
// nothing). A transaction whose connection broke is cleaned up by the pool.
func rollback(tx pgx.Tx) {
	if tx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// Close implements store.Store: it waits for the calls in flight, writes
// the token uses not yet written and closes the pool. Later calls return
// store.ErrClosed; closing again returns nil.
func (s *Store) Close() error {
	s.closeMu.Lock() // every call in flight has returned
	if s.closed {
		s.closeMu.Unlock()
		<-s.shut
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	defer close(s.shut)

	s.stopListening()
	close(s.touchStop)
	<-s.touchEnd
	ctx, cancel := context.WithTimeout(context.Background(), closeFlushTimeout)
	err := s.flushTouches(ctx)
	cancel()
	s.pool.Close()
	if err != nil {
		return fmt.Errorf("store/postgres: close %s: %w", s.name, err)
	}
	return nil
}

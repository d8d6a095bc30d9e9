package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// authChannel is the PostgreSQL notification channel on which every store
// announces a committed change of tokens or settings, and on which a
// server's store listens to implement store.AuthEpoch: a revocation made by
// `scimlab token` anywhere reaches every replica's token cache within a
// notification's delivery time, not the cache entry's lifetime. Channels are
// per database, so stores in other schemas of the same database see each
// other's notices; that costs them a token re-read, nothing more.
const authChannel = "scimlab_auth"

// listener holds the state of the LISTEN connection.
type listener struct {
	once      sync.Once
	epoch     atomic.Uint64
	listening atomic.Bool // the LISTEN connection is up
	stop      context.CancelFunc
	done      chan struct{}
}

// AuthEpoch implements store.AuthEpoch. The first call starts a connection
// that LISTENs on authChannel and bumps the epoch on each notification.
// While that connection is down, changes could go unseen, so every call
// then returns a new value: a server re-reads tokens until it is back.
func (s *Store) AuthEpoch() uint64 {
	s.listen.once.Do(s.startListening)
	if !s.listen.listening.Load() {
		return s.listen.epoch.Add(1)
	}
	return s.listen.epoch.Load()
}

func (s *Store) startListening() {
	ctx, cancel := context.WithCancel(context.Background())
	s.listen.stop, s.listen.done = cancel, make(chan struct{})
	go s.listenLoop(ctx)
}

// listenLoop keeps a LISTEN connection open until ctx ends, reconnecting
// with backoff.
func (s *Store) listenLoop(ctx context.Context) {
	defer close(s.listen.done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
		if err == nil {
			if _, err = conn.Exec(ctx, "LISTEN "+authChannel); err == nil {
				s.listen.listening.Store(true)
				s.listen.epoch.Add(1) // changes while it was down went unseen
				backoff = 100 * time.Millisecond
				for err == nil {
					_, err = conn.WaitForNotification(ctx)
					s.listen.epoch.Add(1)
				}
				s.listen.listening.Store(false)
			}
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		}
	}
}

// stopListening ends the LISTEN connection, if one was started.
func (s *Store) stopListening() {
	s.listen.once.Do(func() {}) // none may start after Close
	if s.listen.stop != nil {
		s.listen.stop()
		<-s.listen.done
	}
}

// authChanged announces a committed change of tokens or settings to every
// store listening on the database. A failure is not the caller's: the
// change is committed, and listeners lose at most their cache's lifetime.
func (s *Store) authChanged(ctx context.Context) {
	_, _ = s.pool.Exec(ctx, "SELECT pg_notify($1, '')", authChannel)
}

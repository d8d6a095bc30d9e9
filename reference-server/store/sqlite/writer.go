package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Writes: every write request runs on its caller's goroutine, under mu, in
// the one open write transaction, with a savepoint of its own when it needs
// one (wtx.write), so that a failing request undoes only its own changes.
// The transaction is committed by a leader: the caller that finds no commit
// being synced commits it, syncs the WAL (walSync) without holding mu, and
// answers every request of the batch. Requests that arrive meanwhile run
// into a new open transaction and wait; when the sync is done the leader
// hands the next commit to one of them. Batches therefore grow with the load
// and with the disk's latency (group commit), the disk wait never blocks the
// next batch from running, and no dedicated writer goroutine has to win CPU
// time from the request goroutines before work can go on.

type request struct {
	done chan outcome // buffered for a lead message and the outcome: senders never block
}

type outcome struct {
	err   error
	panic any  // re-raised in the caller's goroutine
	lead  bool // not an outcome: the request is asked to commit its batch
}

// batch is the open transaction and the requests run in it.
type batch struct {
	reqs  []*request
	outs  []outcome
	wrote bool // a request succeeded: there is something to commit
}

// do runs fn inside the open write transaction and returns once the
// transaction holding it is committed and durable (or fn failed and its
// changes were undone). A caller whose context ends before fn runs gets the
// context's error and nothing is written; once fn has run, the caller waits
// for the outcome, so a context error always means the write did not happen.
func (s *Store) do(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock() // held until answered: Close waits for every write in flight
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	req := &request{done: make(chan outcome, 2)}
	s.mu.Lock()
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	s.runInto(req, fn)
	s.lead()
	for {
		o := <-req.done
		if o.lead {
			s.mu.Lock()
			s.lead()
			continue
		}
		if o.panic != nil {
			panic(o.panic)
		}
		return o.err
	}
}

// lead is called with mu held and releases it. When no commit is being
// synced and the open transaction has requests, the caller commits it, syncs
// it, answers its requests and hands the next open transaction, if any, to
// one of its requests.
func (s *Store) lead() {
	if s.inflight || s.cur == nil {
		s.mu.Unlock()
		return
	}
	b := s.cur
	s.cur = nil
	if !s.commit(b) {
		s.mu.Unlock()
		return
	}
	s.inflight = true
	s.mu.Unlock()

	if s.beforeSync != nil {
		s.beforeSync()
	}
	err := s.wal.sync()
	s.syncs.Add(1)
	if err != nil {
		err = fmt.Errorf("store/sqlite: %s: %w", s.name, err)
	}
	answerAll(b, err)

	s.mu.Lock()
	s.inflight = false
	if s.cur != nil {
		s.cur.reqs[0].done <- outcome{lead: true}
	}
	s.mu.Unlock()
}

// exec runs a statement on the write connection, prepared once. mu must be held.
func (s *Store) exec(q string, args ...any) (sql.Result, error) {
	st, err := s.wstmt(q)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

func (s *Store) wstmt(q string) (*sql.Stmt, error) {
	if st := s.wstmts[q]; st != nil {
		return st, nil
	}
	st, err := s.wc.PrepareContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	s.wstmts[q] = st
	return st, nil
}

// runInto runs fn for req inside the open transaction (beginning one when
// there is none). mu must be held. When a statement of the store's own
// fails, the whole transaction is abandoned and its requests (req among
// them) are answered with the error.
func (s *Store) runInto(req *request, fn func(w *wtx) error) {
	b := s.cur
	if b == nil {
		if _, err := s.exec("BEGIN IMMEDIATE"); err != nil {
			req.done <- outcome{err: fmt.Errorf("store/sqlite: %s: %w", s.name, err)}
			return
		}
		b = &batch{reqs: make([]*request, 0, 16), outs: make([]outcome, 0, 16)}
		s.cur = b
	}
	w := &wtx{s: s}
	o := s.call(w, fn)
	s.requests.Add(1)
	b.reqs, b.outs = append(b.reqs, req), append(b.outs, o)
	failed := o.err != nil || o.panic != nil
	switch {
	case failed && w.unguarded:
		// A write that was meant to be the request's last succeeded and
		// the request failed after it: its change cannot be undone alone.
		s.abort(fmt.Errorf("a failed write request left a change behind (%v)", o.err))
		return
	case failed && w.guarded:
		if _, err := s.exec("ROLLBACK TO req"); err != nil {
			s.abort(err)
			return
		}
	case !failed:
		b.wrote = b.wrote || w.wrote
	}
	if w.guarded {
		if _, err := s.exec("RELEASE req"); err != nil {
			s.abort(err)
		}
	}
}

// abort rolls the open transaction back and answers every request in it
// with err, except those that failed on their own. mu must be held.
func (s *Store) abort(err error) {
	b := s.cur
	s.cur = nil
	_, _ = s.wc.ExecContext(context.Background(), "ROLLBACK")
	e := outcome{err: fmt.Errorf("store/sqlite: %s: %w", s.name, err)}
	for i := range b.outs {
		if b.outs[i].err == nil && b.outs[i].panic == nil {
			b.outs[i] = e
		}
	}
	answerAll(b, nil)
}

// commit ends the open transaction b (mu held). Every earlier batch is
// durable by now (a commit happens only while none is being synced), so a
// batch that wrote nothing, or a store that needs no sync of its own, is
// answered at once and commit reports false; otherwise the caller must sync
// and answer it.
func (s *Store) commit(b *batch) bool {
	if !b.wrote {
		_, _ = s.exec("ROLLBACK")
		answerAll(b, nil)
		return false
	}
	if _, err := s.exec("COMMIT"); err != nil {
		s.cur = b
		s.abort(err)
		return false
	}
	s.committed()
	if s.wal == nil {
		answerAll(b, nil)
		return false
	}
	return true
}

// answerAll answers every request of b; a sync error turns the successes
// into errors: their data is committed but not known to be on disk.
func answerAll(b *batch, syncErr error) {
	for i, req := range b.reqs {
		o := b.outs[i]
		if syncErr != nil && o.err == nil && o.panic == nil {
			o.err = syncErr
		}
		req.done <- o
	}
}

// call runs one request's function, turning a panic into an outcome.
func (s *Store) call(w *wtx, fn func(w *wtx) error) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = outcome{panic: p}
		}
	}()
	err := fn(w)
	if err == nil {
		err = w.bumpChanged()
	}
	return outcome{err: err}
}

// touchLoop writes coalesced token uses every touchEvery until stop closes.
func (s *Store) touchLoop() {
	defer close(s.touchEnd)
	tick := time.NewTicker(touchEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.flushTouches()
		case <-s.touchStop:
			return
		}
	}
}

// flushTouches writes coalesced token uses as one write request.
func (s *Store) flushTouches() { s.writeTouches(false) }

// flushTouchesAtClose writes the last token uses once writes are closed.
func (s *Store) flushTouchesAtClose() { s.writeTouches(true) }

func (s *Store) writeTouches(closing bool) {
	s.touchMu.Lock()
	if len(s.touches) == 0 {
		s.touchMu.Unlock()
		return
	}
	batch := make(map[string]time.Time, len(s.touches))
	for id, at := range s.touches {
		batch[id] = at
	}
	s.touchMu.Unlock()

	write := func(w *wtx) error {
		for id, at := range batch {
			if _, err := w.exec("UPDATE tokens SET last_used = max(last_used, ?) WHERE id = ?", micros(at), id); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if closing {
		// No write can start any more; the checkpoint at Close makes it durable.
		s.mu.Lock()
		if _, err = s.exec("BEGIN IMMEDIATE"); err == nil {
			if err = write(&wtx{s: s}); err == nil {
				_, err = s.exec("COMMIT")
			} else {
				_, _ = s.exec("ROLLBACK")
			}
		}
		s.mu.Unlock()
	} else {
		err = s.do(context.Background(), write)
	}
	if err != nil {
		return // keep them pending; the next tick retries
	}
	s.touchFlushes.Add(1)
	s.touchMu.Lock()
	for id, at := range batch {
		if s.touches[id].Equal(at) {
			delete(s.touches, id)
		}
	}
	s.touchMu.Unlock()
}

// flushNow writes pending token touches now.
func (s *Store) flushNow() { s.flushTouches() }

// Stats counts the writer's work since Open, for metrics.
type Stats struct {
	Requests     int64 // write requests that ran (committed or failed on their own)
	Commits      int64 // transactions committed for them (Requests/Commits is the mean batch)
	Syncs        int64 // fdatasync calls on the WAL that made commits durable
	Checkpoints  int64 // WAL checkpoints run by the checkpointer
	TouchFlushes int64 // write requests that wrote coalesced token touches
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Commits: s.commits.Load(), Syncs: s.syncs.Load(), Checkpoints: s.checkpoints.Load(), TouchFlushes: s.touchFlushes.Load()}
}

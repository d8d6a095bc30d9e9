package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Writes. Every write request is queued; one caller at a time, the
// combiner, takes the queue and runs each request's function on the write
// connection inside the one open transaction (with a savepoint where a
// request needs one, wtx.write, so that a failing request undoes only its
// own changes). When no commit is being synced, the combiner commits the
// open transaction (synchronous=NORMAL), passes the combiner's role on to a
// queued caller, syncs the WAL itself (walSync) and answers the batch; the
// next batch keeps running meanwhile. When the sync is done and work is
// waiting with nobody combining, a waiting caller is woken to combine.
//
// Batches therefore grow with the load and with the disk's latency (group
// commit); the disk wait never holds up the next batch; and the work runs on
// goroutines that are scheduled anyway, one after another without a hand-off
// per request: a dedicated writer goroutine, or a mutex taken by every
// request, would make each request wait for a goroutine switch under load.

type request struct {
	ctx  context.Context
	fn   func(w *wtx) error
	done chan outcome // buffered for one combine message and the outcome: senders never block
}

type outcome struct {
	err     error
	panic   any  // re-raised in the caller's goroutine
	combine bool // not an outcome: the caller is asked to take the combiner's role
}

// batch is the open transaction and the requests run in it.
type batch struct {
	reqs  []*request
	outs  []outcome
	wrote bool // a request succeeded: there is something to commit
}

// do queues fn to run inside the open write transaction and returns once
// the transaction holding it is committed and durable (or fn failed and its
// changes were undone). A caller whose context ends before fn runs gets the
// context's error and nothing is written; once fn has run, the caller waits
// for its outcome, so a context error always means the write did not happen.
func (s *Store) do(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock() // held until answered: Close waits for every write in flight
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return store.ErrClosed
	}
	req := &request{ctx: ctx, fn: fn, done: make(chan outcome, 2)}
	s.mu.Lock()
	s.queue = append(s.queue, req)
	first := !s.combining
	s.combining = true
	s.mu.Unlock()
	if first {
		s.combine()
	}
	for {
		o := <-req.done
		if o.combine {
			s.combine()
			continue
		}
		if o.panic != nil {
			panic(o.panic)
		}
		return o.err
	}
}

// combine runs queued requests into the open transaction and commits it
// when no commit is being synced. The caller holds the combiner's role and
// gives it up before returning.
func (s *Store) combine() {
	defer stopOnPanic()
	for {
		s.mu.Lock()
		reqs := s.queue
		s.queue = nil
		if len(reqs) > 0 {
			s.mu.Unlock()
			start := time.Now()
			for _, req := range reqs {
				s.runInto(req)
			}
			s.busy.Add(int64(time.Since(start)))
			continue
		}
		if s.cur == nil || s.inflight {
			s.combining = false
			s.mu.Unlock()
			return
		}
		b := s.cur
		s.cur = nil
		s.inflight = true
		s.mu.Unlock()

		start := time.Now()
		synced := s.commit(b)
		s.busy.Add(int64(time.Since(start)))
		if !synced { // answered already
			s.mu.Lock()
			s.inflight = false
			s.mu.Unlock()
			continue
		}
		s.mu.Lock()
		if len(s.queue) > 0 {
			s.queue[0].done <- outcome{combine: true}
		} else {
			s.combining = false
		}
		s.mu.Unlock()
		s.syncAndAnswer(b)
		return
	}
}

// stopOnPanic ends the process when the store's own write path panics (a
// request's function cannot get here: call recovers it and re-raises it in
// its caller). The combiner's role, the open transaction and the batch being
// synced would be left in an unknown state, and every later write would wait
// for ever; so the panic is raised again on a goroutine of its own, where no
// HTTP middleware can catch it, and the process stops with its stack, as it
// would for any unrecovered panic. The data acknowledged so far is on disk.
func stopOnPanic() {
	if p := recover(); p != nil {
		stack := debug.Stack()
		go panic(fmt.Sprintf("store/sqlite: the write path panicked and cannot go on: %v\n%s", p, stack))
		select {}
	}
}

// syncAndAnswer makes the committed batch b durable and answers it, then
// wakes a waiting caller to combine if work is waiting and nobody is.
func (s *Store) syncAndAnswer(b *batch) {
	if s.beforeSync != nil {
		s.beforeSync()
	}
	start := time.Now()
	err := s.wal.sync()
	s.syncWait.Add(int64(time.Since(start)))
	s.syncs.Add(1)
	if err != nil {
		err = s.storeErr(err)
	}
	answerAll(b, err)

	s.mu.Lock()
	s.inflight = false
	if !s.combining {
		var next *request
		switch {
		case s.cur != nil:
			next = s.cur.reqs[0]
		case len(s.queue) > 0:
			next = s.queue[0]
		}
		if next != nil {
			s.combining = true
			next.done <- outcome{combine: true}
		}
	}
	s.mu.Unlock()
}

// exec runs a statement on the write connection, prepared once. Only the
// combiner (or Close, once no write is in flight) uses the connection.
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

// runInto runs req's function inside the open transaction (beginning one
// when there is none); only the combiner calls it. When a statement of the
// store's own fails, the whole transaction is abandoned and its requests
// (req among them) are answered with the error.
func (s *Store) runInto(req *request) {
	if err := req.ctx.Err(); err != nil {
		req.done <- outcome{err: err} // ended while queued: not run
		return
	}
	b := s.cur
	if b == nil {
		if _, err := s.exec("BEGIN IMMEDIATE"); err != nil {
			req.done <- outcome{err: s.storeErr(err)}
			return
		}
		b = &batch{reqs: make([]*request, 0, 16), outs: make([]outcome, 0, 16)}
	}
	w := &wtx{s: s}
	o := s.call(w, req.fn)
	s.requests.Add(1)
	s.mu.Lock() // syncAndAnswer may look at cur
	b.reqs, b.outs = append(b.reqs, req), append(b.outs, o)
	s.cur = b
	s.mu.Unlock()
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
// with err, except those that failed on their own. Only the combiner calls it.
func (s *Store) abort(err error) {
	s.mu.Lock()
	b := s.cur
	s.cur = nil
	s.mu.Unlock()
	_, _ = s.wc.ExecContext(context.Background(), "ROLLBACK")
	e := outcome{err: s.storeErr(err)}
	for i := range b.outs {
		if b.outs[i].err == nil && b.outs[i].panic == nil {
			b.outs[i] = e
		}
	}
	answerAll(b, nil)
}

// commit ends the open transaction b, which the combiner has taken out of
// cur. Every earlier batch is durable by now (a commit happens only while
// none is being synced), so a batch that wrote nothing, or a store that needs
// no sync of its own, is answered at once and commit reports false;
// otherwise the caller must sync and answer it.
func (s *Store) commit(b *batch) bool {
	if !b.wrote {
		_, _ = s.exec("ROLLBACK")
		answerAll(b, nil)
		return false
	}
	if _, err := s.exec("COMMIT"); err != nil {
		_, _ = s.wc.ExecContext(context.Background(), "ROLLBACK")
		e := outcome{err: s.storeErr(err)}
		for i := range b.outs {
			if b.outs[i].err == nil && b.outs[i].panic == nil {
				b.outs[i] = e
			}
		}
		answerAll(b, nil)
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
	batch := s.touches.Take()
	if batch == nil {
		return
	}

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
		// No write is in flight or can start any more; the checkpoint at
		// Close makes this one durable.
		if _, err = s.exec("BEGIN IMMEDIATE"); err == nil {
			if err = write(&wtx{s: s}); err == nil {
				_, err = s.exec("COMMIT")
			} else {
				_, _ = s.exec("ROLLBACK")
			}
		}
	} else {
		err = s.do(context.Background(), write)
	}
	if err != nil {
		return // keep them pending; the next tick retries
	}
	s.touchFlushes.Add(1)
	s.touches.Written(batch)
}

// flushNow writes pending token touches now.
func (s *Store) flushNow() { s.flushTouches() }

// Stats counts the writer's work since Open, for metrics.
type Stats struct {
	Requests int64 // write requests that ran (committed or failed on their own)
	Commits  int64 // transactions committed for them (Requests/Commits is the mean batch)
	Syncs    int64 // fdatasync calls on the WAL that made commits durable
	// SyncWait is the time those calls took, all told (divided by Syncs:
	// the disk's flush latency as the writes saw it).
	SyncWait time.Duration
	// Busy is the time the write connection spent running write requests
	// and committing them: the one serial part of a write. Busy divided by
	// the time elapsed near 1 means writes are bound by it.
	Busy         time.Duration
	Checkpoints  int64 // WAL checkpoints run by the checkpointer
	TouchFlushes int64 // write requests that wrote coalesced token touches
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Commits: s.commits.Load(), Syncs: s.syncs.Load(), SyncWait: time.Duration(s.syncWait.Load()), Busy: time.Duration(s.busy.Load()), Checkpoints: s.checkpoints.Load(), TouchFlushes: s.touchFlushes.Load()}
}

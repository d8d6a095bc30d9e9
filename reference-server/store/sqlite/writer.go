package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Request states: a caller whose context ends while its request is still
// pending cancels it, and the writer then skips it; once the writer has
// started it, the caller waits for the outcome, so a context error always
// means the write did not happen.
const (
	pending int32 = iota
	running
	cancelled
)

type request struct {
	fn    func(w *wtx) error
	state atomic.Int32
	done  chan outcome // buffered: the writer never blocks on it
}

type outcome struct {
	err   error
	panic any // re-raised in the caller's goroutine
}

// do runs fn on the writer inside a transaction and returns once the
// transaction holding it has committed (or fn failed and was rolled back).
func (s *Store) do(ctx context.Context, fn func(w *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &request{fn: fn, done: make(chan outcome, 1)}
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()

	var o outcome
	select {
	case o = <-req.done:
	case <-ctx.Done():
		if req.state.CompareAndSwap(pending, cancelled) {
			return ctx.Err()
		}
		o = <-req.done
	}
	if o.panic != nil {
		panic(o.panic)
	}
	return o.err
}

// run is the writer goroutine.
func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(touchEvery)
	defer tick.Stop()
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case req, ok := <-s.reqs:
			if !ok {
				s.flushTouches()
				return
			}
			batch = append(batch[:0], req)
		drain:
			for len(batch) < maxBatch {
				select {
				case req, ok := <-s.reqs:
					if !ok {
						break drain
					}
					batch = append(batch, req)
				default:
					break drain
				}
			}
			s.runBatch(batch)
			clear(batch)
		case <-tick.C:
			s.flushTouches()
		case ack := <-s.flush:
			s.flushTouches()
			close(ack)
		}
	}
}

// exec runs a statement on the write connection, prepared once.
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

// runBatch runs the requests in one transaction and answers them.
func (s *Store) runBatch(batch []*request) {
	out := make([]outcome, len(batch))
	ok := make([]bool, len(batch))
	ran := 0
	abort := func(err error) {
		_, _ = s.wc.ExecContext(context.Background(), "ROLLBACK")
		for i, req := range batch {
			if ok[i] || (out[i].err == nil && out[i].panic == nil) {
				out[i] = outcome{err: fmt.Errorf("store/sqlite: %s: %w", s.name, err)}
			}
			req.done <- out[i]
		}
	}
	if _, err := s.exec("BEGIN IMMEDIATE"); err != nil {
		abort(err)
		return
	}
	single := len(batch) == 1
	for i, req := range batch {
		if !req.state.CompareAndSwap(pending, running) {
			out[i] = outcome{err: context.Canceled}
			continue
		}
		if !single {
			if _, err := s.exec("SAVEPOINT req"); err != nil {
				abort(err)
				return
			}
		}
		out[i] = s.call(req.fn)
		failed := out[i].err != nil || out[i].panic != nil
		switch {
		case single && failed:
			_, _ = s.exec("ROLLBACK")
			s.requests.Add(1)
			req.done <- out[i]
			return
		case single:
		case failed:
			if _, err := s.exec("ROLLBACK TO req"); err != nil {
				abort(err)
				return
			}
			if _, err := s.exec("RELEASE req"); err != nil {
				abort(err)
				return
			}
		default:
			if _, err := s.exec("RELEASE req"); err != nil {
				abort(err)
				return
			}
		}
		ok[i] = !failed
		ran++
	}
	if ran == 0 {
		_, _ = s.exec("ROLLBACK")
	} else if _, err := s.exec("COMMIT"); err != nil {
		abort(err)
		return
	} else {
		s.commits.Add(1)
	}
	s.requests.Add(int64(ran))
	for i, req := range batch {
		req.done <- out[i]
	}
}

// call runs one request's function, turning a panic into an outcome.
func (s *Store) call(fn func(w *wtx) error) (o outcome) {
	defer func() {
		if p := recover(); p != nil {
			o = outcome{panic: p}
		}
	}()
	w := &wtx{s: s}
	err := fn(w)
	if err == nil {
		err = w.bumpChanged()
	}
	return outcome{err: err}
}

// flushTouches writes coalesced token uses in one transaction.
func (s *Store) flushTouches() {
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

	err := func() error {
		if _, err := s.exec("BEGIN IMMEDIATE"); err != nil {
			return err
		}
		for id, at := range batch {
			if _, err := s.exec("UPDATE tokens SET last_used = max(last_used, ?) WHERE id = ?", micros(at), id); err != nil {
				_, _ = s.exec("ROLLBACK")
				return err
			}
		}
		_, err := s.exec("COMMIT")
		return err
	}()
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

// flushNow makes the writer write pending token touches now and waits.
func (s *Store) flushNow() {
	ack := make(chan struct{})
	select {
	case s.flush <- ack:
		<-ack
	case <-s.done:
	}
}

// Stats counts the writer's work since Open, for metrics.
type Stats struct {
	Requests     int64 // write requests that ran (committed or failed on their own)
	Commits      int64 // transactions committed for them (Requests/Commits is the mean batch)
	TouchFlushes int64 // transactions that wrote coalesced token touches
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Commits: s.commits.Load(), TouchFlushes: s.touchFlushes.Load()}
}

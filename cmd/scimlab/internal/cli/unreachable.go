package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/all"
)

// targetWatch tells a run whose target stopped answering (exit 3) from one
// whose target answered badly (exit 1). It wraps the transport of the run's
// requests and counts those that got no response at all: the connection was
// refused or reset, the dial timed out, the target closed the connection
// before answering, or the request's timeout ran out before any answer (a
// target that accepts connections and never answers). A request the run
// itself stopped (Ctrl-C) is not counted, and an HTTP status, 500 and 503
// included, is an answer. After the run, one probe (the preflight's request)
// confirms that the target is gone, so that a blip the run recovered from
// does not change the exit code.
//
// A target that gives no answer for goneAfter and at least goneRequests
// requests in a row, none answered in between (or for goneSilent and two
// requests in a row), is taken as gone for the rest of the run: later requests fail at once with errTargetGone instead of each
// waiting out its timeout, so a hung target ends the run in minutes, not
// hours. A target that refuses connections (a restart) is waited for, each
// request sent again until it is taken (rideOut), for up to goneAfter: a
// restart shorter than that loses no check and never trips the watch.
type targetWatch struct {
	probe scimProbe

	mu       sync.Mutex
	failures int
	first    error     // the first transport failure
	streak   int       // requests in a row with no answer
	since    time.Time // when the first of them failed
	gone     error     // set once the streak is long enough: the rest fails at once
	down     time.Time // when the target started refusing connections (zero: it answers)
}

// How long a run of unanswered requests must last, and how many it must
// hold, before the watch takes the target as gone.
var (
	goneAfter    = 30 * time.Second
	goneRequests = 5
	goneSilent   = 2 * time.Minute
)

// errTargetGone is what a request gets once the watch takes the target as
// gone.
var errTargetGone = errors.New("not sent: the target stopped answering earlier in the run")

// watchTarget returns a watch whose probe after the run is p.
func watchTarget(p scimProbe) *targetWatch {
	p.base = strings.TrimRight(p.base, "/")
	return &targetWatch{probe: p}
}

// wrap returns rt with its transport failures counted by w.
func (w *targetWatch) wrap(rt http.RoundTripper) http.RoundTripper {
	return &watchedTransport{next: rt, w: w}
}

// watchedTransport is a transport whose failures a targetWatch counts.
type watchedTransport struct {
	next http.RoundTripper
	w    *targetWatch
}

// RoundTrip sends req and counts a failure that the run's own stop did not
// cause; once the target is taken as gone, it sends nothing.
func (t *watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	w := t.w
	w.mu.Lock()
	gone := w.gone
	w.mu.Unlock()
	if gone != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, gone
	}
	resp, err := t.rideOut(req)
	ctxErr := req.Context().Err()
	switch {
	case err == nil:
		w.mu.Lock()
		w.streak, w.down = 0, time.Time{}
		w.mu.Unlock()
	case ctxErr == nil || errors.Is(ctxErr, context.DeadlineExceeded):
		// No answer: a transport failure, or the request's own timeout.
		cause := err
		if ctxErr != nil && !notSent(err) {
			cause = errors.New("no answer before the request's timeout")
		}
		w.mu.Lock()
		w.failures++
		if w.first == nil {
			w.first = cause
		}
		if w.streak == 0 {
			// A streak of refused connections began when the target
			// started refusing them, before the wait that rode it out.
			w.since = time.Now()
			if !w.down.IsZero() && w.down.Before(w.since) {
				w.since = w.down
			}
		}
		w.streak++
		// Gone: goneRequests in a row over goneAfter; or, for a client that
		// sends one request at a time with a long timeout (replay waits 60 s),
		// two in a row over goneSilent with no answer at all.
		if silent := time.Since(w.since); w.gone == nil && (w.streak >= goneRequests && silent >= goneAfter || w.streak >= 2 && silent >= goneSilent) {
			w.gone = fmt.Errorf("%w (%d requests in a row got no answer over %s; the last: %s)", errTargetGone, w.streak, time.Since(w.since).Round(time.Second), transportCause(cause))
		}
		w.mu.Unlock()
	}
	return resp, err
}

// rideOut sends req; while the target refuses the connection (nothing was
// sent, so any method may be sent again: a restart, a deploy), it sends it
// again after a pause, until the target takes it, the request's own
// context ends, or the target has refused connections for goneAfter since
// it last answered. A restart shorter than that costs the run a wait, not
// the checks that would have run meanwhile. A request whose body cannot be
// read again (no GetBody) is sent once.
func (t *watchedTransport) rideOut(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	pause := 50 * time.Millisecond
	for err != nil && notSent(err) && (req.Body == nil || req.GetBody != nil) {
		w := t.w
		w.mu.Lock()
		if w.down.IsZero() {
			w.down = time.Now()
		}
		down, gone := time.Since(w.down), w.gone
		w.mu.Unlock()
		if gone != nil || down >= goneAfter {
			return resp, err
		}
		timer := time.NewTimer(min(pause, goneAfter-down))
		select {
		case <-req.Context().Done():
			timer.Stop()
			return resp, err
		case <-timer.C:
		}
		pause = min(2*pause, time.Second)
		again := req.Clone(req.Context())
		if req.Body != nil {
			if again.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		resp, err = t.next.RoundTrip(again)
	}
	return resp, err
}

// notSent reports whether err means the request never left: the connection
// to the target could not be made (refused, no route, the dial timed out).
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// CloseIdleConnections closes the idle connections of the wrapped transport.
func (t *watchedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// lostTarget is a target that stopped answering during a run.
type lostTarget struct {
	failures int    // requests of the run that got no response
	first    string // the first of them
	cause    string // what the probe after the run got instead of a response
	gone     bool   // the watch stopped sending the run's later requests
}

// lost returns the lost target when some request of the run got no
// response and the probe after the run gets none either; nil when every
// request was answered, or the target answers again.
func (w *targetWatch) lost(ctx context.Context) *lostTarget {
	w.mu.Lock()
	failures, first, gone := w.failures, w.first, w.gone != nil
	w.mu.Unlock()
	if failures == 0 || ctx.Err() != nil {
		return nil
	}
	_, err := w.probe.get(ctx, "/Users?count=1")
	if !errors.Is(err, all.ErrUnreachable) || ctx.Err() != nil {
		return nil
	}
	return &lostTarget{failures: failures, first: transportCause(first), cause: transportCause(err), gone: gone}
}

// transportCause says why a request got no response, without the request's
// URL (the transport's own error names the address it dialled) and without a
// bare EOF.
func transportCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the target closed the connection before answering"
	}
	return err.Error()
}

// checkTargetLost is the ID of the check a run gets when its target stopped
// answering and none of its required checks failed: the run is incomplete
// and cannot pass.
const checkTargetLost = "RUN-TARGET-LOST"

// record notes in run that its target stopped answering after ran checks,
// and makes sure the run cannot read as passed.
func (l *lostTarget) record(run *reports.Run, ran int) {
	rest := ""
	if l.gone {
		rest = ", and the rest of the run was not sent (each would only have waited out its timeout)"
	}
	run.Notes = append(run.Notes, fmt.Sprintf("the target stopped answering during the run (after %d %s): %d %s got no response (the first: %s)%s; a probe after the run got none either: %s",
		ran, plural(ran, "check", "checks"), l.failures, plural(l.failures, "request", "requests"), l.first, rest, l.cause))
	if run.Failed() {
		return
	}
	run.Checks = append(run.Checks, reports.Check{
		ID: checkTargetLost, Title: "The target answers until the run ends", Area: "run", Level: requiredLevel(run),
		Verdict: reports.Error, Reason: "the target stopped answering during the run: " + l.cause,
	})
}

// requiredLevel is the level of a check added to run so that it fails: the
// level of its first required check (MUST, or an IdP's need), else MUST.
func requiredLevel(run *reports.Run) reports.Level {
	for _, c := range run.Checks {
		if c.Level.Required() {
			return c.Level
		}
	}
	return reports.Must
}

// ranChecks counts the checks of run that reached a verdict from the target:
// neither error nor skipped.
func ranChecks(run *reports.Run) int {
	n := 0
	for _, c := range run.Checks {
		if c.Verdict != reports.Error && c.Verdict != reports.Skipped {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

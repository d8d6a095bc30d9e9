// Package retry is how scimlab's own clients answer a target that says "ask
// again later": 429 Too Many Requests (RFC 6585 §4), or 503 Service
// Unavailable with a Retry-After (RFC 9110 §15.6.4). A careful client waits
// what Retry-After asks (RFC 9110 §10.2.3: delay-seconds or an HTTP-date),
// backs off when it does not say, and gives up after a bounded number of
// tries and a bounded total wait, saying so. The suites and the simulator's
// clean-up retry this way; the simulator's IdP traffic follows the IdP's own
// policy (simulator/idp), which reads Retry-After with DelaySeconds.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DelaySeconds parses the delay-seconds form of a Retry-After value
// (RFC 9110 §10.2.3: 1*DIGIT). ok is false for anything else: empty, an
// HTTP-date, a fraction, a sign.
func DelaySeconds(v string) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return 0, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs > int64(maxDelay/time.Second) {
		return maxDelay, true // digits too many to hold: as long as can be
	}
	return time.Duration(secs) * time.Second, true
}

// maxDelay bounds what DelaySeconds returns, so that a huge value does not
// overflow a Duration.
const maxDelay = 1000 * time.Hour

// After parses a Retry-After value in either form of RFC 9110 §10.2.3:
// delay-seconds, or an HTTP-date taken relative to now (a date already past
// is no wait). ok is false when the value is empty or in neither form.
func After(v string, now time.Time) (d time.Duration, ok bool) {
	if d, ok := DelaySeconds(v); ok {
		return d, true
	}
	t, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Throttled reports whether an answer asks the client to try again later:
// any 429, or a 503 that carries a Retry-After. A 503 without one is an
// outage, not a request to wait.
func Throttled(status int, h http.Header) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return h.Get("Retry-After") != ""
	}
	return false
}

// Policy bounds how a client retries a throttled request. The zero value of
// a field takes its value from Default.
type Policy struct {
	// MaxAttempts is the most tries of one request, the first included.
	MaxAttempts int
	// MaxWait is the longest single wait. A Retry-After asking for more is
	// not waited for: the request gives up at once, saying what was asked.
	MaxWait time.Duration
	// MaxTotal is the longest total wait for one request.
	MaxTotal time.Duration
	// Backoff is the first wait when the answer has no usable Retry-After;
	// each further one doubles it.
	Backoff time.Duration
	// Sleep waits d or until ctx ends (nil: Sleep); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock for an HTTP-date Retry-After (nil: time.Now).
	Now func() time.Time
	// Breaker, when set, is shared by the requests of one run: once it has
	// seen its limit of requests in a row give up, the run stops waiting.
	Breaker *Breaker
}

// Default is the policy of scimlab's own requests: up to 10 tries, waiting
// what Retry-After asks up to 60 s at a time and 2 minutes in all for one
// request; 1 s, 2 s, 4 s … when the target does not say.
var Default = Policy{MaxAttempts: 10, MaxWait: 60 * time.Second, MaxTotal: 2 * time.Minute, Backoff: time.Second}

// Effective returns p with every unset field taken from Default (Sleep and
// Now from this package).
func (p Policy) Effective() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = Default.MaxAttempts
	}
	if p.MaxWait <= 0 {
		p.MaxWait = Default.MaxWait
	}
	if p.MaxTotal <= 0 {
		p.MaxTotal = Default.MaxTotal
	}
	if p.Backoff <= 0 {
		p.Backoff = Default.Backoff
	}
	if p.Sleep == nil {
		p.Sleep = Sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// Wait is one pause before asking again.
type Wait struct {
	// Status is the throttled answer (429 or 503).
	Status int
	// RetryAfter is the header as the target sent it ("" when absent).
	RetryAfter string
	// Waited is how long the client paused.
	Waited time.Duration
}

// Result is what retrying one request took.
type Result struct {
	// Tries counts the requests sent, the first included.
	Tries int
	// Waits are the pauses, in order.
	Waits []Wait
	// Err is a *GaveUpError when the last answer was still throttled, the
	// context's cause when it ended during a wait, else nil.
	Err error
}

// Waited is the total pause.
func (r Result) Waited() time.Duration {
	var d time.Duration
	for _, w := range r.Waits {
		d += w.Waited
	}
	return d
}

// ErrRateLimited is wrapped by every GaveUpError.
var ErrRateLimited = errors.New("rate limited")

// GaveUpError says that a request was still throttled when the policy's
// bounds were reached: the request could not be made, which says nothing
// about the rest of the target's behaviour.
type GaveUpError struct {
	// Status is the last answer (429 or 503); RetryAfter its header.
	Status     int
	RetryAfter string
	Tries      int
	Waited     time.Duration
	// Why names the bound that was reached.
	Why string
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("rate limited: the target answered %d %s %s (Retry-After %s) after waiting %s; %s",
		e.Status, http.StatusText(e.Status), times(e.Tries), quoteOrNone(e.RetryAfter), e.Waited.Round(time.Millisecond), e.Why)
}

// Unwrap makes errors.Is(err, ErrRateLimited) true.
func (e *GaveUpError) Unwrap() error { return ErrRateLimited }

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

func quoteOrNone(v string) string {
	if v == "" {
		return "none"
	}
	return strconv.Quote(v)
}

// Do sends a request with try until its answer is not throttled, or the
// policy gives up. try sends the request once more (attempt counts from 1)
// and returns the answer's status and header, or the error of a request
// that got no answer; Do returns at once on such an error, which the caller
// already holds. The last answer is the caller's too: Do only says, in
// Result.Err, that it was still throttled.
func (p Policy) Do(ctx context.Context, try func(attempt int) (status int, h http.Header, err error)) Result {
	p = p.Effective()
	var res Result
	var total, backoff time.Duration
	for attempt := 1; ; attempt++ {
		status, h, err := try(attempt)
		res.Tries = attempt
		if err != nil || !Throttled(status, h) {
			if err == nil {
				p.Breaker.reset()
			}
			return res
		}
		ra := h.Get("Retry-After")
		gaveUp := func(why string) Result {
			res.Err = &GaveUpError{Status: status, RetryAfter: ra, Tries: attempt, Waited: total, Why: why}
			p.Breaker.trip()
			return res
		}
		wait, ok := After(ra, p.Now())
		if !ok {
			if backoff == 0 {
				backoff = p.Backoff
			} else {
				backoff *= 2
			}
			wait = min(backoff, p.MaxWait)
		}
		switch {
		case p.Breaker.open() && (attempt >= 2 || wait > breakerWait):
			return gaveUp(fmt.Sprintf("%d requests in a row were still throttled after waiting, so scimlab now waits only once, and at most %s, until an answer comes through", p.Breaker.limit(), breakerWait))
		case attempt >= p.MaxAttempts:
			return gaveUp(fmt.Sprintf("scimlab tries a request at most %d times", p.MaxAttempts))
		case wait > p.MaxWait:
			return gaveUp(fmt.Sprintf("the target asks to wait %s, longer than the %s scimlab waits at a time", wait.Round(time.Second), p.MaxWait))
		case total+wait > p.MaxTotal:
			return gaveUp(fmt.Sprintf("waiting %s more would pass the %s scimlab waits for one request", wait.Round(time.Millisecond), p.MaxTotal))
		}
		if err := p.Sleep(ctx, wait); err != nil {
			res.Err = err
			return res
		}
		total += wait
		res.Waits = append(res.Waits, Wait{Status: status, RetryAfter: ra, Waited: wait})
	}
}

// Breaker cuts the waiting of a run whose target stays throttled: after
// Limit requests in a row gave up, a throttled request waits once, and only
// if Retry-After asks for breakerWait or less, until an answer comes
// through unthrottled. It keeps a run against a target that never lets up
// from waiting MaxTotal on every request, and still lets a short throttle
// pass.
type Breaker struct {
	// Limit is how many requests in a row may give up (0: 3).
	Limit int

	mu     sync.Mutex
	inARow int
}

// breakerWait is the longest wait of a request while the breaker is open.
const breakerWait = 2 * time.Second

func (b *Breaker) limit() int {
	if b.Limit <= 0 {
		return 3
	}
	return b.Limit
}

func (b *Breaker) open() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inARow >= b.limit()
}

func (b *Breaker) trip() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.inARow++
	b.mu.Unlock()
}

func (b *Breaker) reset() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.inARow = 0
	b.mu.Unlock()
}

// Transport retries, under Policy, the throttled answers of the requests it
// carries, for a client scimlab does not drive itself (the bug pack's
// replayer). A request whose body cannot be sent again is not retried. A
// request still throttled at the end is the error (a *GaveUpError), not
// the answer. The http.Client's Timeout covers the waits too: give it
// Policy.Effective().MaxTotal more.
type Transport struct {
	Next   http.RoundTripper
	Policy Policy
	// Observe, when set, is told what retrying each request took.
	Observe func(Result)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return next.RoundTrip(req)
	}
	var resp *http.Response
	var sendErr error
	res := t.Policy.Do(req.Context(), func(attempt int) (int, http.Header, error) {
		r := req
		if attempt > 1 {
			drain(resp)
			r = req.Clone(req.Context())
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					resp, sendErr = nil, err
					return 0, nil, err
				}
				r.Body = body
			}
		}
		resp, sendErr = next.RoundTrip(r)
		if sendErr != nil {
			return 0, nil, sendErr
		}
		return resp.StatusCode, resp.Header, nil
	})
	if t.Observe != nil {
		t.Observe(res)
	}
	switch {
	case sendErr != nil:
		return nil, sendErr
	case res.Err != nil:
		drain(resp)
		return nil, res.Err
	}
	return resp, nil
}

// drain reads a little of a response nobody will read and closes it, so
// that its connection can be used again.
func drain(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Sleep pauses for d or until ctx ends, returning the context's cause then.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

package simulator

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
)

// client sends an IdP's requests to the target: with the IdP's headers, its
// timeout and its 429 policy, under the run's rate limit, timing each try.
type client struct {
	base    string
	idp     *idp.IdP
	rc      *resty.Client
	token   string
	extra   []idp.Header
	scale   float64
	limit   *limiter
	timeout time.Duration
	trace   func(op string)
	// pause waits between tries; tests replace it to see the waits.
	pause func(ctx context.Context, d time.Duration) error

	mu      sync.Mutex
	samples map[string][]time.Duration
	errors  map[string]int

	requests  atomic.Int64
	responded atomic.Bool
	// unreachable is called once when the target cannot be reached at all:
	// a request fails without a response before any response arrived.
	unreachable func(error)
	// first, when set, is shown the first response of the run.
	first func(context.Context, *response)
	// owned lists the users and groups the run created and still holds.
	owned *ledger
}

func newClient(base string, p *idp.IdP, cfg Config, unreachable func(error)) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	conc := max(cfg.Concurrency, p.Concurrency)
	tr.MaxIdleConnsPerHost = conc * 2
	// Send only the IdP's headers: no Accept-Encoding of Go's own. Responses
	// to an IdP that asks for compression (Okta) are decoded in once.
	tr.DisableCompression = true
	if cfg.Insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
	}
	// A redirect is an answer the IdP sees as it is, not one it follows.
	var rt http.RoundTripper = tr
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(tr)
	}
	hc := &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rc := resty.NewWithClient(hc)
	rc.SetLogger(quietLogger{})
	var extra []idp.Header
	for k, v := range cfg.Headers {
		extra = append(extra, idp.Header{Name: k, Value: v})
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	return &client{
		base:        base,
		idp:         p,
		rc:          rc,
		token:       cfg.Token,
		extra:       extra,
		scale:       cfg.TimeScale,
		limit:       newLimiter(cfg.Rate),
		timeout:     p.Timeout,
		samples:     map[string][]time.Duration{},
		errors:      map[string]int{},
		unreachable: unreachable,
		trace:       cfg.trace,
		pause:       retry.Sleep,
		owned:       newLedger(),
	}
}

// close releases the client's idle connections, so that a server shut down
// after the run does not wait for connections the client dialled but never
// used.
func (c *client) close() { c.rc.GetClient().CloseIdleConnections() }

// response is the outcome of one IdP request after the IdP's retries.
type response struct {
	req      idp.Request
	status   int
	header   http.Header
	body     []byte
	latency  time.Duration
	attempts int
	// waited is the total pause between tries (429 retries), unscaled.
	waited time.Duration
	// err is set when no usable response arrived: a transport error, the
	// IdP's timeout, or the run's cancellation.
	err error

	httpReq  *http.Request
	httpResp *http.Response
}

// exchange returns the last try as report evidence, redacted.
func (r *response) exchange() reports.Exchange {
	return reports.NewExchange(r.httpReq, r.req.Body, r.httpResp, r.body, r.latency)
}

// errTimeout marks a request the IdP gave up waiting for.
var errTimeout = errors.New("no response within the IdP's timeout")

// errStopped marks a request cut short because the run stopped (Ctrl-C, or
// the target proved unreachable); it says nothing about the target.
var errStopped = errors.New("run stopped")

func stopped(ctx context.Context) error { return fmt.Errorf("%w: %w", errStopped, context.Cause(ctx)) }

// do sends req for operation op and applies the IdP's 429 policy.
func (c *client) do(ctx context.Context, op string, req idp.Request) *response {
	var prev, waited time.Duration
	for attempt := 1; ; attempt++ {
		res := c.once(ctx, op, req)
		res.attempts, res.waited = attempt, waited
		if res.err != nil || res.status != http.StatusTooManyRequests {
			return res
		}
		wait, ok := c.idp.Retry.Wait(attempt, prev, res.header.Get(c.idp.Retry.Header))
		if !ok {
			return res
		}
		prev = wait
		waited += wait
		if err := c.pause(ctx, scaled(wait, c.scale)); err != nil {
			res.err = stopped(ctx)
			return res
		}
	}
}

// opProbe is the operation name of the simulator's own probe of a target
// whose first answer was a 404 (see noCollection).
const opProbe = "probe"

// opVerify is the operation name of the end-state read-back (verify.go).
const opVerify = "verify"

// ownOp reports whether requests of op are the simulator's own (a probe,
// the end-state read-back, the clean-up, the edge-cases phase's create of a
// userName the IdP's lookup found), not the IdP's: the run's request count
// and latency figures leave them out, and they carry ownUserAgent instead
// of the IdP's.
func ownOp(op string) bool {
	return op == opProbe || op == opVerify || op == opCleanup || op == opEdgeProbe
}

// ownUserAgent is the User-Agent of the simulator's own requests of op, so
// that a recording or the target's log never takes them for the IdP's.
func ownUserAgent(op string) string { return "scimlab-simulator/" + op }

// once sends one try.
func (c *client) once(ctx context.Context, op string, req idp.Request) *response {
	res := &response{req: req}
	if err := c.limit.wait(ctx); err != nil {
		res.err = stopped(ctx)
		res.httpReq = c.describe(req)
		return res
	}
	actx, cancel := requestContext(ctx, c.timeout)
	defer cancel()
	r := c.rc.R().SetContext(actx)
	for _, h := range c.idp.Headers {
		r.SetHeader(h.Name, h.Value)
	}
	if req.Body != nil {
		for _, h := range c.idp.BodyHeaders {
			r.SetHeader(h.Name, h.Value)
		}
		r.SetBody(req.Body)
	}
	if c.token != "" {
		r.SetHeader("Authorization", "Bearer "+c.token)
	}
	for _, h := range c.extra {
		r.SetHeader(h.Name, h.Value)
	}
	if ownOp(op) {
		r.SetHeader("User-Agent", ownUserAgent(op))
	}
	if c.trace != nil {
		c.trace(op)
	}
	start := time.Now()
	resp, err := r.Execute(req.Method, c.url(req))
	res.latency = time.Since(start)
	if !ownOp(op) {
		c.requests.Add(1)
		c.sample(op, res.latency)
	}
	if resp != nil {
		res.httpReq = resp.Request.RawRequest
		res.httpResp = resp.RawResponse
	}
	if res.httpReq == nil {
		res.httpReq = c.describe(req)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			res.err = stopped(ctx)
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			res.err = fmt.Errorf("%w (%s)", errTimeout, c.timeout)
		default:
			res.err = transportError(err)
			if !c.responded.Load() && c.unreachable != nil {
				c.unreachable(err)
			}
		}
		res.httpResp = nil
		// A create that got no answer may have been made all the same.
		c.owned.observe(req, res)
		return res
	}
	firstResponse := c.responded.CompareAndSwap(false, true)
	res.status = resp.StatusCode()
	res.header = resp.Header()
	res.body = resp.Body()
	if strings.EqualFold(res.header.Get("Content-Encoding"), "deflate") {
		res.body = inflate(res.body)
	}
	c.owned.observe(req, res)
	if firstResponse && c.first != nil {
		c.first(ctx, res)
	}
	return res
}

// inflightGrace is how long a request already sent may still take after
// the run is interrupted.
const inflightGrace = 5 * time.Second

// requestContext returns the context of one request: the IdP's timeout, and
// the run's end. When the user interrupts the run, a request already sent
// gets inflightGrace to be answered, so that the run learns what it created
// (and removes it) rather than leaving a user it never heard of; when the
// run stops for a cause of its own (the target is unreachable, or refused
// the credential), the request ends at once.
func requestContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(context.Cause(ctx), context.Canceled) && !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			cancel()
			return
		}
		t := time.AfterFunc(inflightGrace, cancel)
		context.AfterFunc(actx, func() { t.Stop() })
	})
	return actx, func() {
		stop()
		cancel()
	}
}

// inflate decodes a "deflate" body (RFC 9110 §8.4.1.2: zlib, though some
// servers send raw DEFLATE); resty decodes gzip itself. A body that decodes
// neither way is returned as it came.
func inflate(b []byte) []byte {
	if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
		if out, err := io.ReadAll(zr); err == nil {
			return out
		}
	}
	if out, err := io.ReadAll(flate.NewReader(bytes.NewReader(b))); err == nil {
		return out
	}
	return b
}

// url is the absolute URL of req.
func (c *client) url(req idp.Request) string {
	u := c.base + req.Path
	if req.Query != "" {
		u += "?" + req.Query
	}
	return u
}

// describe builds the request as it would have been sent, for evidence when
// it never was.
func (c *client) describe(req idp.Request) *http.Request {
	hr, err := http.NewRequest(req.Method, c.url(req), nil)
	if err != nil {
		return nil
	}
	for _, h := range c.idp.Headers {
		hr.Header.Set(h.Name, h.Value)
	}
	if req.Body != nil {
		for _, h := range c.idp.BodyHeaders {
			hr.Header.Set(h.Name, h.Value)
		}
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	return hr
}

func (c *client) sample(op string, d time.Duration) {
	c.mu.Lock()
	c.samples[op] = append(c.samples[op], d)
	c.mu.Unlock()
}

// failed counts a request of op whose check failed.
func (c *client) failed(op string) {
	c.mu.Lock()
	c.errors[op]++
	c.mu.Unlock()
}

// stats returns the latency percentiles and counts of every operation, in
// the order of idp.Steps and then by name.
func (c *client) stats() []reports.OperationStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := make([]string, 0, len(c.samples))
	for op := range c.samples {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		ri, rj := stepRank(ops[i]), stepRank(ops[j])
		if ri != rj {
			return ri < rj
		}
		return ops[i] < ops[j]
	})
	out := make([]reports.OperationStats, 0, len(ops))
	for _, op := range ops {
		st := reports.Percentiles(op, c.samples[op])
		st.Errors = c.errors[op]
		out = append(out, st)
	}
	return out
}

func stepRank(op string) int {
	for i, s := range idp.Steps {
		if string(s) == op {
			return i
		}
	}
	return len(idp.Steps)
}

// errClosed is a transport's bare EOF, said plainly: the target closed the
// connection before any answer.
var errClosed = errors.New("the target closed the connection before answering")

// transportError is err, a request that got no response, without the
// method and URL the client wraps it in (the reason names the request
// already) and without a bare EOF.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errClosed
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// scaled multiplies an IdP wait by the run's time scale (0 counts as 1).
func scaled(d time.Duration, scale float64) time.Duration {
	if scale <= 0 || scale == 1 {
		return d
	}
	return time.Duration(float64(d) * scale)
}

// limiter spaces requests to at most rate per second across all workers.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rate)}
}

func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	return retry.Sleep(ctx, time.Until(l.reserve(time.Now())))
}

// reserve returns the time at which the next request may start, given that
// it is now: the later of now and one interval after the previous slot.
func (l *limiter) reserve(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	return slot
}

// quietLogger keeps resty's warnings out of the user's terminal; every
// failure reaches the report instead.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

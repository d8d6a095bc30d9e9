package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// Faults for testing clients (profile.Faults): added latency, a share of 5xx
// answers, token-bucket rate limits answering 429 with Retry-After in whole
// seconds (RFC 6585 §4, RFC 9110 §10.2.3), and a per-request timeout. Every
// random choice comes from one generator seeded from the profile, so the same
// seed and the same sequence of requests give the same answers. Rate limits
// run on the server clock (Config.Now). Faults apply to the SCIM endpoints
// only, never to /healthz or /metrics.

// withFaults wraps next with the profile's faults, or returns it as it is
// when the profile has none.
func (s *Server) withFaults(next http.Handler) http.Handler {
	if !s.prof.Faults.On() {
		return next
	}
	fi := newFaultInjector(s.prof.Faults, s.prof.Name, s.now, retry.Sleep)
	fi.observe = func(r *http.Request, status int, d time.Duration) {
		pattern := "unmatched"
		if rt, _ := match(strings.TrimPrefix(r.URL.Path, BasePath)); rt != nil {
			pattern = rt.pattern
		}
		s.metrics.observe(pattern, r.Method, status, d)
		s.log.Debug("fault injected", "method", r.Method, "route", pattern, "status", status)
	}
	return fi.wrap(next)
}

// faultInjector holds the generator and the rate-limit buckets of one server.
type faultInjector struct {
	f       profile.Faults
	name    string
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	observe func(r *http.Request, status int, d time.Duration)

	mu  sync.Mutex
	rng *rand.Rand

	reads, writes *limiter // nil: no limit
}

func newFaultInjector(f profile.Faults, name string, now func() time.Time, sleep func(context.Context, time.Duration) error) *faultInjector {
	seed := uint64(f.Seed)
	fi := &faultInjector{
		f:     f,
		name:  name,
		now:   now,
		sleep: sleep,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	if f.RateLimit.On() {
		fi.reads = newLimiter(f.RateLimit)
	}
	if f.WriteRateLimit.On() {
		fi.writes = newLimiter(f.WriteRateLimit)
	}
	return fi
}

// draw takes the next numbers from the generator: whether to fail, with
// which status, and the share of the jitter to add. It always takes three,
// so that the sequence does not depend on the settings.
func (fi *faultInjector) draw() (fail bool, status int, jitter time.Duration) {
	fi.mu.Lock()
	u, j, i := fi.rng.Float64(), fi.rng.Float64(), fi.rng.IntN(len(fi.f.ErrorStatuses))
	fi.mu.Unlock()
	return u < fi.f.ErrorRate, fi.f.ErrorStatuses[i], time.Duration(j * float64(fi.f.Jitter))
}

// isWrite reports whether r counts against the write bucket: POST, PUT,
// PATCH and DELETE, except a POST …/.search, which reads.
func isWrite(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost:
		return !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/.search")
	case http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// credentialKey names the bucket of a request's credential without keeping it.
func credentialKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "anonymous"
	}
	sum := sha256.Sum256([]byte(h))
	return hex.EncodeToString(sum[:8])
}

func (fi *faultInjector) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		answer := func(e *scim.Error) {
			writeError(w, e)
			if fi.observe != nil {
				fi.observe(r, e.Status, time.Since(start))
			}
		}
		l := fi.reads
		if fi.writes != nil && isWrite(r) {
			l = fi.writes
		}
		if l != nil {
			if ok, wait := l.take(credentialKey(r), fi.now()); !ok {
				secs := max(1, int(math.Ceil(wait.Seconds())))
				w.Header().Set("Retry-After", strconv.Itoa(secs))
				answer(errorf(http.StatusTooManyRequests, "", "too many requests: this server allows %s (profile %s); retry after %d s", l.describe(), fi.name, secs))
				return
			}
		}
		fail, status, jitter := fi.draw()
		delay := fi.f.Latency.D() + jitter
		timeout := fi.f.Timeout.D()
		if timeout > 0 && delay >= timeout {
			if fi.sleep(r.Context(), timeout) != nil {
				return
			}
			answer(fi.timedOut())
			return
		}
		if delay > 0 && fi.sleep(r.Context(), delay) != nil {
			return // the client went away
		}
		if fail {
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			answer(errorf(status, "", "injected fault: this server answers %s of requests with a 5xx error (profile %s faults, seed %d)", share(fi.f.ErrorRate), fi.name, fi.f.Seed))
			return
		}
		if timeout > 0 {
			if !serveWithin(w, r, next, timeout-delay) {
				answer(fi.timedOut())
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (fi *faultInjector) timedOut() *scim.Error {
	return errorf(http.StatusServiceUnavailable, "", "the request took longer than this server's timeout of %s (profile %s faults.timeout)", fi.f.Timeout, fi.name)
}

func share(v float64) string {
	return strconv.FormatFloat(v*100, 'f', -1, 64) + "%"
}

// serveWithin runs next with a deadline, its response held back until it
// finishes; it reports false, having written nothing, when the deadline
// passes first. The handler goes on in the background with a cancelled
// context, as a real server's would.
func serveWithin(w http.ResponseWriter, r *http.Request, next http.Handler, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	bw := &heldWriter{header: http.Header{}}
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		next.ServeHTTP(bw, r.WithContext(ctx))
	}()
	select {
	case v := <-done:
		if v != nil {
			panic(v) // to the recoverer, as if the handler had run here
		}
		bw.copyTo(w)
		return true
	case <-ctx.Done():
		return false
	}
}

// heldWriter is a ResponseWriter that keeps the response until copyTo.
type heldWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldWriter) Header() http.Header { return h.header }

func (h *heldWriter) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldWriter) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(b)
}

func (h *heldWriter) copyTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	w.Write(h.body.Bytes())
}

// limiter is a token bucket per key (or one for all, scope server).
type limiter struct {
	rate, burst float64
	server      bool

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(r profile.RateLimit) *limiter {
	return &limiter{rate: r.PerSecond, burst: float64(r.Burst), server: r.Scope == profile.ScopeServer, buckets: map[string]*bucket{}}
}

func (l *limiter) describe() string {
	rate := strconv.FormatFloat(l.rate, 'g', 4, 64) + " requests a second"
	if l.rate < 1 {
		rate = strconv.FormatFloat(l.rate*60, 'g', 4, 64) + " requests a minute"
	}
	scope := "per credential"
	if l.server {
		scope = "for all clients together"
	}
	return fmt.Sprintf("%s with bursts of %d, %s", rate, int(l.burst), scope)
}

// take spends a token of key's bucket at now, or reports how long until one
// is there.
func (l *limiter) take(key string, now time.Time) (bool, time.Duration) {
	if l.server {
		key = ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= 10_000 {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(l.burst, b.tokens+el.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune forgets the buckets that are full again.
func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// fakeClock is a settable clock for rate-limit tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func withFaultsOpt(f profile.Faults, clk *fakeClock) envOpt {
	return func(p *profile.Profile, c *Config) {
		p.Faults = f
		if clk != nil {
			c.Now = clk.Now
		}
	}
}

// statuses sends n requests and returns their statuses.
func statuses(e *env, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = e.do("GET", "/ServiceProviderConfig", nil).Status
	}
	return out
}

func TestFaultsAreSeeded(t *testing.T) {
	f := profile.Faults{ErrorRate: 0.3, Seed: 42}
	a := statuses(newEnv(t, withFaultsOpt(f, nil)), 200)
	b := statuses(newEnv(t, withFaultsOpt(f, nil)), 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different answers:\n%v\n%v", a, b)
	}
	f.Seed = 43
	c := statuses(newEnv(t, withFaultsOpt(f, nil)), 200)
	if slices.Equal(a, c) {
		t.Error("another seed gave the same answers")
	}
	failed := 0
	for _, s := range a {
		switch s {
		case 200:
		case 500, 502, 503, 504:
			failed++
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if failed == 0 || failed == len(a) {
		t.Errorf("%d of %d failed with errorRate 0.3", failed, len(a))
	}
	// The seed comes from --fault-seed too, and errorStatuses narrows the choice.
	p, err := profile.Resolve("rfc", "", false, profile.FaultFlags{ErrorRate: "100%", Seed: "7"})
	if err != nil {
		t.Fatal(err)
	}
	p.Faults.ErrorStatuses = []int{503}
	e := newEnv(t, withProfile(p))
	r := e.do("GET", "/Users", nil)
	se := wantError(t, r, 503, "")
	if r.Header.Get("Retry-After") != "1" || !strings.Contains(se.Detail, "injected fault") {
		t.Errorf("injected 503: %s %v", r, r.Header)
	}
	// Faults touch SCIM only.
	if r := e.do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("/healthz: %s", r)
	}
	if m := e.do("GET", "/metrics", nil); !strings.Contains(string(m.Body), `status="503"`) {
		t.Errorf("injected faults are not in /metrics:\n%s", m.Body)
	}
}

func TestRateLimit(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	e := newEnv(t, withFaultsOpt(profile.Faults{RateLimit: profile.RateLimit{PerSecond: 1, Burst: 2}}, clk))
	for range 2 {
		e.must(200, "GET", "/Users", nil)
	}
	r := e.do("GET", "/Users", nil)
	wantError(t, r, 429, "")
	if ra := r.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	// Each token has its own bucket.
	other, _, err := auth.Create(context.Background(), e.st, "other", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/Users", nil, "Authorization", "Bearer "+other)
	clk.Add(time.Second)
	e.must(200, "GET", "/Users", nil)
	wantError(t, e.do("GET", "/Users", nil), 429, "")

	// A slow rate gives a longer Retry-After, always whole seconds.
	slow := newEnv(t, withFaultsOpt(profile.Faults{RateLimit: profile.RateLimit{PerSecond: 0.1, Burst: 1}}, clk))
	slow.must(200, "GET", "/Users", nil)
	clk.Add(2500 * time.Millisecond)
	r = slow.do("GET", "/Users", nil)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != 429 || err != nil || ra != 8 {
		t.Errorf("slow: %s Retry-After %q", r, r.Header.Get("Retry-After"))
	}
}

func TestWriteRateLimit(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	e := newEnv(t, withFaultsOpt(profile.Faults{WriteRateLimit: profile.RateLimit{PerMinute: 60, Burst: 1}}, clk))
	e.must(201, "POST", "/Users", userBody("a@x.test"))
	wantError(t, e.do("POST", "/Users", userBody("b@x.test")), 429, "")
	// Reads and searches are not writes.
	e.must(200, "GET", "/Users", nil)
	e.must(200, "POST", "/Users/.search", map[string]any{"schemas": []any{scim.SearchRequestSchema}})
	clk.Add(time.Second)
	e.must(201, "POST", "/Users", userBody("b@x.test"))
}

// TestServerScope checks that a server-scoped limit is shared by every token (Slack).
func TestServerScope(t *testing.T) {
	clk := &fakeClock{t: time.Now()}
	e := newEnv(t, withFaultsOpt(profile.Faults{RateLimit: profile.RateLimit{PerSecond: 1, Burst: 1, Scope: profile.ScopeServer}}, clk))
	other, _, err := auth.Create(context.Background(), e.st, "other", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.must(200, "GET", "/Users", nil)
	wantError(t, e.do("GET", "/Users", nil, "Authorization", "Bearer "+other), 429, "")
}

// recordSleep is a sleep that records instead of waiting.
type recordSleep struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (r *recordSleep) sleep(_ context.Context, d time.Duration) error {
	r.mu.Lock()
	r.slept = append(r.slept, d)
	r.mu.Unlock()
	return nil
}

func serveOnce(h http.Handler) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", BasePath+"/Users", nil))
	return w
}

func TestLatencyIsSeeded(t *testing.T) {
	f := profile.Faults{Latency: profile.Duration(30 * time.Millisecond), Jitter: profile.Duration(10 * time.Millisecond), Seed: 5}
	f.ErrorStatuses = profile.DefaultErrorStatuses()
	run := func() []time.Duration {
		rs := &recordSleep{}
		fi := newFaultInjector(f, "x", time.Now, rs.sleep)
		h := fi.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		for range 20 {
			if w := serveOnce(h); w.Code != 200 || w.Body.String() != "ok" {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		}
		return rs.slept
	}
	a, b := run(), run()
	if !slices.Equal(a, b) || len(a) != 20 {
		t.Fatalf("latencies differ or are missing:\n%v\n%v", a, b)
	}
	for _, d := range a {
		if d < 30*time.Millisecond || d > 40*time.Millisecond {
			t.Errorf("latency %s outside [30ms, 40ms]", d)
		}
	}
}

func TestTimeout(t *testing.T) {
	f := profile.Faults{Timeout: profile.Duration(20 * time.Millisecond), Latency: profile.Duration(30 * time.Millisecond), ErrorStatuses: []int{500}}
	rs := &recordSleep{}
	fi := newFaultInjector(f, "x", time.Now, rs.sleep)
	h := fi.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("served after the timeout") }))
	w := serveOnce(h)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "timeout of 20ms") || w.Header().Get("Content-Type") != scim.MediaType {
		t.Errorf("latency over the timeout: %d %s", w.Code, w.Body)
	}
	if !slices.Equal(rs.slept, []time.Duration{20 * time.Millisecond}) {
		t.Errorf("slept %v", rs.slept)
	}

	// A handler slower than the timeout: 503, and the handler's context is cancelled.
	f.Latency = 0
	fi = newFaultInjector(f, "x", time.Now, rs.sleep)
	cancelled := make(chan struct{})
	h = fi.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(cancelled)
		io.WriteString(w, "late")
	}))
	if w := serveOnce(h); w.Code != 503 {
		t.Errorf("slow handler: %d %s", w.Code, w.Body)
	}
	<-cancelled

	// A fast handler's answer passes through whole.
	h = fi.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "1")
		w.WriteHeader(201)
		io.WriteString(w, "made")
	}))
	if w := serveOnce(h); w.Code != 201 || w.Body.String() != "made" || w.Header().Get("X-Test") != "1" {
		t.Errorf("fast handler: %d %q %v", w.Code, w.Body, w.Header())
	}
}

func TestFaultFlagsOnServer(t *testing.T) {
	p, err := profile.Resolve("rfc", "", false, profile.FaultFlags{RateLimit: "1/s:1", Latency: "1ms"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, withProfile(p))
	e.must(200, "GET", "/Users", nil)
	r := e.do("GET", "/Users", nil)
	wantError(t, r, 429, "")
	if _, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil {
		t.Errorf("Retry-After %q is not whole seconds", r.Header.Get("Retry-After"))
	}
	if got := fmt.Sprint(p.Faults.RateLimit); got != "1/s:1" {
		t.Errorf("RateLimit %s", got)
	}
}

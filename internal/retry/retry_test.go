package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var epoch = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func TestAfter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"Mon, 04 May 2026 10:00:30 GMT", 30 * time.Second, true}, // IMF-fixdate
		{"Monday, 04-May-26 10:01:00 GMT", time.Minute, true},     // obsolete RFC 850
		{"Mon May  4 10:00:05 2026", 5 * time.Second, true},       // obsolete asctime
		{"Mon, 04 May 2026 09:00:00 GMT", 0, true},                // past: no wait
		{"99999999999999999999999", maxDelay, true},               // too many digits
		{"", 0, false}, {"1.5", 0, false}, {"-1", 0, false}, {"+5", 0, false}, {"soon", 0, false},
	} {
		got, ok := After(tc.in, epoch)
		if ok != tc.ok || got != tc.want {
			t.Errorf("After(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := DelaySeconds("Mon, 04 May 2026 10:00:30 GMT"); ok {
		t.Error("DelaySeconds takes an HTTP-date")
	}
}

func TestThrottled(t *testing.T) {
	with := http.Header{"Retry-After": {"1"}}
	for _, tc := range []struct {
		status int
		h      http.Header
		want   bool
	}{
		{429, nil, true}, {429, with, true}, {503, with, true}, {503, nil, false}, {500, with, false}, {200, with, false},
	} {
		if got := Throttled(tc.status, tc.h); got != tc.want {
			t.Errorf("Throttled(%d, %v) = %v", tc.status, tc.h, got)
		}
	}
}

// answers returns a try function that answers the given statuses and
// Retry-After values in turn, counting the tries.
func answers(tries *int, seq ...[2]string) func(int) (int, http.Header, error) {
	return func(attempt int) (int, http.Header, error) {
		*tries = attempt
		a := seq[min(attempt, len(seq))-1]
		h := http.Header{}
		if a[1] != "" {
			h.Set("Retry-After", a[1])
		}
		switch a[0] {
		case "429":
			return 429, h, nil
		case "503":
			return 503, h, nil
		}
		return 200, h, nil
	}
}

// fake is a policy whose sleep records the waits and never sleeps.
func fake(p Policy) (Policy, *[]time.Duration) {
	var slept []time.Duration
	p.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	p.Now = func() time.Time { return epoch }
	return p, &slept
}

func TestDoWaitsWhatRetryAfterAsks(t *testing.T) {
	p, slept := fake(Policy{})
	var tries int
	res := p.Do(context.Background(), answers(&tries, [2]string{"429", "2"}, [2]string{"503", "Mon, 04 May 2026 10:00:05 GMT"}, [2]string{"200", ""}))
	if res.Err != nil || tries != 3 || res.Tries != 3 {
		t.Fatalf("err %v, tries %d", res.Err, tries)
	}
	if got := *slept; len(got) != 2 || got[0] != 2*time.Second || got[1] != 5*time.Second {
		t.Fatalf("slept %v, want [2s 5s]", got)
	}
	if res.Waited() != 7*time.Second || len(res.Waits) != 2 || res.Waits[1].Status != 503 {
		t.Fatalf("waits %+v", res.Waits)
	}
}

func TestDoBacksOffWithoutRetryAfter(t *testing.T) {
	p, slept := fake(Policy{})
	var tries int
	res := p.Do(context.Background(), answers(&tries, [2]string{"429", ""}, [2]string{"429", "soon"}, [2]string{"429", ""}, [2]string{"200", ""}))
	if res.Err != nil || tries != 4 {
		t.Fatalf("err %v, tries %d", res.Err, tries)
	}
	if got := *slept; len(got) != 3 || got[0] != time.Second || got[1] != 2*time.Second || got[2] != 4*time.Second {
		t.Fatalf("slept %v, want [1s 2s 4s]", got)
	}
}

func TestDoGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		p      Policy
		seq    [][2]string
		tries  int
		slept  int
		reason string
	}{
		{"attempts", Policy{}, [][2]string{{"429", "1"}}, 10, 9, "at most 10 times"},
		{"one wait too long", Policy{}, [][2]string{{"429", "1"}, {"429", "3600"}}, 2, 1, "asks to wait 1h0m0s, longer than the 1m0s"},
		{"total", Policy{MaxTotal: 100 * time.Second}, [][2]string{{"429", "45"}}, 3, 2, "pass the 1m40s scimlab waits for one request"},
		{"503 with date", Policy{MaxAttempts: 2}, [][2]string{{"503", "Mon, 04 May 2026 10:00:01 GMT"}}, 2, 1, "at most 2 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, slept := fake(tc.p)
			var tries int
			res := p.Do(context.Background(), answers(&tries, tc.seq...))
			var gu *GaveUpError
			if !errors.As(res.Err, &gu) || !errors.Is(res.Err, ErrRateLimited) {
				t.Fatalf("err %v, want a GaveUpError", res.Err)
			}
			if tries != tc.tries || gu.Tries != tc.tries || len(*slept) != tc.slept {
				t.Fatalf("tries %d (error says %d), slept %v; want %d tries, %d waits", tries, gu.Tries, *slept, tc.tries, tc.slept)
			}
			if !strings.Contains(res.Err.Error(), tc.reason) || !strings.HasPrefix(res.Err.Error(), "rate limited: the target answered ") {
				t.Fatalf("error %q, want it to say %q", res.Err, tc.reason)
			}
		})
	}
}

func TestDoStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	p := Policy{Sleep: func(context.Context, time.Duration) error { cancel(stop); return stop }}
	var tries int
	res := p.Do(ctx, answers(&tries, [2]string{"429", "1"}))
	if !errors.Is(res.Err, stop) || tries != 1 {
		t.Fatalf("err %v, tries %d", res.Err, tries)
	}
}

func TestDoLeavesOtherAnswersAndErrorsAlone(t *testing.T) {
	p, slept := fake(Policy{})
	for _, status := range []int{200, 400, 404, 500, 503} {
		res := p.Do(context.Background(), func(int) (int, http.Header, error) { return status, http.Header{}, nil })
		if res.Err != nil || res.Tries != 1 {
			t.Errorf("%d: %+v", status, res)
		}
	}
	boom := errors.New("connection refused")
	res := p.Do(context.Background(), func(int) (int, http.Header, error) { return 0, nil, boom })
	if res.Err != nil || res.Tries != 1 || len(*slept) != 0 {
		t.Errorf("transport error: %+v, slept %v", res, *slept)
	}
}

func TestBreaker(t *testing.T) {
	b := &Breaker{Limit: 2}
	p, slept := fake(Policy{MaxAttempts: 2, Breaker: b})
	var tries int
	always := answers(&tries, [2]string{"429", "1"})
	for i := 0; i < 2; i++ {
		if res := p.Do(context.Background(), always); res.Err == nil {
			t.Fatal("want a give-up")
		}
	}
	// Open: one short wait, no more; a long Retry-After is not waited for.
	n := len(*slept)
	p.MaxAttempts = 5
	res := p.Do(context.Background(), always)
	if res.Err == nil || len(*slept) != n+1 || res.Tries != 2 || !strings.Contains(res.Err.Error(), "2 requests in a row") {
		t.Fatalf("open breaker: err %v, %d tries, slept %d more", res.Err, res.Tries, len(*slept)-n)
	}
	res = p.Do(context.Background(), answers(&tries, [2]string{"429", "30"}))
	if res.Err == nil || len(*slept) != n+1 || res.Tries != 1 {
		t.Fatalf("open breaker, long wait: err %v, %d tries", res.Err, res.Tries)
	}
	// A short throttle still passes.
	if res := p.Do(context.Background(), answers(&tries, [2]string{"429", "1"}, [2]string{"200", ""})); res.Err != nil {
		t.Fatalf("open breaker, short throttle: %v", res.Err)
	}
	// That answer came through and closed it again.
	if res := p.Do(context.Background(), answers(&tries, [2]string{"429", "1"}, [2]string{"429", "30"}, [2]string{"200", ""})); res.Err != nil || res.Tries != 3 {
		t.Fatalf("closed breaker: %v after %d tries", res.Err, res.Tries)
	}
}

func TestTransport(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Policy: Policy{Sleep: func(context.Context, time.Duration) error { return nil }}}}
	resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"a":1}` || n.Load() != 3 {
		t.Fatalf("status %d, body %q after %d tries", resp.StatusCode, body, n.Load())
	}
	n.Store(-100)
	_, err = c.Get(srv.URL)
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err %v, want rate limited", err)
	}
}

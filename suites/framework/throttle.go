package framework

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/internal/retry"
)

// retryPolicy is how the run's requests answer a throttled target: the
// configured policy (retry.Default where unset), with one breaker for the
// whole run, so that a target that never lets up does not cost every
// request the full wait.
func (t *Target) retryPolicy() retry.Policy {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.Retry.Breaker == nil {
		t.Retry.Breaker = &retry.Breaker{}
	}
	return t.Retry
}

// throttleStats counts what the target's throttling cost the run, for the
// report note that says the target throttled.
type throttleStats struct {
	mu       sync.Mutex
	requests int // requests that met at least one throttled answer
	answers  map[int]int
	waited   time.Duration
	longest  time.Duration
	gaveUp   int
}

var throttling throttleStats

// add records what retrying one request took.
func (s *throttleStats) add(res retry.Result) {
	if len(res.Waits) == 0 && res.Err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.answers == nil {
		s.answers = map[int]int{}
	}
	s.requests++
	for _, w := range res.Waits {
		s.answers[w.Status]++
		s.waited += w.Waited
		s.longest = max(s.longest, w.Waited)
	}
	if gu, ok := res.Err.(*retry.GaveUpError); ok {
		s.answers[gu.Status]++
		s.gaveUp++
	}
}

// note says, when the target throttled the run, how often and what the run
// waited; "" when it never did.
func (s *throttleStats) note(p retry.Policy) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requests == 0 {
		return ""
	}
	var answers []string
	for _, st := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		if n := s.answers[st]; n > 0 {
			answers = append(answers, fmt.Sprintf("%d× %d %s", n, st, http.StatusText(st)))
		}
	}
	p = p.Effective()
	msg := fmt.Sprintf("the target throttled the run: %s on %d %s; the suites waited %s in all as Retry-After asked (longest wait %s; at most %d tries and %s of waiting per request)",
		strings.Join(answers, " and "), s.requests, plural(s.requests, "request", "requests"),
		s.waited.Round(time.Millisecond), s.longest.Round(time.Millisecond), p.MaxAttempts, p.MaxTotal)
	if s.gaveUp > 0 {
		msg += fmt.Sprintf("; %d %s still throttled after that: the checks that sent them are errors (rate limited), not failures", s.gaveUp, plural(s.gaveUp, "request was", "requests were"))
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

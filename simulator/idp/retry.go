package idp

import (
	"time"

	"github.com/scimlab/scimlab/internal/retry"
)

// Wait returns how long the IdP pauses before trying again after the
// attempt-th try of a request was answered 429 (attempt counts from 1), given
// the previous pause (0 before the first) and the response's Retry-After
// header (Header: Retry-After, or SailPoint's x-rate-limit-retry-after-seconds,
// §1.4). ok is false when the IdP gives up instead.
//
// Okta (idp-traffic.md §1.1, "Rate limiting and retries"): an integer
// Retry-After is honoured exactly; a missing one, or one in any other form
// (HTTP-date, fraction, null), means 5 minutes; "each further 429 doubles
// the previous wait"; after 10 attempts the task fails. The doc does not
// say which rule wins when a further 429 carries an integer Retry-After.
// The reading chosen: Retry-After, when usable, is honoured exactly on every
// 429 (the server's latest word), and the doubling applies to a further 429
// without a usable one, starting from the previous pause however it was
// chosen (Retry-After 60 then none: 60 s, 120 s; none then none: 5 min,
// 10 min). TestOktaRetryPolicy pins it.
func (r Retry) Wait(attempt int, prev time.Duration, retryAfter string) (wait time.Duration, ok bool) {
	if !r.On429 || attempt >= r.MaxAttempts {
		return 0, false
	}
	if r.HonourRetryAfter {
		if d, ok := retry.DelaySeconds(retryAfter); ok {
			return d, true
		}
	}
	if prev <= 0 {
		return r.DefaultWait, true
	}
	return time.Duration(float64(prev) * r.Backoff), true
}

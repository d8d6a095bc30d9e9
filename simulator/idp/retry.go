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
// (HTTP-date, fraction, null), means 5 minutes; each further 429 without a
// usable Retry-After doubles the previous pause; after 10 attempts the task
// fails.
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

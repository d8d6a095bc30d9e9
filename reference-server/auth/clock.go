package auth

import (
	"sync"
	"time"
)

// Clock is the one clock the server reads token time through, so that
// tests and `scimlab serve --clock-offset 2160h` can move it and show expiry
// and notices without waiting. Pass its Now method where a func() time.Time
// is wanted (Authenticator.Now, Manager.Now, Notifier.Now, AdminConfig.Now,
// server.Config.Now).
type Clock interface{ Now() time.Time }

// OffsetClock is the wall clock moved by Offset (positive: the future).
type OffsetClock struct{ Offset time.Duration }

// Now returns time.Now() + Offset.
func (c OffsetClock) Now() time.Time { return time.Now().Add(c.Offset) }

// ManualClock is a clock for tests that moves only when told. The zero value
// reads the zero time; it is safe for concurrent use.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock that reads t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock by d and returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

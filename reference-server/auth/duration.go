package auth

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours: token lifespans and notice offsets count whole days, not
// calendar days, so that an expiry is one instant whatever the time zone.
const Day = 24 * time.Hour

// Duration is a time.Duration written as whole days ("90d", "-1d") when it is
// a whole number of days and as a Go duration ("36h", "90m") otherwise, in
// JSON and YAML alike (it implements encoding.TextMarshaler).
type Duration time.Duration

// Days returns a Duration of n days.
func Days(n int) Duration { return Duration(time.Duration(n) * Day) }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns "90d" for whole days, else the Go duration ("36h0m0s").
func (d Duration) String() string {
	if d != 0 && time.Duration(d)%Day == 0 {
		return strconv.FormatInt(int64(time.Duration(d)/Day), 10) + "d"
	}
	if d == 0 {
		return "0d"
	}
	return time.Duration(d).String()
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what
// ParseDuration accepts.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads whole days ("90d", "-1d", "0d") or a Go duration
// ("720h", "-36h"). Unlike the CLI's --ttl it accepts zero and negative
// values, which notice offsets use (-1d: one day after expiry).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("invalid duration %q: want whole days (90d) or a Go duration (720h)", s)
		}
		if maxDays := int64(math.MaxInt64 / Day); err != nil || v > maxDays || v < -maxDays {
			return 0, fmt.Errorf("duration %q is out of range: at most %dd either way", s, maxDays)
		}
		return time.Duration(v) * Day, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want whole days (90d) or a Go duration (720h)", s)
	}
	return v, nil
}

// DaysLeft is d in whole days, rounded up, as people count the days until
// an expiry: 1 with 23h59m left, 14 with 14 days less a second left, 0 when
// d is not positive.
func DaysLeft(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	n := d / Day
	if d%Day != 0 {
		n++
	}
	return int(n)
}

// DaysText is "1 day" or "n days".
func DaysText(n int64) string {
	if n == 1 || n == -1 {
		return strconv.FormatInt(n, 10) + " day"
	}
	return strconv.FormatInt(n, 10) + " days"
}

// MaxTTL is the longest token lifespan: 100 years (36500d), far beyond any
// target's (Resolver's 2 years is the longest in idp-traffic.md Part 2) and
// well inside what a time.Duration and every store can hold.
const MaxTTL = 36500 * Day

var (
	// wholeDays is the number in front of "d".
	wholeDays = regexp.MustCompile(`^-?[0-9]+$`)
	// goDuration is the syntax time.ParseDuration reads, to tell a value
	// past its range from one it cannot read at all.
	goDuration = regexp.MustCompile(`^[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)
)

// ParseTTL reads a token lifespan as `scimlab token create --ttl` and the
// admin page's form take it: whole days ("90d") or a Go duration ("720h"),
// at least a second and at most MaxTTL (see CheckTTL). A day count or
// duration too large to hold is refused as too long, not wrapped around.
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok && wholeDays.MatchString(n) {
		days, err := strconv.ParseInt(n, 10, 64)
		switch {
		case err != nil && n[0] == '-', err == nil && days < 0:
			d = -1
		case err != nil, days > int64(MaxTTL/Day):
			d = MaxTTL + 1
		default:
			d = time.Duration(days) * Day
		}
	} else if v, err := time.ParseDuration(s); err == nil {
		d = v
	} else if goDuration.MatchString(s) {
		// Readable, but past time.Duration's range (about 292 years).
		d = MaxTTL + 1
		if s[0] == '-' {
			d = -1
		}
	} else {
		return 0, fmt.Errorf("invalid lifespan %q: want a Go duration (720h) or whole days (90d)", s)
	}
	if err := CheckTTL(d); err != nil {
		return 0, fmt.Errorf("lifespan %s %w", s, err)
	}
	return d, nil
}

// CheckTTL returns an error, worded to follow "lifespan X", when d is not
// a lifespan a token may have: at least a second and at most MaxTTL.
func CheckTTL(d time.Duration) error {
	switch {
	case d <= 0:
		return errors.New("is not positive: give at least 1s, such as 90d")
	case d < time.Second:
		return errors.New("is under a second: give at least 1s (a shorter token expires before it can be used)")
	case d > MaxTTL:
		return fmt.Errorf("is too long: the longest allowed is %s (100 years)", Duration(MaxTTL))
	}
	return nil
}

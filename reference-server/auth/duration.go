package auth

import (
	"fmt"
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
		v, err := strconv.ParseInt(n, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want whole days (90d) or a Go duration (720h)", s)
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

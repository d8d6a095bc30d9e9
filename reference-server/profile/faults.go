package profile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a Go duration ("250ms", "2s") in
// YAML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the Go form ("250ms").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a Go duration such as 250ms or 2s", string(b))
	}
	*d = Duration(v)
	return nil
}

// RateLimit is a token bucket: Burst requests at once, refilled at
// PerSecond. PerMinute and PerHour are other ways to write the rate (one of
// the three at most); Validate turns them into PerSecond and clears them. A
// zero rate is no limit.
type RateLimit struct {
	PerSecond float64 `json:"perSecond,omitempty" yaml:"perSecond,omitempty"`
	PerMinute float64 `json:"perMinute,omitempty" yaml:"perMinute,omitempty"`
	PerHour   float64 `json:"perHour,omitempty" yaml:"perHour,omitempty"`
	// Burst is the bucket size (0: the rate per second, rounded up, at least 1).
	Burst int `json:"burst,omitempty" yaml:"burst,omitempty"`
	// Scope is ScopeToken (a bucket per credential, the default) or ScopeServer.
	Scope string `json:"scope,omitempty" yaml:"scope,omitempty"`
}

// On reports whether the limit applies.
func (r RateLimit) On() bool { return r.PerSecond > 0 || r.PerMinute > 0 || r.PerHour > 0 }

// String writes a validated limit as ParseRateLimit reads it ("10/s:20").
func (r RateLimit) String() string {
	if !r.On() {
		return "off"
	}
	return strconv.FormatFloat(r.PerSecond, 'g', 6, 64) + "/s:" + strconv.Itoa(r.Burst)
}

func (r *RateLimit) validate(field string) []error {
	var errs []error
	n := 0
	for _, v := range []float64{r.PerSecond, r.PerMinute, r.PerHour} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			errs = append(errs, fieldErr(field, "the rate must be a positive number (got %v)", v))
		}
		if v > 0 {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, fieldErr(field, "give one of perSecond, perMinute and perHour"))
	}
	switch {
	case n > 1:
	case r.PerMinute > 0:
		r.PerSecond, r.PerMinute = r.PerMinute/60, 0
	case r.PerHour > 0:
		r.PerSecond, r.PerHour = r.PerHour/3600, 0
	}
	if r.Burst < 0 {
		errs = append(errs, fieldErr(field+".burst", "must not be negative (got %d)", r.Burst))
	}
	if r.PerSecond > 0 && r.Burst == 0 {
		r.Burst = max(1, int(math.Ceil(r.PerSecond)))
	}
	switch r.Scope {
	case "":
		r.Scope = ScopeToken
	case ScopeToken, ScopeServer:
	default:
		errs = append(errs, fieldErr(field+".scope", "must be %s or %s, not %q", ScopeToken, ScopeServer, r.Scope))
	}
	return errs
}

// Faults are failures the server injects to test clients. Every random
// choice comes from one generator seeded with Seed, so the same seed and the
// same sequence of requests give the same answers (with concurrent requests
// the order of arrival decides which request draws which number).
type Faults struct {
	// Seed seeds the generator (0: 1).
	Seed int64 `json:"seed,omitempty" yaml:"seed,omitempty"`
	// Latency is added to every SCIM request, plus a random share of Jitter.
	Latency Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
	Jitter  Duration `json:"jitter,omitempty" yaml:"jitter,omitempty"`
	// ErrorRate is the share of requests (0 to 1) answered with a 5xx SCIM
	// Error instead of being served; the status is drawn from ErrorStatuses.
	ErrorRate     float64 `json:"errorRate,omitempty" yaml:"errorRate,omitempty"`
	ErrorStatuses []int   `json:"errorStatuses,omitempty" yaml:"errorStatuses,omitempty"`
	// RateLimit limits every request (or only reads when WriteRateLimit is
	// on); over it is 429 with Retry-After in whole seconds (RFC 6585 §4).
	RateLimit RateLimit `json:"rateLimit,omitzero" yaml:"rateLimit,omitempty"`
	// WriteRateLimit, when on, limits POST, PUT, PATCH and DELETE (other than
	// POST …/.search) with a bucket of its own (Slack: writes and reads differ).
	WriteRateLimit RateLimit `json:"writeRateLimit,omitzero" yaml:"writeRateLimit,omitempty"`
	// Timeout answers 503 when a request (with its added latency) takes
	// longer (0: no timeout).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// On reports whether any fault is set.
func (f Faults) On() bool {
	return f.Latency > 0 || f.Jitter > 0 || f.ErrorRate > 0 || f.RateLimit.On() || f.WriteRateLimit.On() || f.Timeout > 0
}

// DefaultErrorStatuses are the statuses of injected errors when a profile names none.
func DefaultErrorStatuses() []int { return []int{500, 502, 503, 504} }

func (f *Faults) validate() []error {
	var errs []error
	if f.Seed == 0 {
		f.Seed = 1
	}
	if f.Latency < 0 {
		errs = append(errs, fieldErr("faults.latency", "must not be negative (got %s)", f.Latency))
	}
	if f.Jitter < 0 {
		errs = append(errs, fieldErr("faults.jitter", "must not be negative (got %s)", f.Jitter))
	}
	if f.Timeout < 0 {
		errs = append(errs, fieldErr("faults.timeout", "must not be negative (got %s)", f.Timeout))
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || math.IsNaN(f.ErrorRate) {
		errs = append(errs, fieldErr("faults.errorRate", "must be between 0 and 1 (got %v)", f.ErrorRate))
	}
	if len(f.ErrorStatuses) == 0 {
		f.ErrorStatuses = DefaultErrorStatuses()
	}
	for i, s := range f.ErrorStatuses {
		if s < 500 || s > 599 {
			errs = append(errs, fieldErr(fmt.Sprintf("faults.errorStatuses[%d]", i), "must be a 5xx status (got %d)", s))
		}
	}
	errs = append(errs, f.RateLimit.validate("faults.rateLimit")...)
	errs = append(errs, f.WriteRateLimit.validate("faults.writeRateLimit")...)
	return errs
}

// FaultFlags are the fault settings given on the command line; an empty
// string keeps the profile's value.
type FaultFlags struct {
	// ErrorRate is --fault-rate: a share ("0.05") or a percentage ("5%").
	ErrorRate string
	// RateLimit is --rate-limit: see ParseRateLimit ("off" removes the profile's).
	RateLimit string
	// Latency is --latency: a Go duration ("200ms").
	Latency string
	// Timeout is --timeout: a Go duration ("2s").
	Timeout string
	// Seed is --fault-seed: an integer.
	Seed string
}

// Empty reports whether no flag is set.
func (f FaultFlags) Empty() bool {
	return f.ErrorRate == "" && f.RateLimit == "" && f.Latency == "" && f.Timeout == "" && f.Seed == ""
}

// apply sets the flags on faults; errors name the flag.
func (f FaultFlags) apply(to *Faults) error {
	var errs []error
	if s := strings.TrimSpace(f.ErrorRate); s != "" {
		v, err := ParseErrorRate(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--fault-rate: %w", err))
		}
		to.ErrorRate = v
	}
	if s := strings.TrimSpace(f.RateLimit); s != "" {
		v, err := ParseRateLimit(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--rate-limit: %w", err))
		}
		to.RateLimit = v
		if !v.On() {
			to.WriteRateLimit = RateLimit{}
		}
	}
	if s := strings.TrimSpace(f.Latency); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("--latency: %q is not a duration such as 200ms", s))
		}
		to.Latency = Duration(v)
	}
	if s := strings.TrimSpace(f.Timeout); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("--timeout: %q is not a duration such as 2s", s))
		}
		to.Timeout = Duration(v)
	}
	if s := strings.TrimSpace(f.Seed); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("--fault-seed: %q is not an integer", s))
		}
		to.Seed = v
	}
	return errors.Join(errs...)
}

// ParseErrorRate reads a share of requests: "0.05" or "5%".
func ParseErrorRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	div := 1.0
	if v, ok := strings.CutSuffix(s, "%"); ok {
		s, div = strings.TrimSpace(v), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a share such as 0.05 or 5%%", s)
	}
	v /= div
	if v < 0 || v > 1 {
		return 0, fmt.Errorf("%q is not between 0 and 1 (0%% and 100%%)", s)
	}
	return v, nil
}

// ParseRateLimit reads a rate limit: RATE[/UNIT][:BURST], where UNIT is s,
// m or h (default s) and BURST defaults to the rate per second rounded up:
// "10" (10 a second), "10/s:20", "600/m:180", "1000/h". "off" or "0" is no
// limit.
func ParseRateLimit(s string) (RateLimit, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") || s == "0" {
		return RateLimit{}, nil
	}
	bad := fmt.Errorf("%q is not a rate limit such as 10/s, 10/s:20 or 600/m:180", s)
	rate, burst, hasBurst := strings.Cut(s, ":")
	num, unit, _ := strings.Cut(rate, "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return RateLimit{}, bad
	}
	var r RateLimit
	switch strings.ToLower(strings.TrimSpace(unit)) {
	case "", "s", "sec", "second":
		r.PerSecond = v
	case "m", "min", "minute":
		r.PerMinute = v
	case "h", "hour":
		r.PerHour = v
	default:
		return RateLimit{}, bad
	}
	if hasBurst {
		b, err := strconv.Atoi(strings.TrimSpace(burst))
		if err != nil || b < 1 {
			return RateLimit{}, bad
		}
		r.Burst = b
	}
	if errs := r.validate("rateLimit"); len(errs) > 0 {
		return RateLimit{}, errors.Join(errs...)
	}
	return r, nil
}

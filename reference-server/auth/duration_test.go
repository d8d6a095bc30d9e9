package auth

import (
	"strings"
	"testing"
	"time"
)

// A lifespan is whole days or a Go duration, from 1s to MaxTTL; anything
// past that is refused as too long, never wrapped around to another expiry.
func TestParseTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string // "" = accepted
	}{
		{"90d", 90 * Day, ""},
		{" 90d ", 90 * Day, ""},
		{"720h", 720 * time.Hour, ""},
		{"1s", time.Second, ""},
		{"36500d", MaxTTL, ""},
		{"876000h", MaxTTL, ""},
		{"36501d", 0, "lifespan 36501d is too long: the longest allowed is 36500d (100 years)"},
		{"106752d", 0, "too long"},
		{"99999999d", 0, "too long"},
		{"2147483647d", 0, "too long"},
		{"9223372036854775808d", 0, "too long"},
		{"876001h", 0, "too long"},
		{"9999999999h", 0, "too long"},
		{"99999999999999999999s", 0, "too long"},
		{"1ns", 0, "lifespan 1ns is under a second: give at least 1s"},
		{"999ms", 0, "under a second"},
		{"0d", 0, "lifespan 0d is not positive: give at least 1s, such as 90d"},
		{"0", 0, "not positive"},
		{"0s", 0, "not positive"},
		{"-1d", 0, "not positive"},
		{"-5m", 0, "not positive"},
		{"-9223372036854775809d", 0, "not positive"},
		{"-9999999999h", 0, "not positive"},
		{"soon", 0, `invalid lifespan "soon"`},
		{"1.5d", 0, "invalid lifespan"},
		{"90", 0, "invalid lifespan"},
		{"d", 0, "invalid lifespan"},
		{"-d", 0, "invalid lifespan"},
		{"+5d", 0, "invalid lifespan"},
		{"1y", 0, "invalid lifespan"},
		{"", 0, "invalid lifespan"},
	}
	for _, tc := range tests {
		got, err := ParseTTL(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseTTL(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseTTL(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

// Profile durations (lifespans, notice offsets) may be negative, but a day
// count past time.Duration's range is refused, not wrapped around.
func TestParseDurationRange(t *testing.T) {
	for _, in := range []string{"106752d", "-106752d", "2147483647d", "99999999999999999999d"} {
		if d, err := ParseDuration(in); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("ParseDuration(%q) = %v, %v; want out of range", in, d, err)
		}
	}
	if d, err := ParseDuration("-106751d"); err != nil || d != -106751*Day {
		t.Errorf("ParseDuration(-106751d) = %v, %v", d, err)
	}
}

// FuzzParseTTL: whatever the input, a lifespan is refused or lies in
// [1s, MaxTTL].
func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"90d", "720h", "-1d", "1ns", "99999999d", "2147483647d", "9999999999h", "1.5d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseTTL(s)
		if err == nil && (d < time.Second || d > MaxTTL) {
			t.Fatalf("ParseTTL(%q) = %v, outside [1s, %v]", s, d, MaxTTL)
		}
	})
}

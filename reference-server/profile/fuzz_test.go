package profile

import (
	"testing"

	"github.com/scimlab/scimlab/fixtures"
)

// FuzzParse: any bytes give a validated profile or an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		b, err := fixtures.Profiles.ReadFile("profiles/" + n + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: x\nusers: {limits: {userName: 3}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, "fuzz.yaml")
		if err == nil && p == nil {
			t.Fatal("nil profile without an error")
		}
	})
}

// FuzzFaultFlags: the --fault-rate and --rate-limit parsers never panic and
// never accept a negative rate.
func FuzzFaultFlags(f *testing.F) {
	for _, s := range []string{"5%", "0.05", "600/m:180", "off", "10/s", "", "-1", "1e400%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseErrorRate(s); err == nil && (r < 0 || r > 1) {
			t.Fatalf("ParseErrorRate(%q) = %v", s, r)
		}
		_, _ = ParseRateLimit(s)
	})
}

package auth

import "testing"

// FuzzParseDuration: lifespans ("90d", "720h", "-1d") parse or fail, never panic.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "720h", "-1d", "1y", "", "9999999999999d", "1.5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseDuration(s)
	})
}

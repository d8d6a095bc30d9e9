package auth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseDuration: lifespans ("90d", "720h", "-1d") parse or fail, never panic.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "720h", "-1d", "1y", "", "9999999999999d", "1.5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseDuration(s)
	})
}

// FuzzQueryHasToken: whatever a query string's encoding, a parameter that
// net/url reads as access_token is found.
func FuzzQueryHasToken(f *testing.F) {
	for _, s := range []string{"access_token=x", "access%5Ftoken=x", "a=1&%61ccess_token=", "filter=access_token", "%zz&access_token"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for part := range strings.SplitSeq(raw, "&") {
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err == nil && n == "access_token" && !QueryHasToken(raw) {
				t.Fatalf("%q carries access_token, not found", raw)
			}
		}
		if q, err := url.ParseQuery(raw); err == nil && q.Has("access_token") && !QueryHasToken(raw) {
			t.Fatalf("%q carries access_token for net/url, not found", raw)
		}
	})
}

package replayer

import "testing"

func TestRFCClause(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"POST", "/Users", "RFC7644 §3.3"},
		{"post", "/Groups/", "RFC7644 §3.3"},
		{"GET", "/Users/2819c223", "RFC7644 §3.4.1"},
		{"GET", "/Users", "RFC7644 §3.4.2"},
		{"POST", "/Users/.search", "RFC7644 §3.4.3"},
		{"POST", "/.search", "RFC7644 §3.4.3"},
		{"PUT", "/Groups/g1", "RFC7644 §3.5.1"},
		{"PATCH", "/Groups/g1", "RFC7644 §3.5.2"},
		{"DELETE", "/Users/u1", "RFC7644 §3.6"},
		{"POST", "/Bulk", "RFC7644 §3.7"},
		{"GET", "/Me", "RFC7644 §3.11"},
		{"GET", "/ServiceProviderConfig", "RFC7644 §4"},
		{"GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "RFC7644 §4"},
		{"GET", "/scim/v2/Users/u1", "RFC7644 §3.4.1"},
		{"GET", "/healthz", ""},
		{"POST", "/Users/u1", ""},
	} {
		if got := rfcClause(c.method, c.path); got != c.want {
			t.Errorf("rfcClause(%s %s) = %q, want %q", c.method, c.path, got, c.want)
		}
	}
}

package auth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
)

func TestCheckEmailDomains(t *testing.T) {
	tok := store.Token{EmailDomains: []string{"example.com", "example.org"}}
	emails := func(vs ...string) []any {
		var out []any
		for _, v := range vs {
			out = append(out, map[string]any{"value": v, "type": "work"})
		}
		return out
	}
	tests := []struct {
		name string
		doc  map[string]any
		want string // "" = allowed; else a substring of the 403 detail
	}{
		{"inside", map[string]any{"userName": "bjensen@example.com", "emails": emails("bjensen@Example.COM", "b@example.org")}, ""},
		{"userName not an address", map[string]any{"userName": "bjensen", "emails": emails("bjensen@example.com")}, ""},
		{"userName alone, an address", map[string]any{"userName": "bjensen@example.com"}, ""},
		{"no address at all", map[string]any{"userName": "bjensen"}, "userName \"bjensen\") has no email address"},
		{"no address, not even a userName", map[string]any{"emails": []any{}}, "has no email address"},
		{"userName outside", map[string]any{"userName": "bjensen@evil.test"}, "email domain evil.test (userName \"bjensen@evil.test\")"},
		{"second email outside", map[string]any{"userName": "b@example.com", "emails": emails("b@example.com", "b@mail.evil.test")}, "email domain mail.evil.test (emails[1].value"},
		{"subdomain is not the domain", map[string]any{"emails": emails("b@sub.example.com")}, "sub.example.com"},
		{"email without domain", map[string]any{"emails": emails("nobody")}, "emails[0].value \"nobody\" has no email domain"},
		{"attribute names are case-insensitive", map[string]any{"USERNAME": "x@evil.test"}, "evil.test"},
		{"sub-attribute names too", map[string]any{"Emails": []any{map[string]any{"Value": "x@evil.test"}}}, "evil.test"},
		{"userName is checked first", map[string]any{"userName": "a@one.test", "emails": emails("b@two.test")}, "one.test"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckEmailDomains(tok, tc.doc)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("allowed")
			}
			if err.Status != http.StatusForbidden || err.ScimType != "" || !strings.Contains(err.Detail, tc.want) ||
				!strings.Contains(err.Detail, "example.com, example.org") {
				t.Errorf("error = %+v, want 403 naming %q and the token's domains", err, tc.want)
			}
		})
	}
	if err := CheckEmailDomains(store.Token{}, map[string]any{"userName": "x@anything.test"}); err != nil {
		t.Errorf("a token without emailDomains limits nothing: %v", err)
	}
}

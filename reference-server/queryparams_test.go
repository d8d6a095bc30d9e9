package server

import (
	"net/url"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// TestMalformedQueryIsAnError: a query parameter Go's parser would drop (a
// bad %-escape) is a 400, never an unfiltered list; a raw ';' is an
// ordinary query character (RFC 3986 §3.4), so it stays in the filter.
func TestMalformedQueryIsAnError(t *testing.T) {
	e := newEnv(t)
	e.createUser("bob")
	e.createUser("semi;colon")
	for _, c := range []struct {
		path     string
		status   int
		scimType scim.Type
	}{
		{`/Users?filter=userName%20eq%20%22bob%ZZ%22`, 400, scim.InvalidFilter},
		{`/Groups?filter=displayName%20eq%20%22x%ZZ%22&excludedAttributes=members`, 400, scim.InvalidFilter},
		{`/Users?filter=userName%20eq%20%22nobody%22;x`, 400, scim.InvalidFilter},
		{`/Users?count=1%ZZ`, 400, scim.InvalidValue},
		{`/Users?attributes=userName%G1`, 400, scim.InvalidValue},
		{`/Users?%ZZ=1`, 400, scim.InvalidValue},
		{`/Users?count=0;`, 400, scim.InvalidValue}, // "0;" is not a number
	} {
		t.Run(c.path, func(t *testing.T) {
			wantError(t, e.do("GET", c.path, nil), c.status, c.scimType)
		})
	}
	for path, want := range map[string]float64{
		`/Users?filter=userName%20eq%20%22semi;colon%22`:   1,
		`/Users?filter=userName%20eq%20%22semi%3Bcolon%22`: 1,
		`/Users?filter=userName+eq+%22bob%22&count=5`:      1,
	} {
		r := e.do("GET", path, nil)
		if r.Status != 200 || r.obj()["totalResults"] != want {
			t.Errorf("%s: %d %s, want totalResults %v", path, r.Status, r.Body, want)
		}
	}
}

// FuzzNormalizeQuery: normalizeQuery never panics, and a query it accepts
// is one Go's parser then reads without dropping a pair.
func FuzzNormalizeQuery(f *testing.F) {
	for _, s := range []string{"filter=userName%20eq%20%22a%22", "a=1;b=2", "%ZZ", "x=%", "=;", "count=1&count=2;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u := &url.URL{RawQuery: raw}
		if err := normalizeQuery(u); err != nil {
			return
		}
		if _, err := url.ParseQuery(u.RawQuery); err != nil {
			t.Fatalf("accepted %q, normalised to %q, which Go's parser rejects: %v", raw, u.RawQuery, err)
		}
	})
}

// TestUncleanPathsGetSCIMErrors: a SCIM path with an empty or dot segment
// is a 404 SCIM error, not ServeMux's HTML redirect.
func TestUncleanPathsGetSCIMErrors(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("clean")["id"].(string)
	for _, p := range []string{"/scim/v2/Users//" + id, "/scim/v2/./Users", "/scim/v2/Users/../Groups", "/scim/v2//Users"} {
		r := e.do("GET", p, nil)
		wantError(t, r, 404, "")
		if r.Header.Get("Location") != "" {
			t.Errorf("%s: redirected to %s", p, r.Header.Get("Location"))
		}
	}
}

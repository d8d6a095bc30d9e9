package server

import (
	"encoding/json"
	"net/url"
	"strings"
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
		// A one-value parameter given twice is refused, not read as its first.
		{`/Users?filter=userName%20eq%20%22bob%22&filter=userName%20eq%20%22x%22`, 400, scim.InvalidFilter},
		{`/Users?count=1&count=2`, 400, scim.InvalidValue},
		{`/Users?startIndex=1&startIndex=1`, 400, scim.InvalidValue},
		{`/Users?sortBy=userName&sortBy=title`, 400, scim.InvalidValue},
		{`/Groups?sortOrder=ascending&sortOrder=descending`, 400, scim.InvalidValue},
	} {
		t.Run(c.path, func(t *testing.T) {
			wantError(t, e.do("GET", c.path, nil), c.status, c.scimType)
		})
	}
	for path, want := range map[string]float64{
		`/Users?filter=userName%20eq%20%22semi;colon%22`:   1,
		`/Users?filter=userName%20eq%20%22semi%3Bcolon%22`: 1,
		`/Users?filter=userName+eq+%22bob%22&count=5`:      1,
		// attributes may be repeated: the lists add up.
		`/Users?filter=userName+eq+%22bob%22&attributes=userName&attributes=name`: 1,
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

// TestEmptyFilterAndViewLimits: an empty or blank filter, by GET or in a
// SearchRequest, is 400 invalidFilter, never the whole collection; a
// SearchRequest reads attributes, startIndex and count as GET reads them;
// attribute lists over maxViewBytes are 400.
func TestEmptyFilterAndViewLimits(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("a@x.test")["id"].(string)
	e.createUser("b@x.test")
	e.createGroup("G", u)
	search := func(path string, fields map[string]any) resp {
		body := map[string]any{"schemas": []any{scim.SearchRequestSchema}}
		for k, v := range fields {
			body[k] = v
		}
		return e.do("POST", path, body)
	}
	for _, path := range []string{"/Users?filter=", "/Users?filter=%20%20", "/Groups?filter=&count=1", "/Users?filter=+"} {
		wantError(t, e.do("GET", path, nil), 400, scim.InvalidFilter)
	}
	for _, f := range []string{"", " ", "\t"} {
		wantError(t, search("/Users/.search", map[string]any{"filter": f}), 400, scim.InvalidFilter)
		wantError(t, search("/.search", map[string]any{"filter": f}), 400, scim.InvalidFilter)
	}
	if r := search("/Users/.search", map[string]any{"filter": nil}); r.Status != 200 || r.obj()["totalResults"] != 2.0 {
		t.Errorf("null filter: %s", r)
	}

	// attributes entries are trimmed and empty ones dropped, as in a query.
	one := func(r resp) map[string]any {
		t.Helper()
		rs, _ := r.obj()["Resources"].([]any)
		if r.Status != 200 || len(rs) != 1 {
			t.Fatalf("want one resource: %s", r)
		}
		return rs[0].(map[string]any)
	}
	if m := one(search("/Groups/.search", map[string]any{"filter": `displayName eq "G"`, "attributes": []any{" members"}})); len(memberValues(m)) != 1 {
		t.Errorf(`attributes [" members"]: %v`, m)
	}
	if m := one(search("/Users/.search", map[string]any{"filter": `userName eq "a@x.test"`, "attributes": []any{"userName", "groups "}})); m["groups"] == nil {
		t.Errorf(`attributes ["userName","groups "]: %v`, m)
	}
	for _, key := range []string{"attributes", "excludedAttributes"} {
		m := one(search("/Groups/.search", map[string]any{"filter": `displayName eq "G"`, key: []any{""}}))
		if len(memberValues(m)) != 1 || m["displayName"] != "G" {
			t.Errorf(`%s [""] is no list at all: %v`, key, m)
		}
	}

	// startIndex and count beyond int's range are clamped, as by GET;
	// other JSON types are 400.
	if r := search("/Users/.search", map[string]any{"count": json.Number("99999999999999999999")}); r.Status != 200 || r.obj()["totalResults"] != 2.0 {
		t.Errorf("huge count: %s", r)
	}
	if r := search("/Users/.search", map[string]any{"startIndex": json.Number("99999999999999999999")}); r.Status != 200 || len(r.obj()["Resources"].([]any)) != 0 {
		t.Errorf("huge startIndex: %s", r)
	}
	for _, bad := range []any{"5", 1.5, true, []any{1}, json.Number("1e2")} {
		r := search("/Users/.search", map[string]any{"count": bad})
		if r.Status != 400 {
			t.Errorf("count %v: %s", bad, r)
		}
	}

	long := strings.Repeat("userName,", maxViewBytes/9+1)
	for _, path := range []string{"/Users?attributes=" + long, "/Users?excludedAttributes=" + long, "/Users/" + u + "?attributes=" + long} {
		se := wantError(t, e.do("GET", path, nil), 400, scim.InvalidValue)
		if !strings.Contains(se.Detail, "size limit") {
			t.Errorf("detail %q", se.Detail)
		}
	}
	wantError(t, search("/Users/.search", map[string]any{"attributes": strings.Split(long, ",")}), 400, scim.InvalidValue)
	wantError(t, e.do("POST", "/Users?attributes="+long, userBody("c@x.test")), 400, scim.InvalidValue)
	if r := e.do("GET", "/Users?attributes="+strings.Repeat("userName,", maxViewBytes/9-1), nil); r.Status != 200 {
		t.Errorf("a list under the limit: %s", r)
	}
}

// TestEqEmptyMatchesNothing: `attr eq ""` on an indexed attribute matches
// no resource (RFC 7644 §3.4.2.2: the values must be identical), never the
// whole collection, whether by GET or .search.
func TestEqEmptyMatchesNothing(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("a@x.test")["id"].(string)
	e.createUser("b@x.test", "externalId", "ext-b")
	e.createGroup("G", u)
	for _, path := range []string{
		`/Users?filter=userName eq ""`, `/Users?filter=externalId eq ""`, `/Users?filter=id eq ""`,
		`/Users?filter=groups.value eq ""`, `/Users?filter=userName eq "" and active eq true`,
		`/Groups?filter=displayName eq ""`, `/Groups?filter=members.value eq ""`, `/Groups?filter=members[value eq ""]`,
		`/Groups?filter=externalId eq ""`, `/Groups?filter=id eq ""`,
	} {
		p, q, _ := strings.Cut(path, "?filter=")
		r := e.must(200, "GET", p+"?filter="+url.QueryEscape(q), nil)
		if n := r.obj()["totalResults"]; n != 0.0 {
			t.Errorf("%s: totalResults %v, want 0", path, n)
		}
	}
	r := e.must(200, "POST", "/.search", map[string]any{"schemas": []any{scim.SearchRequestSchema}, "filter": `userName eq "" or displayName eq ""`})
	if n := r.obj()["totalResults"]; n != 0.0 {
		t.Errorf(".search: totalResults %v, want 0", n)
	}
}

// TestHugePagingIntegersClampAlike: startIndex and count beyond ±2^31 are
// taken as ±2^31 whatever their size (an int64-sized one and a larger one
// alike), never refused, and a non-integer is 400 invalidValue.
func TestHugePagingIntegersClampAlike(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		bad  bool
	}{
		{"5", 5, false},
		{" 7 ", 7, false},
		{"2147483648", 1 << 31, false},
		{"9223372036854775807", 1 << 31, false},
		{"99999999999999999999", 1 << 31, false},
		{"-9223372036854775808", -1 << 31, false},
		{"-99999999999999999999", -1 << 31, false},
		{"1.5", 0, true},
		{"abc", 0, true},
		{"", 0, true},
	} {
		got, err := parseIntParam("startIndex", tc.in)
		if tc.bad != (err != nil) || !tc.bad && got != tc.want {
			t.Errorf("parseIntParam(%q) = %d, %v; want %d (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

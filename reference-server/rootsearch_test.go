package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// TestRootSearchAcrossTypes: at the server root, an attribute one resource
// type lacks has no value for that type (RFC 7644 §3.4.2.1), so a filter
// naming attributes of both types finds both, and only an attribute no type
// has is an error.
func TestRootSearchAcrossTypes(t *testing.T) {
	e := newEnv(t)
	alice := e.createUser("alice")["id"].(string)
	bob := e.createUser("bob", "displayName", "Bob B")["id"].(string)
	eng := e.createGroup("eng", bob)["id"].(string)
	empty := e.createGroup("empty")["id"].(string)
	search := func(f string) []string {
		t.Helper()
		r := e.must(200, "POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestSchema}, "filter": f})
		var ids []string
		for _, x := range r.obj()["Resources"].([]any) {
			ids = append(ids, x.(map[string]any)["id"].(string))
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`userName eq "bob" or displayName eq "eng"`, sorted(bob, eng)},
		{`not (userName pr)`, sorted(eng, empty)},
		{`not (members pr)`, sorted(alice, bob, empty)},
		{`members pr or userName eq "alice"`, sorted(alice, eng)},
		{`userName eq "bob"`, sorted(bob)},
		{`members pr and userName eq "bob"`, nil},
		{`displayName eq "Bob B" or displayName eq "empty"`, sorted(bob, empty)},
		{`members[value eq "` + bob + `"] or groups[value eq "` + eng + `"]`, sorted(bob, eng)},
	} {
		if got := search(c.filter); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
	wantError(t, e.do("POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestSchema}, "filter": `nosuch eq "x"`}), 400, scim.InvalidFilter)
	wantError(t, e.do("POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestSchema}, "filter": `members pr or nosuch pr`}), 400, scim.InvalidFilter)
	// Per type, an attribute the type lacks stays an error.
	wantError(t, e.do("POST", "/Users/.search", map[string]any{"schemas": []string{scim.SearchRequestSchema}, "filter": `members pr`}), 400, scim.InvalidFilter)
	// sortBy on an attribute of either type, with no type left to search.
	r := e.must(200, "POST", "/.search", map[string]any{"schemas": []string{scim.SearchRequestSchema}, "filter": `members pr and userName pr`, "sortBy": "userName"})
	if r.obj()["totalResults"] != float64(0) {
		t.Errorf("an unsatisfiable filter: %s", r.Body)
	}
}

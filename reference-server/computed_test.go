package server

import (
	"fmt"
	"net/url"
	"slices"
	"testing"
)

// TestComputedAttributesFilterAndSort: filters and sortBy see the
// attributes a response shows but the store does not keep as such —
// meta.location, a Group's members with their type and $ref, a User's
// groups — whatever the response's attributes leave out.
func TestComputedAttributesFilterAndSort(t *testing.T) {
	e := newEnv(t)
	ann := e.createUser("ann")["id"].(string)
	bob := e.createUser("bob")["id"].(string)
	e.createUser("cat") // in no group
	zeta := e.createGroup("zeta", ann)["id"].(string)
	alpha := e.createGroup("alpha", bob)["id"].(string)
	e.createGroup("none")
	total := func(path, f string) any {
		t.Helper()
		return e.must(200, "GET", path+"?filter="+url.QueryEscape(f), nil).obj()["totalResults"]
	}
	for _, c := range []struct {
		path, filter string
		want         float64
	}{
		{"/Users", `meta.location pr`, 3},
		{"/Users", `meta.location co "/Users/` + ann + `"`, 1},
		{"/Groups", `meta.location ew "/Groups/` + zeta + `"`, 1},
		{"/Groups", `members.$ref pr`, 2},
		{"/Groups", `members.$ref ew "/Users/` + bob + `"`, 1},
		{"/Groups", `members.type eq "User"`, 2},
		{"/Groups", `members[type eq "User" and value eq "` + ann + `"]`, 1},
		{"/Users", `groups.$ref ew "/Groups/` + alpha + `"`, 1},
	} {
		if got := total(c.path, c.filter); got != c.want {
			t.Errorf("%s %s: %v results, want %v", c.path, c.filter, got, c.want)
		}
	}
	order := func(path string) string {
		t.Helper()
		var names []any
		for _, r := range e.must(200, "GET", path, nil).obj()["Resources"].([]any) {
			m := r.(map[string]any)
			if n, ok := m["userName"]; ok {
				names = append(names, n)
			} else {
				names = append(names, m["displayName"])
			}
		}
		return fmt.Sprint(names)
	}
	for path, want := range map[string]string{
		// ann is in zeta, bob in alpha, cat in none: no value sorts last
		// ascending and first descending (RFC 7644 §3.4.2.3).
		"/Users?sortBy=groups.display&attributes=userName":                             "[bob ann cat]",
		"/Users?sortBy=groups.display&sortOrder=descending&attributes=userName":        "[cat ann bob]",
		"/Groups?sortBy=members.value&attributes=displayName":                          fmt.Sprint(groupOrder(ann, bob, "zeta", "alpha")),
		"/Groups?sortBy=members.value&sortOrder=descending&excludedAttributes=members": fmt.Sprint(reversed(groupOrder(ann, bob, "zeta", "alpha"))),
	} {
		if got := order(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

// groupOrder is the ascending order of the groups zeta (member a) and
// alpha (member b) by member value, then the group with no members.
func groupOrder(a, b, ga, gb string) []string {
	if a < b {
		return []string{ga, gb, "none"}
	}
	return []string{gb, ga, "none"}
}

func reversed(s []string) []string {
	s = slices.Clone(s)
	slices.Reverse(s)
	return s
}

// TestUserETagFollowsItsGroups: joining, leaving or a rename of one of its
// groups changes what a User's representation shows, so its ETag changes
// and an If-None-Match with the old one is no longer a 304 (RFC 7232
// §2.1; RFC 7643 §3.1 meta.version).
func TestUserETagFollowsItsGroups(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("member")["id"].(string)
	other := e.createUser("other")["id"].(string)
	gid := e.createGroup("team")["id"].(string)
	etagOf := func(id string) string {
		t.Helper()
		r := e.must(200, "GET", "/Users/"+id, nil)
		if r.Header.Get("ETag") != r.obj()["meta"].(map[string]any)["version"] {
			t.Fatalf("ETag %s and meta.version differ: %s", r.Header.Get("ETag"), r.Body)
		}
		return r.Header.Get("ETag")
	}
	last := etagOf(uid)
	otherTag := etagOf(other)
	for _, step := range []struct {
		name string
		do   func()
	}{
		{"join", func() {
			e.must(200, "PATCH", "/Groups/"+gid, patchBody(op("add", "members", []any{map[string]any{"value": uid}})))
		}},
		{"rename", func() { e.must(200, "PATCH", "/Groups/"+gid, patchBody(op("replace", "displayName", "renamed"))) }},
		{"leave", func() {
			e.must(200, "PATCH", "/Groups/"+gid, patchBody(op("remove", `members[value eq "`+uid+`"]`, nil)))
		}},
	} {
		e.must(304, "GET", "/Users/"+uid, nil, "If-None-Match", last)
		step.do()
		now := etagOf(uid)
		if now == last {
			t.Errorf("after %s the user's ETag is still %s", step.name, now)
		}
		e.must(200, "GET", "/Users/"+uid, nil, "If-None-Match", last)
		wantError(t, e.do("PATCH", "/Users/"+uid, patchBody(op("replace", "title", "x")), "If-Match", last), 412, "")
		last = now
	}
	if etagOf(other) != otherTag {
		t.Error("a user in none of the groups got a new ETag")
	}
}

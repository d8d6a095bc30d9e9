package leftover

import (
	"testing"
)

func TestOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		kind Kind
		id   string
		ok   bool
	}{
		{"/Users/2819c223", Users, "2819c223", true},
		{"Groups/a%2Fb", Groups, "a/b", true},
		{"/Users", Kind{}, "", false},
		{"/Users/1/x", Kind{}, "", false},
		{"/Schemas/urn", Kind{}, "", false},
		{"/Users/%zz", Kind{}, "", false},
	} {
		k, id, ok := Of(tc.path)
		if k != tc.kind || id != tc.id || ok != tc.ok {
			t.Errorf("Of(%q) = %v %q %v", tc.path, k, id, ok)
		}
	}
}

func TestLookup(t *testing.T) {
	p, q := Users.Lookup(`ana "al" lee@example.test`)
	if p != "/Users" || q != `filter=userName%20eq%20%22ana%20%5C%22al%5C%22%20lee%40example.test%22` {
		t.Errorf("Lookup = %q %q", p, q)
	}
	if p, _ := Groups.Lookup("g"); p != "/Groups" {
		t.Errorf("Groups.Lookup path %q", p)
	}
}

func TestJudgements(t *testing.T) {
	if got := ReadBack(Deleted(204), []byte(`{"id":"1","active":false}`)); got != "DELETE answered 204, but GET still answers 200 (active=false)" {
		t.Errorf("ReadBack: %q", got)
	}
	if got := ReadBack("deleted by the bug pack's clean-up", []byte(`{"id":"g"}`)); got != "deleted by the bug pack's clean-up, but GET still answers 200" {
		t.Errorf("ReadBack of a group: %q", got)
	}
	list := []byte(`{"totalResults":2,"Resources":[{"id":"9","userName":"ana"},{"id":"1","userName":"ana","active":false}]}`)
	if got, err := Users.Listed(Deleted(204), "ana", "1", list); err != nil || got != `DELETE answered 204, but the user is still listed by userName eq "ana" (active=false)` {
		t.Errorf("Listed: %q %v", got, err)
	}
	if got, err := Users.Listed(Deleted(204), "ana", "2", list); err != nil || got != "" {
		t.Errorf("another id listed: %q %v", got, err)
	}
	if got, err := Groups.Listed(Deleted(204), "g", "1", []byte(`{"totalResults":0}`)); err != nil || got != "" {
		t.Errorf("empty list: %q %v", got, err)
	}
	if _, err := Users.Listed(Deleted(204), "ana", "1", []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400"}`)); err == nil {
		t.Error("an error body is not a ListResponse")
	}
	if id, name := Groups.Name([]byte(`{"id":"g1","displayName":"Ops","userName":"x"}`)); id != "g1" || name != "Ops" {
		t.Errorf("Groups.Name = %q %q", id, name)
	}
}

// TestNamed: the lookup of a create that got no answer finds the resources
// of that name only, even from a target that ignored the filter.
func TestNamed(t *testing.T) {
	list := []byte(`{"totalResults":3,"Resources":[{"id":"1","userName":"scimlab-r1-u-001@example.com"},{"id":"2","userName":"someone.else@example.com"},{"id":"3","userName":"SCIMLAB-R1-U-001@example.com"}]}`)
	ids, err := Users.Named("scimlab-r1-u-001@example.com", list)
	if err != nil || len(ids) != 2 || ids[0] != "1" || ids[1] != "3" {
		t.Errorf("Users.Named = %v %v, want [1 3]", ids, err)
	}
	groups := []byte(`{"totalResults":1,"Resources":[{"id":"g","displayName":"scimlab-r1-g-002","userName":"scimlab-r1-g-002"}]}`)
	if ids, err := Groups.Named("scimlab-r1-g-002", groups); err != nil || len(ids) != 1 || ids[0] != "g" {
		t.Errorf("Groups.Named = %v %v", ids, err)
	}
	if ids, err := Users.Named("x", []byte(`{"totalResults":0}`)); err != nil || len(ids) != 0 {
		t.Errorf("empty list: %v %v", ids, err)
	}
	if _, err := Groups.Named("x", []byte(`{"detail":"no"}`)); err == nil {
		t.Error("an error body is not a ListResponse")
	}
}

// TestWronglyTypedActive: a resource whose active is not a JSON boolean (the
// string "True") is still read: its id and name, and active as written.
func TestWronglyTypedActive(t *testing.T) {
	body := []byte(`{"id":"u1","userName":"ana@example.test","active":"True"}`)
	if id, name := Users.Name(body); id != "u1" || name != "ana@example.test" {
		t.Errorf("Name = %q %q", id, name)
	}
	if got := ReadBack(Deleted(204), body); got != `DELETE answered 204, but GET still answers 200 (active="True")` {
		t.Errorf("ReadBack: %q", got)
	}
	list := []byte(`{"Resources":[{"id":"u1","userName":"ana@example.test","active":"True"}]}`)
	if ids, err := Users.Named("ana@example.test", list); err != nil || len(ids) != 1 {
		t.Errorf("Named = %v %v", ids, err)
	}
}

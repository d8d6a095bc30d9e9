package idp

import (
	"encoding/json"
	"fmt"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/simulator/directory"
)

// okta is the Okta family (OIN template apps and AIW custom apps,
// idp-traffic.md §1.1).
type okta struct{ style }

// CreateUser sends the core schema only, in the documented order, with
// externalId set to the Okta user id, an empty groups list and a random
// password placeholder even without password sync (§1.1 row 3).
func (d okta) CreateUser(u directory.User, externalID string) []byte {
	o := obj{
		{"schemas", []string{scim.UserSchema}},
		{"userName", u.UserName},
		{"name", obj{{"givenName", u.GivenName}, {"familyName", u.FamilyName}}},
		{"emails", []any{obj{{"primary", true}, {"value", u.Email}, {"type", "work"}}}},
		{"displayName", u.DisplayName},
		{"locale", u.Locale},
	}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	o = append(o, field{"groups", []any{}}, field{"password", u.Password}, field{"active", true})
	return marshal(o)
}

// CreateGroup sends a group that is always empty (§1.1 row 10).
func (d okta) CreateGroup(g directory.Group, externalID string) []byte {
	o := obj{{"schemas", []string{scim.GroupSchema}}, {"displayName", g.DisplayName}}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	return marshal(append(o, field{"members", []any{}}))
}

// PutUser sends the full resource as read back, keeping the target's member
// order, id, meta and groups, with Okta's values merged in (§1.1 rows 5, 6b).
func (d okta) PutUser(readBack []byte, u directory.User) ([]byte, error) {
	o, err := parseObject(readBack)
	if err != nil {
		return nil, fmt.Errorf("cannot merge into the user the target returned: %w", err)
	}
	o.set("userName", u.UserName)
	name := &object{}
	if raw, ok := o.get("name"); ok {
		if n, err := parseObject(raw); err == nil {
			name = n
		}
	}
	name.set("givenName", u.GivenName)
	name.set("familyName", u.FamilyName)
	o.set("name", name)
	o.set("emails", mergeWorkEmail(o, u.Email))
	o.set("displayName", u.DisplayName)
	if u.Title != "" {
		o.set("title", u.Title)
	}
	o.set("active", u.Active)
	return marshal(o), nil
}

// mergeWorkEmail sets the value of the primary (else the work) email in the
// read-back emails, or returns Okta's own one-email list when there is none.
func mergeWorkEmail(o *object, email string) any {
	fresh := []any{obj{{"primary", true}, {"value", email}, {"type", "work"}}}
	raw, ok := o.get("emails")
	if !ok {
		return fresh
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
		return fresh
	}
	items := make([]*object, len(list))
	target := -1
	for i, r := range list {
		it, err := parseObject(r)
		if err != nil {
			return fresh
		}
		items[i] = it
		if p, ok := it.get("primary"); ok && string(p) == "true" {
			target = i
		}
	}
	if target < 0 {
		for i, it := range items {
			if t, ok := it.get("type"); ok && string(t) == `"work"` {
				target = i
				break
			}
		}
	}
	if target < 0 {
		target = 0
	}
	items[target].set("value", email)
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// PatchUser is never called: Okta updates users with GET then PUT (newDialect
// refuses any other style for this family).
func (d okta) PatchUser(old, new directory.User) []op { return nil }

// Activation is a value-only replace with no path (§1.1 rows 6 and 7).
func (d okta) Activation(active bool) op {
	return op{Op: d.op("replace"), Value: obj{{"active", d.boolean(active)}}}
}

// RenameGroup is a value-only replace that includes the group id (§1.1 row 11).
func (d okta) RenameGroup(id, name string) op {
	return op{Op: d.op("replace"), Value: obj{{"id", id}, {"displayName", name}}}
}

// PutGroup sends the group with its full member list (§1.1 row 12c).
func (d okta) PutGroup(name string, members []Member) []byte {
	list := make([]any, len(members))
	for i, m := range members {
		list[i] = d.Member(m, false)
	}
	return marshal(obj{{"schemas", []string{scim.GroupSchema}}, {"displayName", name}, {"members", list}})
}

// Member carries value and display and no type (§1.1 row 12, B11).
func (d okta) Member(m Member, remove bool) any {
	return obj{{"value", m.ID}, {"display", m.Display}}
}

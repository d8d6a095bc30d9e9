package idp

import (
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/simulator/directory"
)

// rfc is the family of the IdPs whose request bodies are not documented
// (PingFederate, OneLogin, SailPoint, JumpCloud; idp-traffic.md §1.3, §1.4,
// §1.6, §1.7 mark them [U]): each body takes the shape RFC 7643 gives the
// resource, and each PATCH the form RFC 7644 §3.5.2 describes, with the
// knobs (op casing, booleans, member removal) the profile sets.
type rfc struct{ style }

// user is the full user as the IdP holds it: the core attributes of RFC
// 7643 §4.1 in the order of its §8.2 example (OneLogin's log shows the
// same order, name with familyName first, §1.6), under the profile's
// userSchemas.
func (d rfc) user(u directory.User, externalID string, active bool) []byte {
	schemas := d.p.UserSchemas
	if len(schemas) == 0 {
		schemas = []string{scim.UserSchema}
	}
	o := obj{{"schemas", schemas}}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	o = append(o,
		field{"userName", u.UserName},
		field{"name", obj{{"familyName", u.FamilyName}, {"givenName", u.GivenName}}},
		field{"displayName", u.DisplayName},
		field{"emails", []any{obj{{"value", u.Email}, {"type", "work"}, {"primary", true}}}},
	)
	if u.Title != "" {
		o = append(o, field{"title", u.Title})
	}
	return marshal(append(o, field{"active", active}))
}

// CreateUser sends the full user, active.
func (d rfc) CreateUser(u directory.User, externalID string) []byte {
	return d.user(u, externalID, true)
}

// CreateGroup sends the group's schema and displayName only: RFC 7643 §4.2
// requires nothing else, and members follow by PATCH.
func (d rfc) CreateGroup(g directory.Group, externalID string) []byte {
	o := obj{{"schemas", []string{scim.GroupSchema}}, {"displayName", g.DisplayName}}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	return marshal(o)
}

// PutUser sends the full user as the IdP holds it, without reading the
// target's first (users.update: put): RFC 7644 §3.5.1 replaces every
// attribute with the body's. readBack is not used. The body leaves out id
// and meta, which are the target's (RFC 7643 §3.1).
func (d rfc) PutUser(readBack []byte, u directory.User) ([]byte, error) {
	return d.user(u, d.p.UserExternalID(u), u.Active), nil
}

// PatchUser sends one op per changed attribute (RFC 7644 §3.5.2).
func (d rfc) PatchUser(old, new directory.User) []op { return d.attributeOps(old, new) }

// Activation replaces the "active" path (RFC 7644 §3.5.2.3).
func (d rfc) Activation(active bool) op { return d.activePath(active) }

// RenameGroup replaces the "displayName" path (RFC 7644 §3.5.2.3).
func (d rfc) RenameGroup(id, name string) op { return d.displayNamePath(name) }

// PutGroup sends the group with its full member list (RFC 7644 §3.5.1).
func (d rfc) PutGroup(name string, members []Member) []byte {
	list := make([]any, len(members))
	for i, m := range members {
		list[i] = d.Member(m, false)
	}
	return marshal(obj{{"schemas", []string{scim.GroupSchema}}, {"displayName", name}, {"members", list}})
}

// Member is {"value":id}: value is the only member sub-attribute RFC 7643
// §4.2 needs to name a member.
func (d rfc) Member(m Member, remove bool) any { return obj{{"value", m.ID}} }

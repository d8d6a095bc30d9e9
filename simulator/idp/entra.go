package idp

import (
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/simulator/directory"
)

// ADSCIMGroupSchema is the schema URN Entra adds to a created group
// (idp-traffic.md §1.2 row 12).
const ADSCIMGroupSchema = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"

// entra is the Microsoft Entra ID provisioning service, with and without the
// aadOptscim062020 flag (idp-traffic.md §1.2).
type entra struct{ style }

// CreateUser sends core and enterprise schemas, externalId first, a
// meta.resourceType, name with formatted, and an empty roles list (§1.2 row 4).
func (d entra) CreateUser(u directory.User, externalID string) []byte {
	o := obj{{"schemas", []string{scim.UserSchema, scim.EnterpriseUserSchema}}}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	o = append(o,
		field{"userName", u.UserName},
		field{"active", true},
		field{"emails", []any{obj{{"primary", true}, {"type", "work"}, {"value", u.Email}}}},
		field{"meta", obj{{"resourceType", "User"}}},
		field{"name", obj{{"formatted", u.Formatted()}, {"familyName", u.FamilyName}, {"givenName", u.GivenName}}},
		field{"roles", []any{}},
	)
	if u.Department != "" {
		o = append(o, field{scim.EnterpriseUserSchema, obj{{"department", u.Department}}})
	}
	return marshal(o)
}

// CreateGroup sends no members key: Entra fills groups by PATCH afterwards
// (§1.2 row 12).
func (d entra) CreateGroup(g directory.Group, externalID string) []byte {
	o := obj{{"schemas", []string{scim.GroupSchema, ADSCIMGroupSchema}}}
	if externalID != "" {
		o = append(o, field{"externalId", externalID})
	}
	return marshal(append(o, field{"displayName", g.DisplayName}, field{"meta", obj{{"resourceType", "Group"}}}))
}

// PutUser is never called: Entra changes users with PATCH only.
func (d entra) PutUser(readBack []byte, u directory.User) ([]byte, error) {
	return nil, errUnsupported
}

// PatchUser sends one op per changed attribute (§1.2 row 6), or with the
// aadOptscim062020 flag one merged path-less replace (§1.2 row 6f, B1): see
// style.attributeOps.
func (d entra) PatchUser(old, new directory.User) []op { return d.attributeOps(old, new) }

// Activation replaces the "active" path: "False" as a string with "Replace"
// by default, false with "replace" with the flag (§1.2 rows 7 and 8, B2).
func (d entra) Activation(active bool) op { return d.activePath(active) }

// RenameGroup replaces the displayName path (§1.2 row 13).
func (d entra) RenameGroup(id, name string) op { return d.displayNamePath(name) }

// PutGroup is never called: Entra changes groups with PATCH only.
func (d entra) PutGroup(name string, members []Member) []byte { return nil }

// Member is {"$ref":null,"value":id} in an add (§1.2 row 14) and
// {"value":id} in a value-list remove (§1.2 row 15).
func (d entra) Member(m Member, remove bool) any {
	if remove {
		return obj{{"value", m.ID}}
	}
	return obj{{"$ref", nil}, {"value", m.ID}}
}

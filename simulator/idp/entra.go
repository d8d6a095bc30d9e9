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

// attrChange is one attribute an update touches.
type attrChange struct {
	path     string
	old, new string
	// filtered marks a filtered multi-valued path, which keeps its path form
	// even with the flag (§1.2 row 6f).
	filtered bool
}

// PatchUser sends one op per changed attribute: "Replace", or "Add" for an
// attribute set for the first time (§1.2 row 6). With attributes: merged
// (the aadOptscim062020 flag), filtered paths and first-time adds keep their
// own ops and every other change goes into one path-less replace whose value
// has dotted, URN-qualified keys (§1.2 row 6f, B1).
func (d entra) PatchUser(old, new directory.User) []op {
	changes := []attrChange{
		{path: "userName", old: old.UserName, new: new.UserName},
		{path: `emails[type eq "work"].value`, old: old.Email, new: new.Email, filtered: true},
		{path: "name.givenName", old: old.GivenName, new: new.GivenName},
		{path: "name.familyName", old: old.FamilyName, new: new.FamilyName},
		{path: "name.formatted", old: old.Formatted(), new: new.Formatted()},
		{path: "title", old: old.Title, new: new.Title},
		{path: scim.EnterpriseUserSchema + ":department", old: old.Department, new: new.Department},
	}
	var ops []op
	var merged obj
	for _, c := range changes {
		switch {
		case c.old == c.new:
		case c.old == "":
			ops = append(ops, op{Op: d.op("add"), Path: c.path, Value: c.new})
		case c.filtered || d.p.Patch.Attributes != AttrsMerged:
			ops = append(ops, op{Op: d.op("replace"), Path: c.path, Value: c.new})
		default:
			merged = append(merged, field{c.path, c.new})
		}
	}
	if len(merged) > 0 {
		ops = append(ops, op{Op: d.op("replace"), Value: merged})
	}
	return ops
}

// Activation replaces the "active" path: "False" as a string with "Replace"
// by default, false with "replace" with the flag (§1.2 rows 7 and 8, B2).
func (d entra) Activation(active bool) op {
	return op{Op: d.op("replace"), Path: "active", Value: d.boolean(active)}
}

// RenameGroup replaces the displayName path (§1.2 row 13).
func (d entra) RenameGroup(id, name string) op {
	return op{Op: d.op("replace"), Path: "displayName", Value: name}
}

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

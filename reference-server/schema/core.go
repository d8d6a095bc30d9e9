package schema

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// rfc7643JSON holds the six schema representations of RFC 7643 §8.7.1
// (User, Group, enterprise User) and §8.7.2 (ServiceProviderConfig,
// ResourceType, Schema) as the RFC prints them, characteristics and all,
// including the characteristics the RFC leaves out (which §2.2's defaults
// fill in at load time). Corrections live in amend, not in the data.
//
//go:embed rfc7643.json
var rfc7643JSON []byte

// core maps each schema URN to its loaded, amended definition. Its values are
// never handed out: every accessor returns a Clone.
var core = mustLoad(rfc7643JSON)

func mustLoad(b []byte) map[string]*Schema {
	var list []*Schema
	if err := json.Unmarshal(b, &list); err != nil {
		panic(fmt.Sprintf("schema: rfc7643.json: %v", err))
	}
	m := make(map[string]*Schema, len(list))
	for _, s := range list {
		for _, a := range s.Attributes {
			applyDefaults(a)
		}
		m[s.ID] = s
	}
	for _, id := range []string{scim.UserSchema, scim.GroupSchema, scim.EnterpriseUserSchema,
		scim.ServiceProviderConfigSchema, scim.ResourceTypeSchema, scim.SchemaSchema} {
		if m[id] == nil {
			panic("schema: rfc7643.json lacks " + id)
		}
	}
	amend(m)
	return m
}

// applyDefaults fills the characteristics an attribute definition leaves
// out with the defaults of RFC 7643 §2.2: type "string", mutability
// "readWrite", returned "default", uniqueness "none" (required and caseExact
// default to false, which is Go's zero value).
func applyDefaults(a *Attribute) {
	if a.Type == "" {
		a.Type = String
	}
	if a.Mutability == "" {
		a.Mutability = ReadWrite
	}
	if a.Returned == "" {
		a.Returned = Default
	}
	if a.Uniqueness == "" {
		a.Uniqueness = None
	}
	for _, s := range a.SubAttributes {
		applyDefaults(s)
	}
}

// amend corrects the §8.7 representations where they contradict the
// normative text of RFC 7643 itself or drop data that the RFC's own examples
// send. Without these, the §8.2 full User and the §8.4 Group would lose
// values, and a client that checks our /ServiceProviderConfig and
// /ResourceTypes against our /Schemas would find them inconsistent. Each
// change names the clause it follows; deleting a line restores the printed
// §8.7 form.
func amend(m map[string]*Schema) {
	user, group := m[scim.UserSchema], m[scim.GroupSchema]

	// §4.2: a service provider "MAY require clients to provide a non-empty
	// value by setting the "required" attribute characteristic of a
	// sub-attribute of the "members" attribute". This server does: a member
	// is named by its id, and one without a value is refused.
	group.Attr("members").Sub("value").Required = true

	// §4.2: Group displayName is "REQUIRED" (§8.7.1's own description says so
	// too), yet §8.7.1 prints "required": false.
	group.Attr("displayName").Required = true

	// §2.4 lists "display" among the sub-attributes of multi-valued
	// attributes, §8.4 and RFC 7644 §3.5.2 send members[].display, and Okta
	// sends it on every membership PATCH. Immutable like its siblings.
	members := group.Attr("members")
	members.SubAttributes = slices.Insert(members.SubAttributes, 2, &Attribute{
		Name: "display", Type: String,
		Description: "A human-readable name, primarily used for display purposes.",
		Mutability:  Immutable, Returned: Default, Uniqueness: None,
	})

	// §2.4 and §4.1.2: addresses have a "primary" value ("the preferred
	// mailing address"), and §8.2 sends it; §8.7.1 omits the sub-attribute.
	addresses := user.Attr("addresses")
	primary := cloneAttr(user.Attr("emails").Sub("primary"))
	primary.Description = "A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred mailing address.  The primary attribute value 'true' MUST appear no more than once."
	addresses.SubAttributes = append(addresses.SubAttributes, primary)

	// §5: "etag" is a REQUIRED ServiceProviderConfig attribute (shown in
	// §8.5); §8.7.2 omits it.
	spc := m[scim.ServiceProviderConfigSchema]
	etag := cloneAttr(spc.Attr("sort"))
	etag.Name, etag.Description = "etag", "A complex type that specifies ETag configuration options."
	spc.Attributes = slices.Insert(spc.Attributes, slices.Index(spc.Attributes, spc.Attr("sort"))+1, etag)

	// §5: authenticationSchemes "type" is REQUIRED with the values below, and
	// §8.5 marks one scheme "primary"; §8.7.2 lists neither.
	schemes := spc.Attr("authenticationSchemes")
	schemes.SubAttributes = append([]*Attribute{{
		Name: "type", Type: String, Required: true,
		Description:     "The authentication scheme.  This specification defines the values 'oauth', 'oauth2', 'oauthbearertoken', 'httpbasic', and 'httpdigest'.",
		CanonicalValues: []string{"oauth", "oauth2", "oauthbearertoken", "httpbasic", "httpdigest"},
		Mutability:      ReadOnly, Returned: Default, Uniqueness: None,
	}}, schemes.SubAttributes...)
	schemes.SubAttributes = append(schemes.SubAttributes, &Attribute{
		Name: "primary", Type: Boolean,
		Description: "A Boolean value indicating the 'primary' or preferred authentication scheme.",
		Mutability:  ReadOnly, Returned: Default, Uniqueness: None,
	})

	// §6: schemaExtensions is "A list of ... schema extensions. OPTIONAL."
	// (§8.6's Group has none); §8.7.2 prints it single-valued and required.
	ext := m[scim.ResourceTypeSchema].Attr("schemaExtensions")
	ext.MultiValued, ext.Required = true, false

	// §7: referenceTypes is "A multi-valued array of JSON strings"; §8.7.2
	// prints the sub-attribute copy single-valued.
	m[scim.SchemaSchema].Attr("attributes").Sub("subAttributes").Sub("referenceTypes").MultiValued = true
}

// User returns the User schema of RFC 7643 §4.1 in its §8.7.1 form: the
// attributes userName (required, uniqueness server), name, displayName,
// nickName, profileUrl, title, userType, preferredLanguage, locale, timezone,
// active, password (writeOnly, returned never), and the multi-valued emails,
// phoneNumbers, ims, photos, addresses, groups (readOnly), entitlements,
// roles and x509Certificates. The common attributes of §3.1 (id, externalId,
// meta) belong to no schema; see IDAttr and friends. Each call returns a new
// deep copy the caller may change.
func User() *Schema { return Clone(core[scim.UserSchema]) }

// Group returns the Group schema of RFC 7643 §4.2 in its §8.7.1 form
// (displayName, required; members, with immutable sub-attributes). Each call
// returns a new deep copy.
func Group() *Schema { return Clone(core[scim.GroupSchema]) }

// EnterpriseUser returns the enterprise User extension of RFC 7643 §4.3 in
// its §8.7.1 form. Each call returns a new deep copy.
func EnterpriseUser() *Schema { return Clone(core[scim.EnterpriseUserSchema]) }

// ServiceProviderConfig returns the schema of RFC 7643 §5 in its §8.7.2 form.
// Each call returns a new deep copy.
func ServiceProviderConfig() *Schema { return Clone(core[scim.ServiceProviderConfigSchema]) }

// ResourceTypeSchema returns the schema of RFC 7643 §6 in its §8.7.2 form.
// Each call returns a new deep copy.
func ResourceTypeSchema() *Schema { return Clone(core[scim.ResourceTypeSchema]) }

// SchemaSchema returns the schema of RFC 7643 §7 (the schema of schemas) in
// its §8.7.2 form. Each call returns a new deep copy.
func SchemaSchema() *Schema { return Clone(core[scim.SchemaSchema]) }

// UserResourceType returns the User resource type of RFC 7643 §6 and §8.6:
// endpoint /Users, schema User, and the enterprise User extension, not
// required. Its schemas are fresh copies the caller may change.
func UserResourceType() *ResourceType {
	return &ResourceType{
		ID:          "User",
		Name:        "User",
		Endpoint:    "/Users",
		Description: "User Account",
		Schema:      User(),
		Extensions:  []Extension{{Schema: EnterpriseUser(), Required: false}},
	}
}

// GroupResourceType returns the Group resource type of RFC 7643 §6 and §8.6:
// endpoint /Groups, schema Group, no extensions. Its schema is a fresh copy.
func GroupResourceType() *ResourceType {
	return &ResourceType{
		ID:          "Group",
		Name:        "Group",
		Endpoint:    "/Groups",
		Description: "Group",
		Schema:      Group(),
	}
}

// Clone returns a deep copy of s: changing the copy's attributes, their
// sub-attributes or their slices leaves s untouched. Clone(nil) is nil.
func Clone(s *Schema) *Schema {
	if s == nil {
		return nil
	}
	c := *s
	c.Attributes = cloneAttrs(s.Attributes)
	return &c
}

func cloneAttrs(as []*Attribute) []*Attribute {
	if as == nil {
		return nil
	}
	out := make([]*Attribute, len(as))
	for i, a := range as {
		out[i] = cloneAttr(a)
	}
	return out
}

func cloneAttr(a *Attribute) *Attribute {
	if a == nil {
		return nil
	}
	c := *a
	c.CanonicalValues = slices.Clone(a.CanonicalValues) // keeps nil apart from [] (§8.7.1 prints "canonicalValues": [])
	c.ReferenceTypes = slices.Clone(a.ReferenceTypes)
	c.SubAttributes = cloneAttrs(a.SubAttributes)
	return &c
}

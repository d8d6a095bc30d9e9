// Package schema is the RFC 7643 attribute model: attribute characteristics
// (§2.2, §7), the core schemas as data (User §4.1, Group §4.2, the enterprise
// User extension §4.3, ServiceProviderConfig §5, ResourceType §6, Schema §7),
// resolution of attribute paths against a resource type, and validation of a
// JSON document against a resource type's schemas.
//
// Documents are map[string]any values as encoding/json decodes them: strings,
// float64, bool, nil, []any and map[string]any. Attribute names compare
// case-insensitively (RFC 7643 §2.1); validation rewrites them to the schema's
// spelling so that later stages can look them up exactly.
//
// The core schemas are data: rfc7643.json holds the §8.7 representations as
// the RFC prints them, and a short, cited list of amendments (see amend in
// core.go) aligns them with the RFC's normative text where the two disagree.
// User, Group, EnterpriseUser, ServiceProviderConfig, ResourceTypeSchema and
// SchemaSchema return deep copies, so a target profile may change them.
//
// A resource passes through three operations here:
//
//   - ResourceType.Validate turns a POST or PUT body into the stored form
//     (RFC 7643 §2, §7; RFC 7644 §3.3, §3.5.1), and CheckImmutable adds the
//     PUT rule for immutable attributes.
//   - ResourceType.Project turns the stored form into a response, applying
//     "returned" and the attributes and excludedAttributes parameters
//     (RFC 7644 §3.4.2.5, §3.9).
//   - Schema.Resource and ResourceType.Resource give the discovery
//     representations (RFC 7643 §6, §7).
//
// Attribute names in all of them follow RFC 7644 §3.10; ResolveName gives
// the grammar and resolves one name.
package schema

import "strings"

// Type is an attribute data type (RFC 7643 §2.3).
type Type string

// The data types of RFC 7643 §2.3.
const (
	String    Type = "string"    // RFC 7643 §2.3.1
	Boolean   Type = "boolean"   // RFC 7643 §2.3.2
	Decimal   Type = "decimal"   // RFC 7643 §2.3.3
	Integer   Type = "integer"   // RFC 7643 §2.3.4
	DateTime  Type = "dateTime"  // RFC 7643 §2.3.5 (xsd:dateTime, e.g. 2008-01-23T04:56:22Z)
	Binary    Type = "binary"    // RFC 7643 §2.3.6 (base64)
	Reference Type = "reference" // RFC 7643 §2.3.7
	Complex   Type = "complex"   // RFC 7643 §2.3.8
)

// Mutability is the "mutability" characteristic (RFC 7643 §7).
type Mutability string

// Mutability values of RFC 7643 §7.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned is the "returned" characteristic (RFC 7643 §7).
type Returned string

// Returned values of RFC 7643 §7.
const (
	Always  Returned = "always"
	Never   Returned = "never"
	Default Returned = "default"
	Request Returned = "request"
)

// Uniqueness is the "uniqueness" characteristic (RFC 7643 §7).
type Uniqueness string

// Uniqueness values of RFC 7643 §7.
const (
	None   Uniqueness = "none"
	Server Uniqueness = "server"
	Global Uniqueness = "global"
)

// Attribute is one attribute definition (RFC 7643 §7). Its JSON form is the
// one /Schemas serves.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`

	// StrictCanonical makes Validate refuse a value that is not one of
	// CanonicalValues (compared per CaseExact). RFC 7643 §7 lets a service
	// provider accept other values, and IdPs send them ("Work", "mobile2"),
	// so no core schema sets it; a profile may. It is not part of the wire
	// form.
	StrictCanonical bool `json:"-"`
}

// Sub returns the sub-attribute called name (case-insensitive), or nil.
//
// Names are unique ignoring case (RFC 7643 §2.1), so the exact spelling,
// which documents nearly always use, is looked for first: a string
// comparison is much cheaper than strings.EqualFold.
func (a *Attribute) Sub(name string) *Attribute {
	for _, s := range a.SubAttributes {
		if s.Name == name {
			return s
		}
	}
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Name, name) {
			return s
		}
	}
	return nil
}

// Schema is a schema resource (RFC 7643 §7).
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name,omitempty"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`
}

// Attr returns the top-level attribute called name (case-insensitive), or
// nil. As in Sub, the exact spelling is looked for first.
func (s *Schema) Attr(name string) *Attribute {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a
		}
	}
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension is a schema extension of a resource type (RFC 7643 §6).
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a resource type (RFC 7643 §6) with its schemas resolved.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string // e.g. "/Users"
	Description string
	Schema      *Schema
	Extensions  []Extension
}

// Common attributes every resource has (RFC 7643 §3.1); they belong to no schema.
var (
	IDAttr         = &Attribute{Name: "id", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Always, Uniqueness: Server}
	ExternalIDAttr = &Attribute{Name: "externalId", Type: String, CaseExact: true, Mutability: ReadWrite, Returned: Default, Uniqueness: None}
	MetaAttr       = &Attribute{Name: "meta", Type: Complex, Mutability: ReadOnly, Returned: Default, Uniqueness: None, SubAttributes: []*Attribute{
		{Name: "resourceType", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
		{Name: "created", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
		{Name: "lastModified", Type: DateTime, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
		{Name: "location", Type: Reference, ReferenceTypes: []string{"uri"}, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
		{Name: "version", Type: String, CaseExact: true, Mutability: ReadOnly, Returned: Default, Uniqueness: None},
	}}
	SchemasAttr = &Attribute{Name: "schemas", Type: Reference, MultiValued: true, CaseExact: true, Required: true, Mutability: ReadWrite, Returned: Always, Uniqueness: None, ReferenceTypes: []string{"uri"}}
)

// Resolve finds the attribute at uri:name.sub for this resource type. uri may
// be empty (the core schema, then extensions, are searched) or a schema URN,
// matched case-insensitively. sub may be empty. Common attributes (id,
// externalId, meta, schemas) resolve too. It returns the attribute (the
// sub-attribute when sub is set), the schema URN it belongs to ("" for common
// attributes), and nil when nothing matches.
func (rt *ResourceType) Resolve(uri, name, sub string) (*Attribute, string) {
	var a *Attribute
	var owner string
	if uri == "" {
		switch strings.ToLower(name) {
		case "id":
			a = IDAttr
		case "externalid":
			a = ExternalIDAttr
		case "meta":
			a = MetaAttr
		case "schemas":
			a = SchemasAttr
		}
	}
	if a == nil {
		for _, s := range rt.Schemas() {
			if uri != "" && !strings.EqualFold(uri, s.ID) {
				continue
			}
			if a = s.Attr(name); a != nil {
				owner = s.ID
				break
			}
		}
	}
	if a == nil {
		return nil, ""
	}
	if sub == "" {
		return a, owner
	}
	if s := a.Sub(sub); s != nil {
		return s, owner
	}
	return nil, ""
}

// Schemas returns the core schema followed by the extension schemas.
func (rt *ResourceType) Schemas() []*Schema {
	out := make([]*Schema, 0, 1+len(rt.Extensions))
	out = append(out, rt.Schema)
	for _, e := range rt.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

// Extension returns the extension schema with the given URN (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.Schema.ID, urn) {
			return e.Schema
		}
	}
	return nil
}

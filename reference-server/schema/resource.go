package schema

import (
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// Resource returns s as /Schemas serves it (RFC 7643 §7; RFC 7644 §4):
// schemas [urn:…:Schema], id, name, description, attributes (each with every
// characteristic of §7, subAttributes for complex ones) and meta
// {resourceType "Schema", location baseURL/Schemas/<id>}. baseURL is the
// SCIM base URL, e.g. "https://example.com/v2"; a trailing slash is ignored.
// Values have the shapes encoding/json decodes to ([]any, map[string]any), so
// the result can be compared with a decoded response.
func (s *Schema) Resource(baseURL string) map[string]any {
	r := map[string]any{
		"schemas":    []any{scim.SchemaSchema},
		"id":         s.ID,
		"attributes": attrsResource(s.Attributes),
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     strings.TrimRight(baseURL, "/") + "/Schemas/" + s.ID,
		},
	}
	if s.Name != "" {
		r["name"] = s.Name
	}
	if s.Description != "" {
		r["description"] = s.Description
	}
	return r
}

func attrsResource(as []*Attribute) []any {
	out := make([]any, 0, len(as))
	for _, a := range as {
		out = append(out, attrResource(a))
	}
	return out
}

// attrResource writes every characteristic, defaults included, so a client
// never has to know §2.2's defaults. canonicalValues and referenceTypes
// appear when set, even empty (§8.7.1 prints "canonicalValues": [] for
// roles.type); subAttributes appear for complex attributes.
func attrResource(a *Attribute) map[string]any {
	m := map[string]any{
		"name":        a.Name,
		"type":        string(a.Type),
		"multiValued": a.MultiValued,
		"required":    a.Required,
		"caseExact":   a.CaseExact,
		"mutability":  string(a.Mutability),
		"returned":    string(a.Returned),
		"uniqueness":  string(a.Uniqueness),
	}
	if a.Description != "" {
		m["description"] = a.Description
	}
	if a.CanonicalValues != nil {
		m["canonicalValues"] = stringsResource(a.CanonicalValues)
	}
	if a.ReferenceTypes != nil {
		m["referenceTypes"] = stringsResource(a.ReferenceTypes)
	}
	if a.Type == Complex || len(a.SubAttributes) > 0 {
		m["subAttributes"] = attrsResource(a.SubAttributes)
	}
	return m
}

func stringsResource(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// Resource returns rt as /ResourceTypes serves it (RFC 7643 §6, §8.6):
// schemas [urn:…:ResourceType], id, name, endpoint, description, schema,
// schemaExtensions [{schema, required}] (left out when there are none, as
// §8.6's Group shows) and meta {resourceType "ResourceType", location
// baseURL/ResourceTypes/<id>}. A trailing slash on baseURL is ignored.
func (rt *ResourceType) Resource(baseURL string) map[string]any {
	r := map[string]any{
		"schemas":  []any{scim.ResourceTypeSchema},
		"id":       rt.ID,
		"name":     rt.Name,
		"endpoint": rt.Endpoint,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     strings.TrimRight(baseURL, "/") + "/ResourceTypes/" + rt.ID,
		},
	}
	if rt.Schema != nil {
		r["schema"] = rt.Schema.ID
	}
	if rt.Description != "" {
		r["description"] = rt.Description
	}
	if len(rt.Extensions) > 0 {
		exts := make([]any, 0, len(rt.Extensions))
		for _, e := range rt.Extensions {
			exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
		}
		r["schemaExtensions"] = exts
	}
	return r
}

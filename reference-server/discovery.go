package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// The discovery endpoints of RFC 7644 §4. They describe exactly what this
// server does, generated from its profile. A "filter" parameter is refused
// with 403 as RFC 7644 §4 says; write methods are 405 (the router).

func (s *Server) refuseFilter(c *call) error {
	if c.r.URL.Query().Has("filter") {
		return scim.New(http.StatusForbidden, "", "filtering is not supported on the discovery endpoints (RFC 7644 §4)")
	}
	return nil
}

// spc builds the ServiceProviderConfig (RFC 7643 §5) from the profile.
func (s *Server) spc(base string) scim.ServiceProviderConfig {
	p := s.prof
	cfg := scim.ServiceProviderConfig{
		Schemas:          []string{scim.ServiceProviderConfigSchema},
		DocumentationURI: p.DocumentationURI,
		Patch:            scim.Supported{Supported: p.Patch},
		Bulk: scim.BulkConfig{
			Supported:      p.Bulk.Supported,
			MaxOperations:  p.Bulk.MaxOperations,
			MaxPayloadSize: int(p.Bulk.MaxPayloadSize),
		},
		Filter: scim.FilterConfig{Supported: p.Filter, MaxResults: p.MaxResults},
		// PATCH and PUT write the writeOnly password (RFC 7643 §4.1.1) unless
		// the profile drops it, so changePassword says so (RFC 7643 §5).
		ChangePassword: scim.Supported{Supported: !slices.ContainsFunc(p.Users.Unsupported, func(a string) bool { return strings.EqualFold(a, "password") })},
		Sort:           scim.Supported{Supported: p.Sort},
		ETag:           scim.Supported{Supported: p.ETag},
		AuthenticationSchemes: []scim.AuthScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "Authentication with a bearer token (Authorization: Bearer scimlab_…), issued by `scimlab token create`.",
			SpecURI:     "https://www.rfc-editor.org/info/rfc6750",
			Primary:     true,
		}},
		Meta: &scim.Meta{ResourceType: "ServiceProviderConfig", Location: base + "/ServiceProviderConfig"},
	}
	if !cfg.Bulk.Supported {
		cfg.Bulk.MaxOperations, cfg.Bulk.MaxPayloadSize = 0, 0
	}
	s.amendSPC(&cfg)
	return cfg
}

func (s *Server) serviceProviderConfig(c *call) error {
	if err := s.refuseFilter(c); err != nil {
		return err
	}
	b, err := marshal(s.spc(c.base))
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, b)
	return nil
}

func (s *Server) resourceTypeDocs(base string) []any {
	out := make([]any, 0, len(s.kinds))
	for _, k := range s.kinds {
		out = append(out, k.rt.Resource(base))
	}
	return out
}

func (s *Server) resourceTypes(c *call) error {
	if err := s.refuseFilter(c); err != nil {
		return err
	}
	return writeDiscoveryList(c, s.resourceTypeDocs(c.base))
}

func (s *Server) resourceType(c *call) error {
	if err := s.refuseFilter(c); err != nil {
		return err
	}
	for _, k := range s.kinds {
		if strings.EqualFold(c.id, k.rt.ID) || strings.EqualFold(c.id, k.rt.Name) {
			b, err := marshal(k.rt.Resource(c.base))
			if err != nil {
				return err
			}
			writeJSON(c.w, http.StatusOK, b)
			return nil
		}
	}
	return errorf(http.StatusNotFound, "", "no resource type %q; this server has User and Group", truncate(c.id, 100))
}

// allSchemas lists the schemas /Schemas serves: those of the resource types,
// then the service-provider schemas of RFC 7643 §5–§7.
func (s *Server) allSchemas() []*schema.Schema {
	var out []*schema.Schema
	seen := map[string]bool{}
	add := func(sc *schema.Schema) {
		if sc != nil && !seen[sc.ID] {
			seen[sc.ID] = true
			out = append(out, sc)
		}
	}
	for _, k := range s.kinds {
		var unsupported, required []profile.Ref
		if r := s.rules.of(s, k); r != nil {
			unsupported, required = r.unsupported, r.required
		}
		for _, sc := range k.rt.Schemas() {
			sc = withoutUnsupported(sc, k.rt.Schema.ID, unsupported)
			sc = withRequired(sc, k.rt.Schema.ID, required)
			if sc.ID == k.rt.Schema.ID {
				sc = s.withKeyRules(k, sc)
				if k == s.groups {
					sc = s.withMemberTypes(sc)
				}
			}
			add(sc)
		}
	}
	add(schema.ServiceProviderConfig())
	add(schema.ResourceTypeSchema())
	add(schema.SchemaSchema())
	return out
}

func (s *Server) schemas(c *call) error {
	if err := s.refuseFilter(c); err != nil {
		return err
	}
	var docs []any
	for _, sc := range s.allSchemas() {
		docs = append(docs, sc.Resource(c.base))
	}
	return writeDiscoveryList(c, docs)
}

func (s *Server) schemaByID(c *call) error {
	if err := s.refuseFilter(c); err != nil {
		return err
	}
	for _, sc := range s.allSchemas() {
		if strings.EqualFold(sc.ID, c.id) {
			b, err := marshal(sc.Resource(c.base))
			if err != nil {
				return err
			}
			writeJSON(c.w, http.StatusOK, b)
			return nil
		}
	}
	return errorf(http.StatusNotFound, "", "no schema %q", truncate(c.id, 200))
}

// writeDiscoveryList writes docs as a ListResponse (RFC 7644 §4: the
// /ResourceTypes and /Schemas responses are ListResponses).
func writeDiscoveryList(c *call, docs []any) error {
	var buf bytes.Buffer
	buf.WriteString(`{"schemas":["` + scim.ListResponseSchema + `"],"totalResults":`)
	buf.WriteString(strconv.Itoa(len(docs)))
	buf.WriteString(`,"itemsPerPage":`)
	buf.WriteString(strconv.Itoa(len(docs)))
	buf.WriteString(`,"startIndex":1,"Resources":[`)
	for i, d := range docs {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encodeTo(&buf, d); err != nil {
			return err
		}
	}
	buf.WriteString("]}")
	if !json.Valid(buf.Bytes()) {
		return scim.New(http.StatusInternalServerError, "", "discovery document is not valid JSON")
	}
	writeJSON(c.w, http.StatusOK, buf.Bytes())
	return nil
}

// withKeyRules returns the core schema sc of k as the server enforces its
// unique name: User userName and Group displayName are unique (a 409
// uniqueness for a taken name, issue 3), so uniqueness "server" even where
// RFC 7643 §4.2 says "none" for displayName; caseExact as the profile
// compares them. sc itself when it already says so.
func (s *Server) withKeyRules(k *resourceKind, sc *schema.Schema) *schema.Schema {
	name, caseExact := "userName", s.prof.UserNameCaseExact
	if k == s.groups {
		name, caseExact = "displayName", s.prof.GroupDisplayNameCaseExact
	}
	a := sc.Attr(name)
	if a == nil || (a.Uniqueness == schema.Server && a.CaseExact == caseExact) {
		return sc
	}
	out := schema.Clone(sc)
	a = out.Attr(name)
	a.Uniqueness, a.CaseExact = schema.Server, caseExact
	return out
}

// withMemberTypes returns the Group schema sc with the member types the
// server keeps: without nested groups (the profile's nestedGroups is not
// "allow"), a member is a User, so members.type offers "User" alone and
// members.$ref refers to Users alone. sc itself when groups may nest.
func (s *Server) withMemberTypes(sc *schema.Schema) *schema.Schema {
	if s.prof.NestedGroups == profile.Allow || sc.Attr("members") == nil {
		return sc
	}
	out := schema.Clone(sc)
	m := out.Attr("members")
	users := func(vs []string) []string {
		return slices.DeleteFunc(vs, func(v string) bool { return !strings.EqualFold(v, "User") })
	}
	if t := m.Sub("type"); t != nil {
		t.CanonicalValues = users(t.CanonicalValues)
	}
	if r := m.Sub("$ref"); r != nil {
		r.ReferenceTypes = users(r.ReferenceTypes)
	}
	return out
}

// withoutUnsupported returns sc without the attributes the profile does not
// store, so that /Schemas describes exactly what the server keeps (RFC 7643
// §7); sc itself when none of them belongs to it. core is the URN of the
// resource type's core schema (a Ref's Schema is "" for core attributes).
func withoutUnsupported(sc *schema.Schema, core string, unsupported []profile.Ref) *schema.Schema {
	var out *schema.Schema
	for _, ref := range unsupported {
		owner := ref.Schema
		if owner == "" {
			owner = core
		}
		if owner != sc.ID {
			continue
		}
		if out == nil {
			out = schema.Clone(sc)
		}
		drop := func(attrs []*schema.Attribute, name string) []*schema.Attribute {
			return slices.DeleteFunc(attrs, func(a *schema.Attribute) bool { return strings.EqualFold(a.Name, name) })
		}
		if ref.Sub == "" {
			out.Attributes = drop(out.Attributes, ref.Attr)
			continue
		}
		if parent := out.Attr(ref.Attr); parent != nil {
			parent.SubAttributes = drop(parent.SubAttributes, ref.Sub)
		}
	}
	if out == nil {
		return sc
	}
	return out
}

// withRequired returns sc (a schema of a resource type whose core schema is
// core) with the attributes the profile requires marked required (RFC 7643
// §7): a required sub-attribute makes its parent required too, since the
// parent must be there to hold it. sc itself when the profile requires none
// of its attributes.
func withRequired(sc *schema.Schema, core string, required []profile.Ref) *schema.Schema {
	var out *schema.Schema
	for _, ref := range required {
		owner := ref.Schema
		if owner == "" {
			owner = core
		}
		if owner != sc.ID || sc.Attr(ref.Attr) == nil {
			continue
		}
		if out == nil {
			out = schema.Clone(sc)
		}
		a := out.Attr(ref.Attr)
		a.Required = true
		if ref.Sub != "" {
			if sub := a.Sub(ref.Sub); sub != nil {
				sub.Required = true
			}
		}
	}
	if out == nil {
		return sc
	}
	return out
}

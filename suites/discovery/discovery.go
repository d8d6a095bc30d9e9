// Package discovery holds the checks of the discovery endpoints of RFC 7644
// §4: /ServiceProviderConfig, /ResourceTypes and /Schemas.
package discovery

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var (
	legalTypes      = []string{"string", "boolean", "decimal", "integer", "dateTime", "binary", "reference", "complex"}
	legalMutability = []string{"readOnly", "readWrite", "immutable", "writeOnly"}
	legalReturned   = []string{"always", "never", "default", "request"}
	legalUniqueness = []string{"none", "server", "global"}
)

// schemas fetches /Schemas and returns its resources keyed by id.
func schemas(ctx context.Context, c *framework.Client) map[string]framework.Doc {
	GinkgoHelper()
	lr := framework.List(ctx, c, "/Schemas")
	out := map[string]framework.Doc{}
	for _, s := range lr.Resources() {
		out[s.Str("id")] = s
	}
	return out
}

// attr finds a top-level attribute definition by name in a schema resource.
func attr(s framework.Doc, name string) framework.Doc {
	for _, a := range s.List("attributes") {
		if strings.EqualFold(a.Str("name"), name) {
			return a
		}
	}
	return nil
}

// walkAttrs calls fn on every attribute and sub-attribute definition.
func walkAttrs(attrs []framework.Doc, path string, fn func(path string, a framework.Doc)) {
	for _, a := range attrs {
		p := a.Str("name")
		if path != "" {
			p = path + "." + p
		}
		fn(p, a)
		walkAttrs(a.List("subAttributes"), p, fn)
	}
}

var _ = Describe("Discovery", lbl.Of(lbl.Discovery), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	Describe("/ServiceProviderConfig", func() {
		framework.It("DSC-001", "GET /ServiceProviderConfig returns the ServiceProviderConfig resource", lbl.MUST, lbl.RFC("7644:4"), lbl.RFC("7643:5"), func(ctx SpecContext) {
			d := framework.Get(ctx, c, "/ServiceProviderConfig")
			Expect(d.Strings("schemas")).To(ContainElement(scim.ServiceProviderConfigSchema), "schemas names the ServiceProviderConfig schema")
		})

		framework.It("DSC-002", "declares every required feature with a boolean \"supported\"", lbl.MUST, lbl.RFC("7643:5"), func(ctx SpecContext) {
			d := framework.Get(ctx, c, "/ServiceProviderConfig")
			for _, f := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
				_, ok := d.Bool(f + ".supported")
				Expect(ok).To(BeTrue(), "%s.supported is a JSON boolean (got %#v)", f, d.Get(f+".supported"))
			}
		})

		framework.It("DSC-003", "declares bulk.maxOperations, bulk.maxPayloadSize and filter.maxResults as integers", lbl.MUST, lbl.RFC("7643:5"), func(ctx SpecContext) {
			d := framework.Get(ctx, c, "/ServiceProviderConfig")
			for _, f := range []string{"bulk.maxOperations", "bulk.maxPayloadSize", "filter.maxResults"} {
				_, ok := d.Int(f)
				Expect(ok).To(BeTrue(), "%s is a JSON integer (got %#v)", f, d.Get(f))
			}
		})

		framework.It("DSC-004", "lists authenticationSchemes, each with type, name and description", lbl.MUST, lbl.RFC("7643:5"), func(ctx SpecContext) {
			d := framework.Get(ctx, c, "/ServiceProviderConfig")
			schemes := d.List("authenticationSchemes")
			Expect(schemes).NotTo(BeEmpty(), "authenticationSchemes is a non-empty array")
			for _, s := range schemes {
				for _, f := range []string{"type", "name", "description"} {
					Expect(s.Str(f)).NotTo(BeEmpty(), "authentication scheme %s has %q", s, f)
				}
			}
		})

		framework.It("DSC-005", "ignores paging and sorting parameters", lbl.MUST, lbl.RFC("7644:4"), func(ctx SpecContext) {
			d := framework.Get(ctx, c, "/ServiceProviderConfig", "startIndex", "5", "count", "1", "sortBy", "id")
			Expect(d.Strings("schemas")).To(ContainElement(scim.ServiceProviderConfigSchema))
		})
	})

	Describe("/ResourceTypes", func() {
		framework.It("DSC-010", "GET /ResourceTypes is a ListResponse whose totalResults counts its Resources", lbl.MUST, lbl.RFC("7644:4"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			n, _ := d.Int("totalResults")
			Expect(d.Resources()).To(HaveLen(n), "totalResults equals the number of Resources")
			Expect(d.Resources()).NotTo(BeEmpty(), "at least one resource type")
		})

		framework.It("DSC-011", "each resource type has name, endpoint and schema, and its extensions have schema and required", lbl.MUST, lbl.RFC("7643:6"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			for _, rt := range d.Resources() {
				Expect(rt.Strings("schemas")).To(ContainElement(scim.ResourceTypeSchema), "resource type %s names the ResourceType schema", rt.Str("name"))
				for _, f := range []string{"name", "endpoint", "schema"} {
					Expect(rt.Str(f)).NotTo(BeEmpty(), "resource type %s has %q", rt, f)
				}
				for _, ext := range rt.List("schemaExtensions") {
					Expect(ext.Str("schema")).NotTo(BeEmpty(), "extension of %s has schema", rt.Str("name"))
					_, ok := ext.Bool("required")
					Expect(ok).To(BeTrue(), "extension %s of %s has a boolean required", ext.Str("schema"), rt.Str("name"))
				}
			}
		})

		framework.It("DSC-012", "declares the User resource type at /Users with the core User schema", lbl.SHOULD, lbl.RFC("7643:4.1"), lbl.RFC("7643:8.6"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			var user framework.Doc
			for _, rt := range d.Resources() {
				if rt.Str("name") == "User" {
					user = rt
				}
			}
			Expect(user).NotTo(BeNil(), "a resource type named User")
			Expect(user.Str("endpoint")).To(Equal("/Users"))
			Expect(user.Str("schema")).To(Equal(scim.UserSchema))
		})

		framework.It("DSC-013", "GET /ResourceTypes/{name} returns each resource type on its own, not in a ListResponse", lbl.MUST, lbl.RFC("7644:4"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			for _, rt := range d.Resources() {
				id := rt.Str("id")
				if id == "" {
					id = rt.Str("name")
				}
				one := framework.Get(ctx, c, "/ResourceTypes/"+url.PathEscape(id))
				Expect(one.Strings("schemas")).NotTo(ContainElement(scim.ListResponseSchema), "/ResourceTypes/%s is a single resource", id)
				Expect(one.Str("name")).To(Equal(rt.Str("name")))
				Expect(one.Str("endpoint")).To(Equal(rt.Str("endpoint")))
			}
		})

		framework.It("DSC-014", "an unknown resource type is 404 with a SCIM error", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			Expect(c.Get(ctx, "/ResourceTypes/NoSuchType"+framework.Current().RunID)).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("DSC-015", "every resource type's endpoint answers a query with a ListResponse", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			for _, rt := range d.Resources() {
				Expect(c.Get(ctx, rt.Str("endpoint"), "count", "1")).To(framework.BeListResponse(), "GET %s", rt.Str("endpoint"))
			}
		})

		framework.It("DSC-016", "a filter on /ResourceTypes is refused with 403", lbl.SHOULD, lbl.RFC("7644:4"), func(ctx SpecContext) {
			Expect(c.Get(ctx, "/ResourceTypes", "filter", `name eq "User"`)).To(framework.HaveStatus(http.StatusForbidden))
		})
	})

	Describe("/Schemas", func() {
		framework.It("DSC-020", "GET /Schemas is a ListResponse of schema resources with id and attributes", lbl.MUST, lbl.RFC("7644:4"), lbl.RFC("7643:7"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/Schemas")
			Expect(d.Resources()).NotTo(BeEmpty())
			for _, s := range d.Resources() {
				Expect(s.Str("id")).To(HavePrefix("urn:"), "schema id is a URN")
				_, isArr := s.Get("attributes").([]any)
				Expect(isArr).To(BeTrue(), "schema %s has an attributes array", s.Str("id"))
			}
		})

		framework.It("DSC-021", "GET /Schemas/{id} returns each schema on its own", lbl.MUST, lbl.RFC("7644:4"), func(ctx SpecContext) {
			for id := range schemas(ctx, c) {
				one := framework.Get(ctx, c, "/Schemas/"+id)
				Expect(one.Str("id")).To(Equal(id))
				Expect(one.Strings("schemas")).NotTo(ContainElement(scim.ListResponseSchema))
			}
		})

		framework.It("DSC-022", "an unknown schema URN is 404 with a SCIM error", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			Expect(c.Get(ctx, "/Schemas/urn:example:scimlab:NoSuchSchema")).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("DSC-023", "every schema and extension a resource type names resolves through /Schemas/{id}", lbl.MUST, lbl.RFC("7643:6"), lbl.RFC("7644:4"), func(ctx SpecContext) {
			d := framework.List(ctx, c, "/ResourceTypes")
			for _, rt := range d.Resources() {
				uris := []string{rt.Str("schema")}
				for _, ext := range rt.List("schemaExtensions") {
					uris = append(uris, ext.Str("schema"))
				}
				for _, u := range uris {
					Expect(c.Get(ctx, "/Schemas/"+u)).To(framework.HaveStatus(http.StatusOK), "schema %s of %s", u, rt.Str("name"))
				}
			}
		})

		// RFC 7644 §4: "/Schemas  An HTTP GET to this endpoint is used to
		// retrieve information about resource schemas supported by a SCIM
		// service provider" — resource schemas; the three configuration
		// schemas are written down in RFC 7643 §8.7.2, an example
		// representation with no normative keyword. Serving them is a
		// discovery nicety: MAY.
		framework.It("DSC-024", "also serves the ServiceProviderConfig, ResourceType and Schema schemas, beyond the resource schemas", lbl.MAY, lbl.RFC("7644:4"), lbl.RFC("7643:8.7.2"), func(ctx SpecContext) {
			all := schemas(ctx, c)
			for _, id := range []string{scim.ServiceProviderConfigSchema, scim.ResourceTypeSchema, scim.SchemaSchema} {
				Expect(all).To(HaveKey(id))
			}
		})

		framework.It("DSC-025", "every attribute characteristic uses a value RFC 7643 defines", lbl.MUST, lbl.RFC("7643:7"), func(ctx SpecContext) {
			for id, s := range schemas(ctx, c) {
				walkAttrs(s.List("attributes"), "", func(p string, a framework.Doc) {
					Expect(legalTypes).To(ContainElement(a.Str("type")), "%s %s: type", id, p)
					if a.Has("mutability") {
						Expect(legalMutability).To(ContainElement(a.Str("mutability")), "%s %s: mutability", id, p)
					}
					if a.Has("returned") {
						Expect(legalReturned).To(ContainElement(a.Str("returned")), "%s %s: returned", id, p)
					}
					if a.Has("uniqueness") {
						Expect(legalUniqueness).To(ContainElement(a.Str("uniqueness")), "%s %s: uniqueness", id, p)
					}
					if a.Str("type") == "complex" {
						Expect(a.List("subAttributes")).NotTo(BeEmpty(), "%s %s: a complex attribute has subAttributes", id, p)
					}
				})
			}
		})

		framework.It("DSC-026", "the User schema makes userName required, case-insensitive and unique per server", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7643:8.7.1"), func(ctx SpecContext) {
			u, ok := schemas(ctx, c)[scim.UserSchema]
			Expect(ok).To(BeTrue(), "/Schemas lists %s", scim.UserSchema)
			un := attr(u, "userName")
			Expect(un).NotTo(BeNil())
			Expect(un.Get("required")).To(Equal(true), "userName required")
			Expect(un.Get("caseExact")).To(Equal(false), "userName caseExact=false")
			Expect(un.Str("uniqueness")).To(Equal("server"))
		})

		framework.It("DSC-027", "the User schema makes groups readOnly and password writeOnly and never returned", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7643:4.1.2"), func(ctx SpecContext) {
			u, ok := schemas(ctx, c)[scim.UserSchema]
			Expect(ok).To(BeTrue())
			if g := attr(u, "groups"); g != nil {
				Expect(g.Str("mutability")).To(Equal("readOnly"), "User.groups is readOnly")
			}
			if p := attr(u, "password"); p != nil {
				Expect(p.Str("mutability")).To(Equal("writeOnly"), "User.password is writeOnly")
				Expect(p.Str("returned")).To(Equal("never"), "User.password is returned never")
			}
		})

		framework.It("DSC-028", "the Group schema defines displayName and members with value, $ref and type", lbl.SHOULD, lbl.NeedsGroups, lbl.RFC("7643:4.2"), lbl.RFC("7643:8.7.1"), func(ctx SpecContext) {
			g, ok := schemas(ctx, c)[scim.GroupSchema]
			Expect(ok).To(BeTrue(), "/Schemas lists %s", scim.GroupSchema)
			Expect(attr(g, "displayName")).NotTo(BeNil())
			m := attr(g, "members")
			Expect(m).NotTo(BeNil())
			var subs []string
			for _, s := range m.List("subAttributes") {
				subs = append(subs, s.Str("name"))
			}
			Expect(subs).To(ContainElements("value", "$ref", "type"))
		})

		framework.It("DSC-029", "a filter on /Schemas is refused with 403", lbl.SHOULD, lbl.RFC("7644:4"), func(ctx SpecContext) {
			Expect(c.Get(ctx, "/Schemas", "filter", `id eq "`+scim.UserSchema+`"`)).To(framework.HaveStatus(http.StatusForbidden))
		})

		framework.It("DSC-030", "ignores paging parameters and returns every schema", lbl.MUST, lbl.RFC("7644:4"), func(ctx SpecContext) {
			all := framework.List(ctx, c, "/Schemas")
			paged := framework.List(ctx, c, "/Schemas", "startIndex", "2", "count", "1")
			Expect(paged.Resources()).To(HaveLen(len(all.Resources())), "startIndex and count are ignored on /Schemas")
		})
	})

	// RFC 7644 §4 defines only GET on the discovery endpoints and says
	// nothing of other methods, and its error table (§3.12) has no 405. What
	// these checks ask for is HTTP's answer, RFC 9110 §15.5.6: "The 405
	// (Method Not Allowed) status code indicates that the method received in
	// the request-line is known by the origin server but not supported by
	// the target resource" — a definition, with no SHOULD telling a server
	// to send it. So they are MAY: good practice, never a CI failure.
	DescribeTable("write methods on discovery endpoints are refused",
		func(ctx SpecContext, method, path string) {
			resp := c.Do(ctx, framework.Request{Method: method, Path: path, Body: map[string]any{"schemas": []string{scim.ServiceProviderConfigSchema}}})
			if method == http.MethodDelete {
				resp = c.Do(ctx, framework.Request{Method: method, Path: path})
			}
			Expect(resp).To(framework.HaveStatus(http.StatusMethodNotAllowed, http.StatusNotImplemented))
			Expect(slices.Contains([]int{200, 201, 204}, resp.Status)).To(BeFalse())
		},
		framework.Entry("DSC-040", "POST /ServiceProviderConfig is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPost, "/ServiceProviderConfig"),
		framework.Entry("DSC-041", "PUT /ServiceProviderConfig is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPut, "/ServiceProviderConfig"),
		framework.Entry("DSC-042", "PATCH /ServiceProviderConfig is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPatch, "/ServiceProviderConfig"),
		framework.Entry("DSC-043", "DELETE /ServiceProviderConfig is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodDelete, "/ServiceProviderConfig"),
		framework.Entry("DSC-044", "POST /ResourceTypes is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPost, "/ResourceTypes"),
		framework.Entry("DSC-045", "DELETE /ResourceTypes/User is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodDelete, "/ResourceTypes/User"),
		framework.Entry("DSC-046", "POST /Schemas is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPost, "/Schemas"),
		framework.Entry("DSC-047", "PUT /Schemas/{User schema} is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), http.MethodPut, "/Schemas/"+scim.UserSchema),
	)
})

// Package idp holds IdP-readiness checks: the requests Okta and Microsoft
// Entra ID send, shaped as they send them (docs/idp-traffic.md), and the
// answers they need. Their level is the IdP (idp:okta, idp:entra), not an
// RFC keyword. Checks marked "tolerance" send shapes the RFC does not define.
package idp

import (
	"fmt"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// User agents the IdPs send (docs/idp-traffic.md §1.1, §1.2).
const (
	oktaAgent  = "Okta SCIM Client 1.0.0"
	entraAgent = "Microsoft Azure Active Directory SCIM Client"
)

const ent = scim.EnterpriseUserSchema

var _ = Describe("IdP readiness", lbl.Of(lbl.IdP), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	okta := func(ctx SpecContext, method, path string, query map[string][]string, body any) *framework.Response {
		return c.Do(ctx, framework.Request{Method: method, Path: path, Query: query, Body: body, UserAgent: oktaAgent})
	}
	entra := func(ctx SpecContext, method, path string, query map[string][]string, body any) *framework.Response {
		return c.Do(ctx, framework.Request{Method: method, Path: path, Query: query, Body: body, UserAgent: entraAgent})
	}
	q := func(kv ...string) map[string][]string {
		out := map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = append(out[kv[i]], kv[i+1])
		}
		return out
	}
	guid := func() string { return framework.Current().Faker.UUID() }
	patch := func(ops ...scim.PatchOperation) scim.PatchOp { return framework.PatchOp(ops...) }
	op := framework.Op

	Describe("Microsoft Entra ID", func() {
		framework.It("IDP-001", "Test Connection: GET /Users with a random userName filter answers 200 with an empty ListResponse", lbl.Entra, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			resp := entra(ctx, http.MethodGet, "/Users", q("filter", "userName eq "+framework.Quote(guid())), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(resp.Doc().Total()).To(Equal(0))
		})

		framework.It("IDP-002", "Test Connection: GET /Groups with a random displayName filter answers 200 with an empty ListResponse, never 404", lbl.Entra, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			resp := entra(ctx, http.MethodGet, "/Groups", q("filter", "displayName eq "+framework.Quote(guid()), "excludedAttributes", "members"), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(resp.Doc().Total()).To(Equal(0))
		})

		framework.It("IDP-003", "capitalised operations Replace, Add and Remove are accepted", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			resp := entra(ctx, http.MethodPatch, framework.UserPath(u), nil, patch(
				op("Replace", "displayName", "Entra Replace"),
				op("Add", "nickName", "Entra"),
				op("Remove", "title", nil),
			))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			got := framework.Get(ctx, c, framework.UserPath(u))
			Expect(got.Str("displayName")).To(Equal("Entra Replace"))
			Expect(got.Str("nickName")).To(Equal("Entra"))
		})

		framework.It("IDP-004", "disable with the string \"False\": {\"op\":\"Replace\",\"path\":\"active\",\"value\":\"False\"}", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			Expect(entra(ctx, http.MethodPatch, framework.UserPath(u), nil, patch(op("Replace", "active", "False")))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.UserPath(u)).Get("active")).To(Equal(false), "active is the boolean false")
		})

		framework.It("IDP-005", "a path-less replace with dotted keys (aadOptscim062020) updates the sub-attributes", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			resp := entra(ctx, http.MethodPatch, framework.UserPath(u), nil, patch(op("replace", "", map[string]any{
				"displayName": "Ana Lee", "name.givenName": "Ana", "name.familyName": "Lee",
			})))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			got := framework.Get(ctx, c, framework.UserPath(u))
			Expect(got.Str("name.givenName")).To(Equal("Ana"))
			Expect(got.Str("name.familyName")).To(Equal("Lee"))
			Expect(got).NotTo(HaveKey("name.givenName"), "no literal top-level \"name.givenName\" attribute")
		})

		framework.It("IDP-006", "remove members with a value list removes only the listed members", lbl.Entra, lbl.Tolerance, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "idp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp", framework.IDs(users)...))
			resp := entra(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("Remove", "members", []any{map[string]any{"value": users[0].ID()}})))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(users[1].ID(), users[2].ID()))
		})

		framework.It("IDP-007", "group lookup with excludedAttributes=members finds the group without its members", lbl.Entra, lbl.NeedsGroups, lbl.RFC("7644:3.4.2"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp", u.ID()))
			resp := entra(ctx, http.MethodGet, "/Groups", q("excludedAttributes", "members", "filter", "displayName eq "+framework.Quote(g.Str("displayName"))), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(g.ID()))
			Expect(resp.Doc().Resources()[0].Has("members")).To(BeFalse())
		})

		framework.It("IDP-008", "group rename and member add by PATCH answer 204 or 200", lbl.Entra, lbl.NeedsGroups, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp"))
			name := framework.GroupName("idp-renamed")
			Expect(entra(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("replace", "displayName", name)))).To(framework.HaveStatus(http.StatusNoContent, http.StatusOK))
			Expect(entra(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("add", "members", []any{map[string]any{"$ref": nil, "value": u.ID()}})))).To(framework.HaveStatus(http.StatusNoContent, http.StatusOK))
			got := framework.Get(ctx, c, framework.GroupPath(g))
			Expect(got.Str("displayName")).To(Equal(name))
			Expect(got.Values("members")).To(ConsistOf(u.ID()), "a member sent with \"$ref\": null is added")
		})

		framework.It("IDP-009", "user lookup by externalId eq answers with the user", lbl.Entra, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			resp := entra(ctx, http.MethodGet, "/Users", q("filter", "externalId eq "+framework.Quote(u.Str("externalId"))), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(u.ID()))
		})

		framework.It("IDP-030", "user lookup by emails[type eq \"work\"].value eq answers with the user", lbl.Entra, lbl.Tolerance, lbl.Doc("idp-traffic:1.2"), func(ctx SpecContext) {
			// Beyond the RFC: the §3.4.2.2 grammar has nothing after the
			// "]" of a valuePath in a filter (valuePath [subAttr] is the
			// PATCH path rule), so a strict server answers 400
			// invalidFilter. Entra sends it anyway: idp-traffic.md §1.2,
			// "Every attribute used for user uniqueness must be filterable,
			// e.g. emails[type eq "work"].value eq "x"" (ENTRA-SCIM).
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			work := u.List("emails")[0].Str("value")
			resp := entra(ctx, http.MethodGet, "/Users", q("filter", `emails[type eq "work"].value eq `+framework.Quote(work)), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(u.ID()))
		})

		framework.It("IDP-031", "create the way Entra sends it: both schemas, meta.resourceType, roles [] and the enterprise extension", lbl.Entra, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			u["schemas"] = []any{scim.UserSchema, ent}
			u["meta"] = map[string]any{"resourceType": "User"}
			u["roles"] = []any{}
			u[ent] = map[string]any{"employeeNumber": "701984", "department": "Tour Operations"}
			resp := entra(ctx, http.MethodPost, "/Users", nil, u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
			Expect(resp.Doc().ID()).NotTo(BeEmpty())
		})

		framework.It("IDP-032", "an inactive user is still returned by GET and by a userName filter", lbl.Entra, lbl.RFC("7644:3.4.1"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			u["active"] = false
			created := framework.CreateUser(ctx, c, u)
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Get("active")).To(Equal(false))
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")))
			Expect(framework.IDs(lr.Resources())).To(ConsistOf(created.ID()))
		})

		framework.It("IDP-033", "responses use the media type application/scim+json", lbl.Entra, lbl.RFC("7644:8.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			Expect(entra(ctx, http.MethodGet, framework.UserPath(u), nil, nil)).To(framework.HaveContentType(scim.MediaType))
			Expect(entra(ctx, http.MethodGet, "/Users", q("filter", "userName eq "+framework.Quote(guid())), nil)).To(framework.HaveContentType(scim.MediaType))
		})

		framework.It("IDP-034", "the membership probe id eq … and members eq … finds the group", lbl.Entra, lbl.Tolerance, lbl.NeedsGroups, lbl.Doc("idp-traffic:1.2"), lbl.Doc("testers:2"), func(ctx SpecContext) {
			// Beyond the RFC: §3.4.2.2 says "For complex attributes, a
			// fully qualified sub-attribute MUST be specified", so
			// "members eq …" is no RFC filter. Entra sends it to check a
			// membership: testers.md §2 (MSV), "Entra also asks
			// /Groups?filter=id eq g and members eq u&attributes=id";
			// idp-traffic.md §1.2: Entra filters with "eq" and "and" only,
			// and "A query/filter response must always be a ListResponse".
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp", u.ID()))
			resp := entra(ctx, http.MethodGet, "/Groups", q("filter", fmt.Sprintf(`id eq "%s" and members eq "%s"`, g.ID(), u.ID()), "attributes", "id"), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(g.ID()))
		})

		framework.It("IDP-035", "\"Add\" on a single-valued attribute set for the first time", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.MinimalUser("idp"))
			Expect(entra(ctx, http.MethodPatch, framework.UserPath(u), nil, patch(op("Add", "title", "Director")))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.UserPath(u)).Str("title")).To(Equal("Director"))
		})

		framework.It("IDP-036", "group create with Entra's extra ADSCIM schema URN and an externalId", lbl.Entra, lbl.Tolerance, lbl.NeedsGroups, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			g := framework.NewGroup("idp")
			g["schemas"] = []any{scim.GroupSchema, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"}
			g["externalId"] = guid()
			g["meta"] = map[string]any{"resourceType": "Group"}
			resp := entra(ctx, http.MethodPost, "/Groups", nil, g)
			framework.CleanupCreated("/Groups", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		})
	})

	Describe("Okta", func() {
		framework.It("IDP-010", "pre-create lookup userName eq with startIndex=1&count=100 answers 200, totalResults 0, integer fields", lbl.Okta, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			resp := okta(ctx, http.MethodGet, "/Users", q("filter", "userName eq "+framework.Quote(framework.UserName("idp-none")), "startIndex", "1", "count", "100"), nil)
			Expect(resp).To(framework.BeListResponse())
			d := resp.Doc()
			Expect(d.Total()).To(Equal(0))
			for _, f := range []string{"totalResults", "startIndex", "itemsPerPage"} {
				if d.Has(f) {
					_, ok := d.Int(f)
					Expect(ok).To(BeTrue(), "%s is an integer, got %#v", f, d.Get(f))
				}
			}
		})

		framework.It("IDP-011", "lookup of an existing userName with startIndex=1&count=100 finds it", lbl.Okta, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			resp := okta(ctx, http.MethodGet, "/Users", q("filter", "userName eq "+framework.Quote(u.Str("userName")), "startIndex", "1", "count", "100"), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(u.ID()))
			_, ok := resp.Doc().Int("startIndex")
			Expect(ok).To(BeTrue(), "startIndex is an integer")
		})

		framework.It("IDP-012", "a duplicate create is 409 with a SCIM error body", lbl.Okta, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			framework.CreateUser(ctx, c, u)
			resp := okta(ctx, http.MethodPost, "/Users", nil, u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusConflict))
		})

		framework.It("IDP-013", "deactivate with a path-less replace {\"active\":false}", lbl.Okta, lbl.NeedsPatch, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			Expect(okta(ctx, http.MethodPatch, framework.UserPath(u), nil, patch(op("replace", "", map[string]any{"active": false})))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.UserPath(u)).Get("active")).To(Equal(false))
		})

		framework.It("IDP-014", "reactivate with a path-less replace {\"active\":true}", lbl.Okta, lbl.NeedsPatch, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			u["active"] = false
			created := framework.CreateUser(ctx, c, u)
			Expect(okta(ctx, http.MethodPatch, framework.UserPath(created), nil, patch(op("replace", "", map[string]any{"active": true})))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Get("active")).To(Equal(true))
		})

		framework.It("IDP-015", "group rename with id and displayName in a path-less replace keeps the members", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp", u.ID()))
			name := framework.GroupName("idp-okta")
			Expect(okta(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("replace", "", map[string]any{"id": g.ID(), "displayName": name})))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			got := framework.Get(ctx, c, framework.GroupPath(g))
			Expect(got.Str("displayName")).To(Equal(name))
			Expect(got.Values("members")).To(ConsistOf(u.ID()))
		})

		framework.It("IDP-016", "profile update: PUT of the full resource as read back (id, meta, groups, schemas) with a change", lbl.Okta, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			back := framework.Get(ctx, c, framework.UserPath(u)).Clone()
			back["name"].(map[string]any)["givenName"] = "Okta-Updated"
			if !back.Has("groups") {
				back["groups"] = []any{}
			}
			resp := okta(ctx, http.MethodPut, framework.UserPath(u), nil, back)
			Expect(resp).To(framework.HaveStatus(http.StatusOK))
			Expect(framework.Get(ctx, c, framework.UserPath(u)).Str("name.givenName")).To(Equal("Okta-Updated"))
		})

		framework.It("IDP-017", "member objects without type, with display, are added", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp"))
			Expect(okta(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("add", "members", []any{map[string]any{"value": u.ID(), "display": u.Str("userName")}})))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(u.ID()))
		})

		framework.It("IDP-018", "full membership push: replace members with the complete list", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "idp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp", users[0].ID()))
			push := []any{}
			for _, u := range users[1:] {
				push = append(push, map[string]any{"value": u.ID(), "display": u.Str("userName")})
			}
			Expect(okta(ctx, http.MethodPatch, framework.GroupPath(g), nil, patch(op("replace", "members", push)))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(users[1].ID(), users[2].ID()))
		})

		framework.It("IDP-019", "an unknown id is 404 with the Error schema and a detail", lbl.Okta, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			resp := okta(ctx, http.MethodGet, "/Users/00919288221112222", nil, nil)
			Expect(resp).To(framework.BeSCIMError(http.StatusNotFound))
			Expect(resp.Doc().Str("detail")).NotTo(BeEmpty(), "the error has a detail")
		})

		framework.It("IDP-020", "\"Authorization: non-token\" is 401 with an Error body, status 401 and a detail", lbl.Okta, lbl.RFC("7644:3.12"), lbl.RFC("7644:2"), func(ctx SpecContext) {
			resp := c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Authorization: "non-token", UserAgent: oktaAgent})
			Expect(resp).To(framework.BeSCIMError(http.StatusUnauthorized))
			Expect(resp.Doc().Str("detail")).NotTo(BeEmpty())
		})

		framework.It("IDP-021", "a create sent as Content-Type application/json is accepted", lbl.Okta, lbl.RFC("7644:3.8"), func(ctx SpecContext) {
			resp := c.Do(ctx, framework.Request{Method: http.MethodPost, Path: "/Users", Body: framework.NewUser("idp"), ContentType: "application/json", UserAgent: oktaAgent})
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		})

		framework.It("IDP-022", "a create with a placeholder password, locale, groups [] and a work email is accepted", lbl.Okta, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			u["password"] = "Okta-Placeholder-1!" + framework.Current().RunID
			u["locale"] = "en-US"
			u["groups"] = []any{}
			resp := okta(ctx, http.MethodPost, "/Users", nil, u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
			Expect(resp.Doc().ID()).NotTo(BeEmpty(), "the 201 body is the user (Okta: \"Create new user returned empty user\")")
			Expect(resp.Doc().Has("password")).To(BeFalse())
		})

		framework.It("IDP-023", "group lookup displayName eq with startIndex=1&count=100 answers a ListResponse", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			g := framework.CreateGroup(ctx, c, framework.NewGroup("idp"))
			resp := okta(ctx, http.MethodGet, "/Groups", q("filter", "displayName eq "+framework.Quote(g.Str("displayName")), "startIndex", "1", "count", "100"), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(g.ID()))
		})

		framework.It("IDP-024", "the connector test GET /Users?startIndex=1&count=2 answers a ListResponse of at most 2", lbl.Okta, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
			resp := okta(ctx, http.MethodGet, "/Users", q("startIndex", "1", "count", "2"), nil)
			Expect(resp).To(framework.BeListResponse())
			Expect(len(resp.Doc().Resources())).To(BeNumerically("<=", 2))
		})

		framework.It("IDP-025", "a body sent as application/scim+json; charset=utf-8 is accepted", lbl.Okta, lbl.RFC("7644:3.8"), func(ctx SpecContext) {
			resp := c.Do(ctx, framework.Request{Method: http.MethodPost, Path: "/Users", Body: framework.NewUser("idp"), ContentType: "application/scim+json; charset=utf-8", UserAgent: oktaAgent})
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		})

		framework.It("IDP-026", "Group Push creates an empty group with members []", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			g := framework.NewGroup("idp")
			g["members"] = []any{}
			resp := okta(ctx, http.MethodPost, "/Groups", nil, g)
			framework.CleanupCreated("/Groups", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		})

		framework.It("IDP-027", "AIW reactivation: PUT of the read-back user with active true", lbl.Okta, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			u := framework.NewUser("idp")
			u["active"] = false
			created := framework.CreateUser(ctx, c, u)
			back := framework.Get(ctx, c, framework.UserPath(created)).Clone()
			back["active"] = true
			Expect(okta(ctx, http.MethodPut, framework.UserPath(created), nil, back)).To(framework.HaveStatus(http.StatusOK))
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Get("active")).To(Equal(true))
		})

		framework.It("IDP-028", "the userName case check: a filter with the upper-cased userName answers 200", lbl.Okta, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("idp"))
			resp := okta(ctx, http.MethodGet, "/Users", q("filter", "userName eq "+framework.Quote(strings.ToUpper(u.Str("userName")))), nil)
			Expect(resp).To(framework.BeListResponse())
		})
	})
})

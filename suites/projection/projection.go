// Package projection holds the checks of the attributes and
// excludedAttributes parameters (RFC 7644 §3.4.2.5, §3.9) and of the
// "returned" characteristic (RFC 7643 §2.4, §7).
package projection

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Projection", lbl.Of(lbl.Projection), func() {
	var (
		c *framework.Client
	)
	BeforeEach(func() { c = framework.NewClient() })

	user := func(ctx SpecContext) framework.Doc {
		GinkgoHelper()
		u := framework.NewUser("prj")
		u["nickName"] = "Nick"
		u["title"] = "Projector"
		return framework.CreateUser(ctx, c, u)
	}

	framework.It("PRJ-001", "attributes=userName on GET returns userName, id and schemas but not displayName", lbl.MUST, lbl.RFC("7644:3.4.2.5"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", "userName")
		Expect(got.Str("userName")).To(Equal(u.Str("userName")))
		Expect(got.ID()).To(Equal(u.ID()), "id is returned always")
		// RFC 7643 §3: "schemas … REQUIRED" in every representation.
		Expect(got.Strings("schemas")).To(ContainElement(scim.UserSchema), "schemas is REQUIRED in every representation (RFC 7643 §3)")
		for _, a := range []string{"displayName", "emails", "name", "title", "nickName"} {
			Expect(got.Has(a)).To(BeFalse(), "%s was not asked for", a)
		}
	})

	framework.It("PRJ-002", "attributes on a list limits every resource", lbl.MUST, lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")), "attributes", "displayName")
		Expect(lr.Resources()).To(HaveLen(1))
		r := lr.Resources()[0]
		Expect(r.Str("displayName")).To(Equal(u.Str("displayName")))
		Expect(r.Has("emails")).To(BeFalse(), "emails was not asked for")
		Expect(r.Has("title")).To(BeFalse(), "title was not asked for")
	})

	framework.It("PRJ-003", "excludedAttributes=emails on GET leaves emails out and keeps the rest", lbl.MUST, lbl.RFC("7644:3.4.2.5"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "excludedAttributes", "emails")
		Expect(got.Has("emails")).To(BeFalse())
		Expect(got.Str("userName")).To(Equal(u.Str("userName")))
		Expect(got.Str("title")).To(Equal("Projector"))
	})

	framework.It("PRJ-004", "excludedAttributes on a list applies to every resource", lbl.MUST, lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")), "excludedAttributes", "name,title")
		Expect(lr.Resources()).To(HaveLen(1))
		Expect(lr.Resources()[0].Has("name")).To(BeFalse())
		Expect(lr.Resources()[0].Has("title")).To(BeFalse())
		Expect(lr.Resources()[0].Str("nickName")).To(Equal("Nick"))
	})

	framework.It("PRJ-005", "attributes names a sub-attribute: name.givenName returns name with only givenName", lbl.MUST, lbl.RFC("7644:3.4.2.5"), lbl.RFC("7644:3.10"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", "name.givenName")
		Expect(got.Str("name.givenName")).To(Equal(u.Str("name.givenName")))
		Expect(got.Has("name.familyName")).To(BeFalse(), "familyName was not asked for")
	})

	framework.It("PRJ-006", "attributes accepts a URN-qualified name", lbl.MUST, lbl.RFC("7644:3.10"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", scim.UserSchema+":displayName")
		Expect(got.Str("displayName")).To(Equal(u.Str("displayName")))
		Expect(got.Has("title")).To(BeFalse())
	})

	framework.It("PRJ-007", "attributes names an extension attribute by URN", lbl.MUST, lbl.NeedsEnterprise, lbl.RFC("7644:3.10"), lbl.RFC("7643:4.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.EnterpriseUser("prj"))
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", scim.EnterpriseUserSchema+":employeeNumber")
		Expect(got.Get(scim.EnterpriseUserSchema + ":employeeNumber")).To(Equal(u.Get(scim.EnterpriseUserSchema + ":employeeNumber")))
		Expect(got.Has(scim.EnterpriseUserSchema+":department")).To(BeFalse(), "department was not asked for")
		Expect(got.Has("userName")).To(BeFalse(), "userName was not asked for")
	})

	// RFC 7644 §3.4.2.5: excludedAttributes "SHALL have no effect on
	// attributes whose schema "returned" setting is "always""; id is
	// returned always (RFC 7643 §3.1) and schemas is REQUIRED in every
	// representation (RFC 7643 §3).
	framework.It("PRJ-008", "excludedAttributes removes neither id nor schemas: excludedAttributes=id, and =schemas,meta", lbl.MUST, lbl.RFC("7643:7"), lbl.RFC("7643:3"), lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "excludedAttributes", "id")
		Expect(got.ID()).To(Equal(u.ID()))
		got = framework.Get(ctx, c, framework.UserPath(u), "excludedAttributes", "schemas,meta")
		Expect(got.Strings("schemas")).To(ContainElement(scim.UserSchema), "excludedAttributes=schemas,meta: schemas is REQUIRED (RFC 7643 §3)")
		Expect(got.ID()).To(Equal(u.ID()), "excludedAttributes=schemas,meta: id is returned always")
	})

	// PRJ-001 checks schemas on a resource read by id; this is the list
	// form. RFC 7643 §3 makes schemas REQUIRED: MUST (it was a SHOULD on
	// the request PRJ-001 now covers).
	framework.It("PRJ-009", "schemas is returned even when not asked for, on every resource of a list (attributes=userName)", lbl.MUST, lbl.RFC("7643:3"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		u := user(ctx)
		lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")), "attributes", "userName")
		Expect(lr.Resources()).To(HaveLen(1))
		Expect(lr.Resources()[0].Strings("schemas")).To(ContainElement(scim.UserSchema))
	})

	framework.It("PRJ-010", "attributes on POST shapes the 201 response", lbl.MUST, lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		resp := c.Do(ctx, framework.Request{Method: http.MethodPost, Path: "/Users", Query: map[string][]string{"attributes": {"userName"}}, Body: framework.NewUser("prj")})
		framework.CleanupCreated("/Users", resp)
		Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		Expect(resp.Doc().Has("userName")).To(BeTrue())
		Expect(resp.Doc().Has("displayName")).To(BeFalse(), "displayName was not asked for")
		Expect(resp.Doc().Has("emails")).To(BeFalse(), "emails was not asked for")
	})

	framework.It("PRJ-011", "excludedAttributes on PUT shapes the 200 response", lbl.MUST, lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		u := user(ctx)
		repl := u.Clone()
		repl["displayName"] = "Projected"
		resp := c.Do(ctx, framework.Request{Method: http.MethodPut, Path: framework.UserPath(u), Query: map[string][]string{"excludedAttributes": {"emails,name"}}, Body: repl})
		Expect(resp).To(framework.HaveStatus(http.StatusOK))
		Expect(resp.Doc().Str("displayName")).To(Equal("Projected"))
		Expect(resp.Doc().Has("emails")).To(BeFalse())
		Expect(resp.Doc().Has("name")).To(BeFalse())
	})

	framework.It("PRJ-012", "attributes on PATCH shapes a 200 response (a 204 has no body to shape)", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.9"), lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
		u := user(ctx)
		resp := c.Do(ctx, framework.Request{Method: http.MethodPatch, Path: framework.UserPath(u), Query: map[string][]string{"attributes": {"nickName"}},
			Body: framework.PatchOp(framework.Op("replace", "nickName", "Patched"))})
		Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		if resp.Status == http.StatusOK {
			Expect(resp.Doc().Str("nickName")).To(Equal("Patched"))
			Expect(resp.Doc().Has("emails")).To(BeFalse(), "emails was not asked for")
		}
	})

	framework.It("PRJ-013", "the password is not returned even when asked for (returned never)", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7643:7"), func(ctx SpecContext) {
		u := framework.NewUser("prj")
		u["password"] = "Sc1mlab!pw-" + framework.Current().RunID
		created := framework.CreateUser(ctx, c, u)
		got := framework.Get(ctx, c, framework.UserPath(created), "attributes", "password,userName")
		Expect(got.Has("password")).To(BeFalse())
	})

	framework.It("PRJ-014", "attribute names in attributes= are case-insensitive", lbl.MUST, lbl.RFC("7643:2.1"), lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", "USERNAME,DisplayName")
		Expect(strings.EqualFold(got.Str("userName"), u.Str("userName"))).To(BeTrue(), "userName returned for USERNAME")
		Expect(got.Str("displayName")).To(Equal(u.Str("displayName")))
		Expect(got.Has("emails")).To(BeFalse())
	})

	framework.It("PRJ-015", "attributes=emails.value returns emails with only their value", lbl.MUST, lbl.RFC("7644:3.4.2.5"), lbl.RFC("7644:3.10"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", "emails.value")
		Expect(got.List("emails")).NotTo(BeEmpty())
		for _, e := range got.List("emails") {
			Expect(e.Has("value")).To(BeTrue())
			Expect(e.Has("type")).To(BeFalse(), "emails.type was not asked for")
		}
	})

	framework.It("PRJ-016", "several comma-separated attributes are all returned", lbl.MUST, lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "attributes", "userName,title,nickName")
		Expect(got.Str("title")).To(Equal("Projector"))
		Expect(got.Str("nickName")).To(Equal("Nick"))
		Expect(got.Has("displayName")).To(BeFalse())
	})

	framework.It("PRJ-017", "excludedAttributes names a sub-attribute: name.familyName", lbl.MUST, lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := user(ctx)
		got := framework.Get(ctx, c, framework.UserPath(u), "excludedAttributes", "name.familyName")
		Expect(got.Str("name.givenName")).To(Equal(u.Str("name.givenName")))
		Expect(got.Has("name.familyName")).To(BeFalse())
	})

	framework.It("PRJ-018", "an attribute declared returned=request appears only when asked for", lbl.MUST, lbl.RFC("7643:7"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
		name := ""
		for id, s := range framework.Schemas(ctx, c) {
			if id != scim.UserSchema {
				continue
			}
			for _, a := range s.List("attributes") {
				if a.Str("returned") == "request" && a.Str("mutability") != "readOnly" && a.Str("type") == "string" && !a.True("multiValued") {
					name = a.Str("name")
				}
			}
		}
		if name == "" {
			Skip("the User schema declares no writable string attribute with returned=request")
		}
		u := framework.NewUser("prj")
		u[name] = "requested-" + framework.Current().RunID
		created := framework.CreateUser(ctx, c, u)
		Expect(framework.Get(ctx, c, framework.UserPath(created)).Has(name)).To(BeFalse(), "%s is not returned by default", name)
		Expect(framework.Get(ctx, c, framework.UserPath(created), "attributes", name).Str(name)).To(Equal(u.Str(name)))
	})

	framework.It("PRJ-019", "attributes on a group GET returns only what was asked", lbl.MUST, lbl.NeedsGroups, lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("prj"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("prj", u.ID()))
		got := framework.Get(ctx, c, framework.GroupPath(g), "attributes", "displayName")
		Expect(got.Str("displayName")).To(Equal(g.Str("displayName")))
		Expect(got.Has("members")).To(BeFalse())
		Expect(got.ID()).To(Equal(g.ID()))
	})
})

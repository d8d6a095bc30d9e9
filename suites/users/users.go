// Package users holds the checks of User resources: create, read, replace
// and delete (RFC 7644 §3.3–§3.6) and the attribute rules of RFC 7643 §4.1.
package users

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Users", lbl.Of(lbl.Users), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	Describe("create", func() {
		framework.It("USR-001", "creates a minimal user (schemas and userName) and answers 201 with the resource", lbl.MUST, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.MinimalUser("usr")
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(created.Str("userName")).To(Equal(u.Str("userName")), "userName is echoed")
			Expect(created.Strings("schemas")).To(ContainElement(scim.UserSchema))
		})

		framework.It("USR-002", "creates a user with every common attribute and the enterprise extension, echoing each value", lbl.MUST, lbl.NeedsEnterprise, lbl.RFC("7644:3.3"), lbl.RFC("7643:4.3"), func(ctx SpecContext) {
			u := framework.FullUser("usr")
			created := framework.CreateChecked(ctx, c, "/Users", u)
			for _, p := range []string{"userName", "externalId", "displayName", "nickName", "title", "userType", "preferredLanguage", "locale", "timezone", "name.givenName", "name.familyName",
				scim.EnterpriseUserSchema + ":employeeNumber", scim.EnterpriseUserSchema + ":department", scim.EnterpriseUserSchema + ":costCenter"} {
				Expect(created.Get(p)).To(Equal(u.Get(p)), "attribute %s is echoed as sent", p)
			}
			Expect(created.Values("emails")).To(ConsistOf(u.Values("emails")), "both emails are kept")
			Expect(created.List("addresses")).To(HaveLen(1))
			Expect(created.Strings("schemas")).To(ContainElement(scim.EnterpriseUserSchema), "schemas lists the extension in use")
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.Get(scim.EnterpriseUserSchema + ":employeeNumber")).To(Equal(u.Get(scim.EnterpriseUserSchema + ":employeeNumber")))
		})

		framework.It("USR-003", "answers a create with a Location header equal to meta.location", lbl.MUST, lbl.RFC("7644:3.3"), lbl.RFC("9110:10.2.2"), lbl.RFC("7643:2.3.7"), func(ctx SpecContext) {
			resp := c.Post(ctx, "/Users", framework.NewUser("usr"))
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
			// Both may be relative references: the Location header is a
			// URI-reference resolved against the request URL (RFC 9110
			// §10.2.2), meta.location against the base URL (RFC 7643 §2.3.7).
			framework.ExpectLocation(resp, "Users")
		})

		framework.It("USR-004", "fills meta with resourceType, created, lastModified and location", lbl.SHOULD, lbl.RFC("7643:3.1"), lbl.RFC("7643:2.3.7"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			Expect(created.Str("meta.resourceType")).To(Equal("User"))
			cr, err := time.Parse(time.RFC3339, created.Str("meta.created"))
			Expect(err).NotTo(HaveOccurred(), "meta.created is an xsd:dateTime")
			lm, err := time.Parse(time.RFC3339, created.Str("meta.lastModified"))
			Expect(err).NotTo(HaveOccurred(), "meta.lastModified is an xsd:dateTime")
			Expect(lm).NotTo(BeTemporally("<", cr), "lastModified is not before created")
			// meta.location may be relative (RFC 7643 §2.3.7): resolved
			// against the base URL, it names the new user.
			Expect(created.Str("meta.location")).NotTo(BeEmpty(), "meta.location is set")
			loc, err := framework.MetaLocationURL(created.Str("meta.location"))
			Expect(err).NotTo(HaveOccurred(), "meta.location is a URI")
			Expect(loc.Path).To(HaveSuffix("/Users/"+created.ID()), "meta.location %q (resolved: %s) names the new user", created.Str("meta.location"), loc)
		})

		framework.It("USR-005", "keeps the case of userName as sent", lbl.SHOULD, lbl.RFC("7643:4.1.1"), lbl.RFC("7643:2.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			un := strings.Replace(u.Str("userName"), "@example.com", "@Example.COM", 1)
			un = "Mixed-" + un
			u["userName"] = un
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(created.Str("userName")).To(Equal(un), "the 201 response keeps the case")
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Str("userName")).To(Equal(un), "GET keeps the case")
		})

		framework.It("USR-006", "refuses a user without userName with 400", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			delete(u, "userName")
			resp := c.Post(ctx, "/Users", u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("USR-007", "refuses a duplicate userName with 409 and scimType uniqueness", lbl.MUST, lbl.RFC("7644:3.3"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			framework.CreateUser(ctx, c, u)
			dup := framework.NewUser("usr")
			dup["userName"] = u["userName"]
			resp := c.Post(ctx, "/Users", dup)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
		})

		framework.It("USR-008", "refuses a userName that differs only in case with 409 (userName is caseExact=false)", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			framework.CreateUser(ctx, c, u)
			dup := framework.NewUser("usr")
			dup["userName"] = strings.ToUpper(u.Str("userName"))
			resp := c.Post(ctx, "/Users", dup)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
		})

		framework.It("USR-009", "assigns the id itself, ignoring an id in the request", lbl.MUST, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["id"] = "scimlab-client-chosen-id"
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(created.ID()).NotTo(Equal("scimlab-client-chosen-id"), "the id is the service provider's")
		})

		framework.It("USR-010", "ignores client-supplied meta on create", lbl.MUST, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["meta"] = map[string]any{"created": "2001-01-01T00:00:00Z", "lastModified": "2001-01-01T00:00:00Z", "resourceType": "Group", "location": "https://evil.example/x"}
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(created.Str("meta.created")).NotTo(HavePrefix("2001-01-01"), "meta.created is assigned by the service provider")
			Expect(created.Str("meta.resourceType")).NotTo(Equal("Group"))
			Expect(created.Str("meta.location")).NotTo(ContainSubstring("evil.example"))
		})

		framework.It("USR-011", "never returns the password, on create or on read", lbl.MUST, lbl.RFC("7643:4.1.1"), lbl.RFC("7644:3.9"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["password"] = "Sc1mlab!" + framework.Current().RunID
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(created.Has("password")).To(BeFalse(), "no password in the 201 response")
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Has("password")).To(BeFalse(), "no password on GET")
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")))
			for _, r := range lr.Resources() {
				Expect(r.Has("password")).To(BeFalse(), "no password in a list")
			}
		})

		framework.It("USR-012", "keeps apostrophes in names", lbl.MUST, lbl.RFC("7643:2.3.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["name"] = map[string]any{"givenName": "D'Arcy", "familyName": "O'Malley", "formatted": "D'Arcy O'Malley"}
			u["displayName"] = "D'Arcy O'Malley"
			created := framework.CreateChecked(ctx, c, "/Users", u)
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.Str("name.familyName")).To(Equal("O'Malley"))
			Expect(got.Str("displayName")).To(Equal("D'Arcy O'Malley"))
		})

		framework.It("USR-013", "keeps non-ASCII characters in names (UTF-8)", lbl.MUST, lbl.RFC("7643:2.3.1"), lbl.RFC("7644:3.8"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["name"] = map[string]any{"givenName": "Zoë", "familyName": "Łukasiewicz-山田", "formatted": "Zoë Łukasiewicz-山田"}
			u["displayName"] = "Zoë Łukasiewicz-山田 🚀"
			created := framework.CreateChecked(ctx, c, "/Users", u)
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.Str("name.givenName")).To(Equal("Zoë"))
			Expect(got.Str("name.familyName")).To(Equal("Łukasiewicz-山田"))
			Expect(got.Str("displayName")).To(Equal("Zoë Łukasiewicz-山田 🚀"))
		})

		framework.It("USR-014", "stores externalId exactly, case included", lbl.MUST, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["externalId"] = "Ext-" + framework.Current().RunID + "-AbC"
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Str("externalId")).To(Equal(u.Str("externalId")))
		})

		framework.It("USR-015", "stores active=false as the boolean false", lbl.MUST, lbl.RFC("7643:4.1.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["active"] = false
			created := framework.CreateChecked(ctx, c, "/Users", u)
			Expect(framework.Get(ctx, c, framework.UserPath(created)).Get("active")).To(Equal(false))
		})

		framework.It("USR-016", "keeps multi-valued emails with their type and primary flag", lbl.MUST, lbl.RFC("7643:2.4"), lbl.RFC("7643:4.1.2"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			work := u.List("emails")[0].Str("value")
			u["emails"] = []any{
				map[string]any{"value": work, "type": "work", "primary": true},
				map[string]any{"value": "other-" + work, "type": "other"},
			}
			created := framework.CreateChecked(ctx, c, "/Users", u)
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.List("emails")).To(HaveLen(2))
			for _, e := range got.List("emails") {
				if e.Str("value") == work {
					Expect(e.Str("type")).To(Equal("work"))
					Expect(e.Get("primary")).To(Equal(true))
				} else {
					Expect(e.Str("type")).To(Equal("other"))
					Expect(e.True("primary")).To(BeFalse())
				}
			}
		})

		framework.It("USR-017", "ignores groups sent on create (User.groups is readOnly)", lbl.MUST, lbl.NeedsGroups, lbl.RFC("7643:4.1.2"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			g := framework.CreateGroup(ctx, c, framework.NewGroup("usr"))
			u := framework.NewUser("usr")
			u["groups"] = []any{map[string]any{"value": g.ID()}}
			resp := c.Post(ctx, "/Users", u)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated, http.StatusBadRequest))
			framework.CleanupCreated("/Users", resp)
			if resp.Status == http.StatusCreated {
				Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).NotTo(ContainElement(resp.Doc().ID()), "the group did not gain the user")
			}
		})

		framework.It("USR-018", "refuses a body whose schemas lacks the User schema with 400", lbl.SHOULD, lbl.RFC("7643:3"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["schemas"] = []any{"urn:example:scimlab:NotAUser"}
			resp := c.Post(ctx, "/Users", u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("USR-019", "drops or refuses an attribute no schema defines, never storing it", lbl.MAY, lbl.RFC("7643:3"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["scimlabUndefinedAttribute"] = "x"
			resp := c.Post(ctx, "/Users", u)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated, http.StatusBadRequest))
			framework.CleanupCreated("/Users", resp)
			if resp.Status == http.StatusCreated {
				Expect(resp.Doc().Has("scimlabUndefinedAttribute")).To(BeFalse(), "the undefined attribute is not echoed")
				Expect(framework.Get(ctx, c, "/Users/"+resp.Doc().ID()).Has("scimlabUndefinedAttribute")).To(BeFalse(), "nor stored")
			}
		})

		framework.It("USR-020", "refuses a userName of the wrong type (a number) with 400", lbl.SHOULD, lbl.RFC("7643:2.3.1"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["userName"] = 12345
			resp := c.Post(ctx, "/Users", u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("USR-021", "accepts a manager reference to another user", lbl.MUST, lbl.NeedsEnterprise, lbl.RFC("7643:4.3"), func(ctx SpecContext) {
			boss := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			u := framework.EnterpriseUser("usr")
			u[scim.EnterpriseUserSchema].(map[string]any)["manager"] = map[string]any{"value": boss.ID()}
			created := framework.CreateChecked(ctx, c, "/Users", u)
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.Str(scim.EnterpriseUserSchema + ":manager.value")).To(Equal(boss.ID()))
		})
	})

	framework.It("USR-060", "accepts active as the string \"True\" on create and stores the boolean true", lbl.Entra, lbl.Tolerance, lbl.RFC("7643:2.3.2"), func(ctx SpecContext) {
		u := framework.NewUser("usr")
		u["active"] = "True"
		created := framework.CreateChecked(ctx, c, "/Users", u)
		Expect(framework.Get(ctx, c, framework.UserPath(created)).Get("active")).To(Equal(true), "active is the JSON boolean true")
	})

	framework.It("USR-070", "changes a password with PATCH replace and never returns it", lbl.MUST, lbl.NeedsChangePassword, lbl.NeedsPatch, lbl.RFC("7643:5"), lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.NewUser("usr")
		u["password"] = "Sc1mlab!first-" + framework.Current().RunID
		created := framework.CreateUser(ctx, c, u)
		resp := c.Patch(ctx, framework.UserPath(created), framework.PatchOp(framework.Op("replace", "password", "Sc1mlab!second-"+framework.Current().RunID)))
		Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		if resp.Status == http.StatusOK {
			Expect(resp.Doc().Has("password")).To(BeFalse(), "the PATCH response has no password")
		}
	})

	framework.It("USR-071", "probe: a password change declared unsupported (changePassword.supported false) is refused", lbl.SHOULD, lbl.Probe, lbl.ProbesChangePassword, lbl.RFC("7643:5"), func(ctx SpecContext) {
		framework.RequireDeclaredUnsupported("changePassword")
		created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
		resp := c.Patch(ctx, framework.UserPath(created), framework.PatchOp(framework.Op("replace", "password", "Sc1mlab!probe-"+framework.Current().RunID)))
		if resp.Status == http.StatusOK || resp.Status == http.StatusNoContent {
			// Not unsupported-but-works: an accepted change proves nothing.
			// RFC 7644 §3.3 lets the server "alter and/or ignore POSTed
			// content", and password is "returned" "never" (RFC 7643 §4.1.1),
			// so whether it changed cannot be read back.
			Skip(fmt.Sprintf("the target accepted a password change it declares unsupported (ServiceProviderConfig.changePassword.supported: false; PATCH replace password answered %d), but its effect cannot be read back: password is never returned (RFC 7643 §4.1.1) and a server may ignore what it is sent (RFC 7644 §3.3)", resp.Status))
		}
		framework.Observe("changePassword", false, "password change refused")
		Expect(resp).To(framework.BeRefusal())
	})

	Describe("read", func() {
		framework.It("USR-030", "GET /Users/{id} returns the user with its id and userName", lbl.MUST, lbl.RFC("7644:3.4.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.ID()).To(Equal(created.ID()))
			Expect(got.Str("userName")).To(Equal(created.Str("userName")))
			Expect(got.Strings("schemas")).To(ContainElement(scim.UserSchema))
		})

		framework.It("USR-031", "GET of an unknown id is 404 with a SCIM error", lbl.MUST, lbl.RFC("7644:3.4.1"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			Expect(c.Get(ctx, "/Users/scimlab-no-such-user-"+framework.Current().RunID)).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("USR-032", "lists the user in GET /Users", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(created.Str("userName")))
			Expect(framework.IDs(lr.Resources())).To(ConsistOf(created.ID()))
		})
	})

	Describe("replace (PUT)", func() {
		framework.It("USR-040", "PUT replaces the user's values and answers 200 with the resource", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			repl := framework.NewUser("usr")
			repl["userName"] = created["userName"]
			repl["displayName"] = "Replaced Name"
			repl["name"] = map[string]any{"givenName": "Replaced", "familyName": "Name"}
			resp := c.Put(ctx, framework.UserPath(created), repl)
			Expect(resp).To(framework.HaveStatus(http.StatusOK))
			Expect(resp.Doc().Str("displayName")).To(Equal("Replaced Name"), "the 200 response shows the new value")
			got := framework.Get(ctx, c, framework.UserPath(created))
			Expect(got.Str("displayName")).To(Equal("Replaced Name"))
			Expect(got.Str("name.givenName")).To(Equal("Replaced"))
			Expect(got.ID()).To(Equal(created.ID()))
		})

		framework.It("USR-041", "PUT clears attributes the replacement omits", lbl.MAY, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			u["nickName"] = "Nick"
			u["title"] = "Tester"
			created := framework.CreateUser(ctx, c, u)
			repl := framework.Doc{"schemas": []any{scim.UserSchema}, "userName": created["userName"]}
			got := framework.PutOK(ctx, c, framework.UserPath(created), repl)
			Expect(got.Has("nickName")).To(BeFalse(), "nickName was omitted from the PUT")
			Expect(got.Has("title")).To(BeFalse(), "title was omitted from the PUT")
		})

		framework.It("USR-042", "PUT ignores a different id in the body (id is readOnly) or refuses it, never changing the id", lbl.MUST, lbl.RFC("7644:3.5.1"), lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			repl := created.Clone()
			repl["id"] = "scimlab-other-id"
			resp := c.Put(ctx, framework.UserPath(created), repl)
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest))
			Expect(framework.Get(ctx, c, framework.UserPath(created)).ID()).To(Equal(created.ID()))
			Expect(c.Get(ctx, "/Users/scimlab-other-id")).To(framework.HaveStatus(http.StatusNotFound))
		})

		framework.It("USR-043", "PUT ignores meta in the body (meta is readOnly)", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			repl := created.Clone()
			repl["meta"] = map[string]any{"created": "2001-01-01T00:00:00Z", "resourceType": "Group"}
			got := framework.PutOK(ctx, c, framework.UserPath(created), repl)
			Expect(got.Str("meta.created")).To(Equal(created.Str("meta.created")), "meta.created is unchanged")
			Expect(got.Str("meta.resourceType")).To(Equal("User"))
		})

		framework.It("USR-044", "PUT without userName is refused with 400 (required attributes must be given)", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			repl := framework.Doc{"schemas": []any{scim.UserSchema}, "displayName": "No User Name"}
			Expect(c.Put(ctx, framework.UserPath(created), repl)).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("USR-045", "PUT of an unknown id is 404", lbl.MUST, lbl.RFC("7644:3.5.1"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			resp := c.Put(ctx, "/Users/scimlab-no-such-user-"+framework.Current().RunID, u)
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("USR-046", "PUT keeps meta.created and advances meta.lastModified", lbl.SHOULD, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			if strings.Contains(created.Str("meta.lastModified"), ".") {
				time.Sleep(20 * time.Millisecond)
			} else {
				time.Sleep(1100 * time.Millisecond) // a second-resolution clock must tick
			}
			repl := created.Clone()
			repl["displayName"] = "Later"
			got := framework.PutOK(ctx, c, framework.UserPath(created), repl)
			Expect(got.Str("meta.created")).To(Equal(created.Str("meta.created")))
			before, _ := time.Parse(time.RFC3339, created.Str("meta.lastModified"))
			after, err := time.Parse(time.RFC3339, got.Str("meta.lastModified"))
			Expect(err).NotTo(HaveOccurred())
			Expect(after).To(BeTemporally(">", before), "lastModified moved forward")
		})

		framework.It("USR-047", "PUT with a duplicate userName of another user is 409 uniqueness", lbl.MUST, lbl.RFC("7644:3.5.1"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			a := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			b := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			repl := b.Clone()
			repl["userName"] = a["userName"]
			Expect(c.Put(ctx, framework.UserPath(b), repl)).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
		})

		framework.It("USR-048", "refuses to change an immutable attribute with 400 mutability", lbl.SHOULD, lbl.RFC("7644:3.5.1"), lbl.RFC("7643:7"), func(ctx SpecContext) {
			path := immutableAttribute(ctx, c)
			if path == "" {
				Skip("/Schemas declares no immutable string attribute of User")
			}
			u := framework.NewUser("usr")
			setAttr(u, path, "first-"+framework.Current().RunID)
			created := framework.CreateUser(ctx, c, u)
			repl := created.Clone()
			setAttr(repl, path, "second-"+framework.Current().RunID)
			Expect(c.Put(ctx, framework.UserPath(created), repl)).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.Mutability)))
		})
	})

	Describe("delete", func() {
		framework.It("USR-050", "DELETE answers 204 and the user is gone (GET 404)", lbl.MUST, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			resp := c.Delete(ctx, framework.UserPath(created))
			Expect(resp).To(framework.HaveStatus(http.StatusNoContent))
			Expect(c.Get(ctx, framework.UserPath(created))).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("USR-051", "a second DELETE of the same user is 404", lbl.MUST, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			Expect(c.Delete(ctx, framework.UserPath(created))).To(framework.HaveStatus(http.StatusNoContent))
			Expect(c.Delete(ctx, framework.UserPath(created))).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("USR-052", "a deleted user disappears from query results", lbl.MUST, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			created := framework.CreateUser(ctx, c, framework.NewUser("usr"))
			Expect(c.Delete(ctx, framework.UserPath(created))).To(framework.HaveStatus(http.StatusNoContent))
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(created.Str("userName")))
			Expect(lr.Total()).To(Equal(0))
		})

		framework.It("USR-053", "the userName of a deleted user can be used again", lbl.SHOULD, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			u := framework.NewUser("usr")
			created := framework.CreateUser(ctx, c, u)
			Expect(c.Delete(ctx, framework.UserPath(created))).To(framework.HaveStatus(http.StatusNoContent))
			framework.CreateChecked(ctx, c, "/Users", u)
		})

		framework.It("USR-054", "PATCH of an unknown id is 404", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			body := framework.PatchOp(framework.Op("replace", "displayName", "x"))
			Expect(c.Patch(ctx, "/Users/scimlab-no-such-user-"+framework.Current().RunID, body)).To(framework.BeSCIMError(http.StatusNotFound))
		})
	})
})

// immutableAttribute finds a top-level or sub-attribute string of the User
// schema (core or extension) declared immutable, as a settable path.
func immutableAttribute(ctx SpecContext, c *framework.Client) string {
	for id, s := range framework.Schemas(ctx, c) {
		if id != scim.UserSchema && id != scim.EnterpriseUserSchema {
			continue
		}
		for _, a := range s.List("attributes") {
			if a.Str("mutability") == "immutable" && a.Str("type") == "string" && !a.True("multiValued") {
				if id == scim.UserSchema {
					return a.Str("name")
				}
				return id + ":" + a.Str("name")
			}
		}
	}
	return ""
}

// setAttr sets a top-level or extension attribute in a document.
func setAttr(d framework.Doc, path, v string) {
	if strings.HasPrefix(path, "urn:") {
		i := strings.LastIndex(path, ":")
		ext, name := path[:i], path[i+1:]
		m, _ := d[ext].(map[string]any)
		if m == nil {
			m = map[string]any{}
			d[ext] = m
		}
		if schemas, _ := d["schemas"].([]any); !slices.Contains(schemas, any(ext)) {
			d["schemas"] = append(schemas, ext)
		}
		m[name] = v
		return
	}
	d[path] = v
}

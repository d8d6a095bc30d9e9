// Package groups holds the checks of Group resources and membership (RFC
// 7643 §4.2, RFC 7644 §3.3–§3.6, and PATCH of members, §3.5.2).
package groups

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Groups", lbl.Of(lbl.Groups, lbl.NeedsGroups), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	Describe("create and read", func() {
		framework.It("GRP-001", "creates an empty group and answers 201 with it", lbl.MUST, lbl.RFC("7644:3.3"), lbl.RFC("7643:4.2"), func(ctx SpecContext) {
			g := framework.NewGroup("grp")
			created := framework.CreateChecked(ctx, c, "/Groups", g)
			Expect(created.Str("displayName")).To(Equal(g.Str("displayName")))
			Expect(created.Strings("schemas")).To(ContainElement(scim.GroupSchema))
			Expect(created.Values("members")).To(BeEmpty())
		})

		framework.It("GRP-002", "creates a group with members, each returned with its value", lbl.MUST, lbl.RFC("7644:3.3"), lbl.RFC("7643:4.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 2)
			created := framework.CreateChecked(ctx, c, "/Groups", framework.NewGroup("grp", framework.IDs(users)...))
			got := framework.Get(ctx, c, framework.GroupPath(created))
			Expect(got.Values("members")).To(ConsistOf(framework.IDs(users)))
		})

		framework.It("GRP-003", "refuses a group without displayName with 400", lbl.MUST, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			resp := c.Post(ctx, "/Groups", framework.Doc{"schemas": []any{scim.GroupSchema}})
			framework.CleanupCreated("/Groups", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("GRP-004", "GET /Groups/{id} returns the group; an unknown id is 404", lbl.MUST, lbl.RFC("7644:3.4.1"), func(ctx SpecContext) {
			created := framework.CreateGroup(ctx, c, framework.NewGroup("grp"))
			got := framework.Get(ctx, c, framework.GroupPath(created))
			Expect(got.ID()).To(Equal(created.ID()))
			Expect(got.Str("meta.resourceType")).To(Equal("Group"))
			Expect(c.Get(ctx, "/Groups/scimlab-no-such-group-"+framework.Current().RunID)).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("GRP-005", "answers a group create with a Location header equal to meta.location", lbl.MUST, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			resp := c.Post(ctx, "/Groups", framework.NewGroup("grp"))
			framework.CleanupCreated("/Groups", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
			framework.ExpectLocation(resp, "Groups")
		})

		framework.It("GRP-006", "refuses a second group with the same displayName with 409 uniqueness", lbl.Entra, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
			g := framework.NewGroup("grp")
			framework.CreateGroup(ctx, c, g)
			resp := c.Post(ctx, "/Groups", framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": g["displayName"]})
			framework.CleanupCreated("/Groups", resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
		})

		framework.It("GRP-007", "excludedAttributes=members leaves members out of GET /Groups/{id}", lbl.MUST, lbl.RFC("7644:3.9"), lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			got := framework.Get(ctx, c, framework.GroupPath(g), "excludedAttributes", "members")
			Expect(got.Has("members")).To(BeFalse())
			Expect(got.Str("displayName")).To(Equal(g.Str("displayName")))
			Expect(got.ID()).To(Equal(g.ID()))
		})

		framework.It("GRP-008", "excludedAttributes=members leaves members out of a group list", lbl.MUST, lbl.RFC("7644:3.9"), lbl.RFC("7644:3.4.2.5"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			lr := framework.List(ctx, c, "/Groups", "filter", "displayName eq "+framework.Quote(g.Str("displayName")), "excludedAttributes", "members")
			Expect(lr.Resources()).To(HaveLen(1))
			Expect(lr.Resources()[0].Has("members")).To(BeFalse())
		})
	})

	framework.It("GRP-009", "a group list returns each group with its members", lbl.MUST, lbl.RFC("7644:3.4.2"), lbl.RFC("7643:4.2"), func(ctx SpecContext) {
		users := framework.CreateUsers(ctx, c, "grp", 2)
		g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", framework.IDs(users)...))
		lr := framework.List(ctx, c, "/Groups", "filter", "displayName eq "+framework.Quote(g.Str("displayName")))
		Expect(lr.Resources()).To(HaveLen(1))
		Expect(lr.Resources()[0].Values("members")).To(ConsistOf(framework.IDs(users)), "the listed group shows its two members")
	})

	Describe("replace and delete", func() {
		framework.It("GRP-010", "PUT renames a group and replaces its members", lbl.MUST, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", users[0].ID(), users[1].ID()))
			repl := framework.NewGroup("grp", users[1].ID(), users[2].ID())
			got := framework.PutOK(ctx, c, framework.GroupPath(g), repl)
			Expect(got.Str("displayName")).To(Equal(repl.Str("displayName")))
			Expect(got.Values("members")).To(ConsistOf(users[1].ID(), users[2].ID()))
		})

		framework.It("GRP-011", "PUT without members empties the group", lbl.MAY, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			got := framework.PutOK(ctx, c, framework.GroupPath(g), framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": g["displayName"]})
			Expect(got.Values("members")).To(BeEmpty())
		})

		framework.It("GRP-012", "DELETE answers 204 and the group is gone", lbl.MUST, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp"))
			Expect(c.Delete(ctx, framework.GroupPath(g))).To(framework.HaveStatus(http.StatusNoContent))
			Expect(c.Get(ctx, framework.GroupPath(g))).To(framework.BeSCIMError(http.StatusNotFound))
			Expect(c.Delete(ctx, framework.GroupPath(g))).To(framework.BeSCIMError(http.StatusNotFound))
		})

		framework.It("GRP-013", "deleting a group leaves its member users in place", lbl.MUST, lbl.RFC("7644:3.6"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			Expect(c.Delete(ctx, framework.GroupPath(g))).To(framework.HaveStatus(http.StatusNoContent))
			framework.Get(ctx, c, framework.UserPath(u))
		})

		// MAY, not SHOULD. RFC 7644 §3.6 binds the deleted resource itself:
		// the provider "MUST return a 404 (Not Found) error code for all
		// operations associated with the previously deleted resource" and
		// "MUST omit the resource from future query results"; a read of a
		// group is neither an operation on the user nor a query result
		// holding it. RFC 7643 §4.2 defines members ("A list of members of
		// the Group") and says nothing of what happens to one deleted. No
		// text makes the clean-up a SHOULD; it is what clients expect.
		framework.It("GRP-014", "a deleted user disappears from the members of its groups", lbl.MAY, lbl.RFC("7644:3.6"), lbl.RFC("7643:4.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 2)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", framework.IDs(users)...))
			Expect(c.Delete(ctx, framework.UserPath(users[0]))).To(framework.HaveStatus(http.StatusNoContent))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(users[1].ID()))
		})
	})

	Describe("membership by PATCH", lbl.Of(lbl.NeedsPatch), func() {
		framework.It("GRP-020", "add members appends the given users", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", users[0].ID()))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("add", "members", framework.Members(users[1].ID(), users[2].ID()))))
			Expect(got.Values("members")).To(ConsistOf(framework.IDs(users)))
		})

		framework.It("GRP-021", "adding a user who is already a member succeeds and does not duplicate it", lbl.SHOULD, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("add", "members", framework.Members(u.ID()))))
			Expect(got.Values("members")).To(ConsistOf(u.ID()), "one member, not two")
		})

		framework.It("GRP-022", "remove members[value eq \"id\"] removes only that member", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", framework.IDs(users)...))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("remove", `members[value eq "`+users[1].ID()+`"]`, nil)))
			Expect(got.Values("members")).To(ConsistOf(users[0].ID(), users[2].ID()))
		})

		framework.It("GRP-023", "remove members without a value removes every member", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 2)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", framework.IDs(users)...))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("remove", "members", nil)))
			Expect(got.Values("members")).To(BeEmpty())
		})

		framework.It("GRP-024", "replace members sets exactly the given members", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 3)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", users[0].ID(), users[1].ID()))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("replace", "members", framework.Members(users[2].ID()))))
			Expect(got.Values("members")).To(ConsistOf(users[2].ID()))
		})

		framework.It("GRP-025", "replace displayName renames the group and keeps its members", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			name := framework.GroupName("grp-renamed")
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("replace", "displayName", name)))
			Expect(got.Str("displayName")).To(Equal(name))
			Expect(got.Values("members")).To(ConsistOf(u.ID()))
		})

		framework.It("GRP-026", "a PATCH that adds and removes members in one request applies both", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			users := framework.CreateUsers(ctx, c, "grp", 2)
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", users[0].ID()))
			got := framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(
				framework.Op("remove", `members[value eq "`+users[0].ID()+`"]`, nil),
				framework.Op("add", "members", framework.Members(users[1].ID())),
			))
			Expect(got.Values("members")).To(ConsistOf(users[1].ID()))
		})

		// MAY: RFC 7644 §3.5.2.1 has no rule of referential integrity, and
		// RFC 7643 §4.2 only describes a member's value ("Identifier of the
		// member of this Group"). The Okta need is BUG-014 and BPK-020.
		framework.It("GRP-027", "adding a member id that names no resource is refused with 400 or ignored, never stored", lbl.MAY, lbl.RFC("7644:3.5.2.1"), lbl.RFC("7643:4.2"), func(ctx SpecContext) {
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp"))
			resp := c.Patch(ctx, framework.GroupPath(g), framework.PatchOp(framework.Op("add", "members", framework.Members("scimlab-no-such-user-"+framework.Current().RunID))))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent, http.StatusBadRequest))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(BeEmpty())
		})
	})

	Describe("User.groups", func() {
		// RFC 7643 §4.1.2 defines groups ("A list of groups to which the
		// user belongs, either through direct membership, through nested
		// groups, or dynamically calculated") but no text makes returning it
		// a SHOULD: every User attribute but userName is optional. So the
		// check is skipped when the target does not return groups, and fails
		// only when it returns them wrong.
		framework.It("GRP-030", "a user's groups attribute, when returned, lists the groups it belongs to", lbl.SHOULD, lbl.RFC("7643:4.1.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g1 := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			g2 := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			got := framework.Get(ctx, c, framework.UserPath(u))
			if !got.Has("groups") {
				Skip("the target does not return User.groups (optional: RFC 7643 §4.1.2 defines it, no text requires it)")
			}
			Expect(got.Values("groups")).To(ConsistOf(g1.ID(), g2.ID()))
		})

		framework.It("GRP-031", "a user's groups attribute follows membership changes", lbl.SHOULD, lbl.NeedsPatch, lbl.RFC("7643:4.1.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			framework.PatchOK(ctx, c, framework.GroupPath(g), framework.PatchOp(framework.Op("remove", "members", nil)))
			Expect(framework.Get(ctx, c, framework.UserPath(u)).Values("groups")).NotTo(ContainElement(g.ID()))
		})

		framework.It("GRP-032", "a user's groups attribute cannot be written through the user (readOnly)", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7643:4.1.2"), lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp"))
			resp := c.Patch(ctx, framework.UserPath(u), framework.PatchOp(framework.Op("add", "groups", framework.Members(g.ID()))))
			if resp.Status >= 400 {
				Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.Mutability)))
			} else {
				Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			}
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(BeEmpty(), "the group gained no member")
		})

		framework.It("GRP-033", "PUT of a user with a changed groups attribute leaves membership alone", lbl.MUST, lbl.RFC("7643:4.1.2"), lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			other := framework.CreateGroup(ctx, c, framework.NewGroup("grp"))
			repl := framework.Get(ctx, c, framework.UserPath(u)).Clone()
			repl["groups"] = framework.Members(other.ID())
			Expect(c.Put(ctx, framework.UserPath(u), repl)).To(framework.HaveStatus(http.StatusOK))
			Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ContainElement(u.ID()), "still a member of the first group")
			Expect(framework.Get(ctx, c, framework.GroupPath(other)).Values("members")).To(BeEmpty(), "not added to the other group")
		})

		framework.It("GRP-034", "members of user type carry type \"User\" when the type is returned", lbl.MAY, lbl.RFC("7643:4.2"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("grp"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("grp", u.ID()))
			for _, m := range framework.Get(ctx, c, framework.GroupPath(g)).List("members") {
				if m.Has("type") {
					Expect(strings.EqualFold(m.Str("type"), "User")).To(BeTrue(), "member type %q", m.Str("type"))
				}
			}
		})
	})
})

// Package bugpack replays requests known to have broken real SCIM servers
// in production (docs/idp-traffic.md, Part 3, B1–B25), each as a check at
// the level of the IdP that sends it.
package bugpack

import (
	"net/http"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var (
	op    = framework.Op
	patch = framework.PatchOp
)

var _ = Describe("Known IdP bugs", lbl.Of(lbl.BugPack), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	framework.It("BUG-001", "B5: Replace on emails[type eq \"work\"].value with no work email adds it", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.NewUser("bug")
		u["emails"] = []any{map[string]any{"value": "home-" + u.List("emails")[0].Str("value"), "type": "home"}}
		created := framework.CreateUser(ctx, c, u)
		work := framework.UserName("bug-work")
		Expect(c.Patch(ctx, framework.UserPath(created), patch(op("Replace", `emails[type eq "work"].value`, work)))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		Expect(framework.Get(ctx, c, framework.UserPath(created)).Values("emails")).To(ContainElement(work))
	})

	framework.It("BUG-002", "B4: disable sent as {\"op\":\"Add\",\"path\":\"active\",\"value\":\"False\"}", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		Expect(c.Patch(ctx, framework.UserPath(u), patch(op("Add", "active", "False")))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		Expect(framework.Get(ctx, c, framework.UserPath(u)).Get("active")).To(Equal(false))
	})

	framework.It("BUG-003", "B2: disable with the lower-case string \"false\"", lbl.Entra, lbl.Tolerance, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		Expect(c.Patch(ctx, framework.UserPath(u), patch(op("replace", "active", "false")))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		Expect(framework.Get(ctx, c, framework.UserPath(u)).Get("active")).To(Equal(false))
	})

	framework.It("BUG-004", "B13: a filtered remove of a member is really applied, and the member can be added back", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug", u.ID()))
		framework.PatchOK(ctx, c, framework.GroupPath(g), patch(op("remove", `members[value eq "`+u.ID()+`"]`, nil)))
		Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(BeEmpty(), "the member is gone after the remove")
		framework.PatchOK(ctx, c, framework.GroupPath(g), patch(op("add", "members", []any{map[string]any{"value": u.ID(), "display": u.Str("userName")}})))
		Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(u.ID()), "the member is back after the add")
	})

	framework.It("BUG-005", "B14: a group PUT that keeps the same displayName is 200, not a 409 conflict with itself", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug"))
		repl := framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": g["displayName"], "members": framework.Members(u.ID())}
		Expect(c.Put(ctx, framework.GroupPath(g), repl)).To(framework.HaveStatus(http.StatusOK))
	})

	framework.It("BUG-006", "B15: a new user may reuse the externalId of a deactivated one (externalId is not unique)", lbl.Okta, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
		first := framework.NewUser("bug")
		first["active"] = false
		framework.CreateUser(ctx, c, first)
		second := framework.NewUser("bug")
		second["externalId"] = first["externalId"]
		framework.CreateUser(ctx, c, second)
	})

	framework.It("BUG-007", "B17: two users may share an email address (emails are not unique)", lbl.Okta, lbl.RFC("7643:4.1.2"), func(ctx SpecContext) {
		a := framework.NewUser("bug")
		framework.CreateUser(ctx, c, a)
		b := framework.NewUser("bug")
		b["emails"] = a["emails"]
		framework.CreateUser(ctx, c, b)
	})

	framework.It("BUG-008", "B18: re-adding an existing member succeeds", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug", u.ID()))
		Expect(c.Patch(ctx, framework.GroupPath(g), patch(op("add", "members", framework.Members(u.ID()))))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
	})

	framework.It("BUG-009", "B21: a path-less replace of a group's externalId leaves its members alone", lbl.Entra, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug", u.ID()))
		got := framework.PatchOK(ctx, c, framework.GroupPath(g), patch(op("replace", "", map[string]any{"externalId": framework.ExternalID()})))
		Expect(got.Values("members")).To(ConsistOf(u.ID()))
	})

	framework.It("BUG-010", "B24: replace members with an empty list empties the group", lbl.MUST, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug", u.ID()))
		got := framework.PatchOK(ctx, c, framework.GroupPath(g), patch(op("replace", "members", []any{})))
		Expect(got.Values("members")).To(BeEmpty())
	})

	framework.It("BUG-011", "B19: concurrent PATCHes adding different members to one group keep every member", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
		users := framework.CreateUsers(ctx, c, "bug", 6)
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug"))
		var wg sync.WaitGroup
		statuses := make([]int, len(users))
		for i, u := range users {
			wg.Add(1)
			go func(i int, id string) {
				defer GinkgoRecover()
				defer wg.Done()
				cl := framework.NewClient()
				statuses[i] = cl.Do(ctx, framework.Request{Method: http.MethodPatch, Path: framework.GroupPath(g), Body: patch(op("add", "members", framework.Members(id))), Quiet: true}).Status
			}(i, u.ID())
		}
		wg.Wait()
		for i, st := range statuses {
			Expect(st).To(BeElementOf(http.StatusOK, http.StatusNoContent), "PATCH %d answered %d", i, st)
		}
		Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(ConsistOf(framework.IDs(users)), "no concurrent add was lost")
	})

	framework.It("BUG-012", "B25: a PUT with active false deactivates (PUT-only IdPs)", lbl.Okta, lbl.RFC("7644:3.5.1"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		back := framework.Get(ctx, c, framework.UserPath(u)).Clone()
		back["active"] = false
		got := framework.PutOK(ctx, c, framework.UserPath(u), back)
		Expect(got.Get("active")).To(Equal(false))
	})

	framework.It("BUG-013", "B1: a path-less replace mixing plain, dotted and URN-qualified keys updates each attribute", lbl.Entra, lbl.Tolerance, lbl.NeedsEnterprise, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.EnterpriseUser("bug"))
		Expect(c.Patch(ctx, framework.UserPath(u), patch(op("replace", "", map[string]any{
			"displayName":    "Ana Lee",
			"name.givenName": "Ana",
			scim.EnterpriseUserSchema + ":department": "R&D",
		})))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		got := framework.Get(ctx, c, framework.UserPath(u))
		Expect(got.Str("displayName")).To(Equal("Ana Lee"))
		Expect(got.Str("name.givenName")).To(Equal("Ana"))
		Expect(got.Str(scim.EnterpriseUserSchema + ":department")).To(Equal("R&D"))
	})

	framework.It("BUG-014", "B20: adding a valid and an unknown member never fails with 5xx, and a refusal changes nothing", lbl.Okta, lbl.NeedsGroups, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("bug"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("bug"))
		resp := c.Patch(ctx, framework.GroupPath(g), patch(op("add", "members", framework.Members(u.ID(), "scimlab-no-such-user-"+framework.Current().RunID))))
		Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent, http.StatusBadRequest))
		members := framework.Get(ctx, c, framework.GroupPath(g)).Values("members")
		if resp.Status == http.StatusBadRequest {
			Expect(members).To(BeEmpty(), "a refused PATCH is atomic")
		} else {
			Expect(members).To(ConsistOf(u.ID()), "the valid member is added, the unknown one dropped")
		}
	})

	framework.It("BUG-015", "B16: a 409 on a duplicate create leaves the existing user untouched", lbl.Okta, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
		u := framework.NewUser("bug")
		created := framework.CreateUser(ctx, c, u)
		dup := framework.NewUser("bug")
		dup["userName"] = u["userName"]
		resp := c.Post(ctx, "/Users", dup)
		framework.CleanupCreated("/Users", resp)
		Expect(resp).To(framework.HaveStatus(http.StatusConflict))
		got := framework.Get(ctx, c, framework.UserPath(created))
		Expect(got.Str("displayName")).To(Equal(u.Str("displayName")))
		Expect(got.Str("externalId")).To(Equal(u.Str("externalId")))
	})
})

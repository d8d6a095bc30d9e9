// Package nested holds the checks of groups as members of groups (RFC 7643
// §4.2: members may be Users or Groups). A target may refuse nesting — with
// 400 invalidValue naming the member — or accept it; it must not drop the
// member silently. Refusing a group in itself, or a cycle, is good practice
// the RFCs do not require (MAY, NST-003 and NST-004).
package nested

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Nested groups", lbl.Of(lbl.Nested, lbl.NeedsGroups), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	// nest creates a child group and asks for a parent containing it; it
	// returns the parent's path when nesting was accepted, "" when refused.
	nest := func(ctx SpecContext) (parent, child framework.Doc, accepted bool) {
		GinkgoHelper()
		child = framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		resp := c.Post(ctx, "/Groups", framework.NewGroup("nst", child.ID()))
		framework.CleanupCreated("/Groups", resp)
		if resp.Status == http.StatusCreated {
			return resp.Doc(), child, true
		}
		Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidValue)), "a refused nested group is 400 invalidValue")
		return nil, child, false
	}

	framework.It("NST-001", "a group member that is a group is either refused with 400 invalidValue naming it, or kept", lbl.SHOULD, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		child := framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		resp := c.Post(ctx, "/Groups", framework.NewGroup("nst", child.ID()))
		framework.CleanupCreated("/Groups", resp)
		switch resp.Status {
		case http.StatusCreated:
			Expect(framework.Get(ctx, c, "/Groups/"+resp.Doc().ID()).Values("members")).To(ConsistOf(child.ID()), "an accepted nested group is kept, not dropped")
		default:
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidValue)))
			Expect(resp.Doc().Str("detail")).To(ContainSubstring(child.ID()), "the error names the refused member")
		}
	})

	framework.It("NST-002", "adding a group as a member by PATCH is either refused with 400 invalidValue, or kept", lbl.SHOULD, lbl.NeedsPatch, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
		parent := framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		child := framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		resp := c.Patch(ctx, framework.GroupPath(parent), framework.PatchOp(framework.Op("add", "members", framework.Members(child.ID()))))
		got := framework.Get(ctx, c, framework.GroupPath(parent))
		if resp.Status == http.StatusOK || resp.Status == http.StatusNoContent {
			Expect(got.Values("members")).To(ConsistOf(child.ID()), "an accepted nested group is kept, not dropped")
			return
		}
		Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidValue)))
		Expect(got.Values("members")).To(BeEmpty(), "the refused member was not stored")
	})

	// NST-003 and NST-004 are MAY: neither RFC forbids a group in itself or
	// a cycle. RFC 7643 §4.2 says only "The intention of the 'Group' type is
	// to allow the service provider to support nested groups" and "Service
	// providers MAY require clients to provide a non-empty value" for
	// members; RFC 7644 §3.12 is the table of error codes. A target that
	// answers 200 breaks no RFC text, though a client walking the
	// membership may loop.
	framework.It("NST-003", "a group cannot be a member of itself", lbl.MAY, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		g := framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		resp := c.Put(ctx, framework.GroupPath(g), framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": g["displayName"], "members": framework.Members(g.ID())})
		Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		Expect(framework.Get(ctx, c, framework.GroupPath(g)).Values("members")).To(BeEmpty())
	})

	framework.It("NST-004", "a membership cycle (A in B, B in A) is refused", lbl.MAY, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		parent, child, accepted := nest(ctx)
		if !accepted {
			Skip("the target refuses nested groups, so no cycle can form")
		}
		resp := c.Put(ctx, framework.GroupPath(child), framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": child["displayName"], "members": framework.Members(parent.ID())})
		Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
		Expect(framework.Get(ctx, c, framework.GroupPath(child)).Values("members")).To(BeEmpty())
	})

	framework.It("NST-005", "an accepted nested member is typed \"Group\"", lbl.SHOULD, lbl.RFC("7643:4.2"), func(ctx SpecContext) {
		parent, child, accepted := nest(ctx)
		if !accepted {
			Skip("the target refuses nested groups")
		}
		for _, m := range framework.Get(ctx, c, framework.GroupPath(parent)).List("members") {
			if m.Str("value") == child.ID() && m.Has("type") {
				Expect(strings.EqualFold(m.Str("type"), "Group")).To(BeTrue(), "type is %q", m.Str("type"))
			}
		}
	})

	framework.It("NST-006", "a refused nested create stores no group", lbl.MUST, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
		child := framework.CreateGroup(ctx, c, framework.NewGroup("nst"))
		g := framework.NewGroup("nst", child.ID())
		resp := c.Post(ctx, "/Groups", g)
		framework.CleanupCreated("/Groups", resp)
		if resp.Status == http.StatusCreated {
			Skip("the target accepts nested groups")
		}
		lr := framework.List(ctx, c, "/Groups", "filter", "displayName eq "+framework.Quote(g.Str("displayName")))
		Expect(lr.Total()).To(Equal(0))
	})
})

// Package me holds the checks of the /Me alias (RFC 7644 §3.11).
package me

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("/Me", lbl.Of(lbl.Me), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	framework.It("ME-001", "GET /Me answers 200 with a resource, or a SCIM error (501 when unsupported), never a server failure", lbl.MUST, lbl.RFC("7644:3.11"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Me")
		Expect(resp.Err).NotTo(HaveOccurred())
		if resp.Status == http.StatusOK {
			Expect(resp.Doc().ID()).NotTo(BeEmpty(), "the resource /Me returns has an id")
			return
		}
		Expect(resp).To(framework.BeSCIMErrorIn([]int{http.StatusNotImplemented, http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest}, ""))
	})

	framework.It("ME-002", "an unsupported /Me answers 501 Not Implemented", lbl.SHOULD, lbl.RFC("7644:3.11"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Me")
		if resp.Status == http.StatusOK {
			Skip("/Me is supported (200)")
		}
		Expect(resp).To(framework.BeSCIMError(http.StatusNotImplemented))
	})

	framework.It("ME-003", "a supported /Me returns the authenticated subject's resource with meta.location", lbl.SHOULD, lbl.RFC("7644:3.11"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Me")
		if resp.Status != http.StatusOK {
			Skip("/Me is not supported here")
		}
		d := resp.Doc()
		Expect(d.Strings("schemas")).NotTo(BeEmpty())
		Expect(d.Str("meta.location")).To(ContainSubstring("/"+d.ID()), "meta.location names the real resource, not /Me")
	})

	framework.It("ME-004", "/Me without a credential is 401", lbl.MUST, lbl.RFC("7644:3.11"), lbl.RFC("7644:2"), func(ctx SpecContext) {
		Expect(c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Me", NoAuth: true})).To(framework.HaveStatus(http.StatusUnauthorized))
	})

	framework.It("ME-006", "PATCH /Me with a no-op replace of the subject's own displayName succeeds", lbl.MAY, lbl.Destructive, lbl.NeedsPatch, lbl.RFC("7644:3.11"), lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
		me := c.Get(ctx, "/Me")
		if me.Status != http.StatusOK {
			Skip("/Me is not supported here")
		}
		name := me.Doc().Str("displayName")
		if name == "" {
			Skip("the /Me resource has no displayName to write back")
		}
		Expect(c.Patch(ctx, "/Me", framework.PatchOp(framework.Op("replace", "displayName", name)))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		Expect(framework.Get(ctx, c, "/Me").Str("displayName")).To(Equal(name))
	})

	framework.It("ME-005", "POST /Me never fails with a server error", lbl.MUST, lbl.RFC("7644:3.11"), func(ctx SpecContext) {
		u := framework.NewUser("me")
		resp := c.Post(ctx, "/Me", u)
		framework.CleanupCreated("/Users", resp)
		Expect(resp.Status).To(Or(BeNumerically("<", 500), Equal(http.StatusNotImplemented)), "POST /Me answered %d", resp.Status)
		if resp.Status >= 400 {
			Expect(resp.Doc().Strings("schemas")).To(ContainElement(scim.ErrorSchema))
		}
	})
})

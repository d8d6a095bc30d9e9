// Package me holds the checks of the /Me alias (RFC 7644 §3.11).
package me

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// unavailable says why GET /Me gave no resource, or "" when it did (200).
// RFC 7644 §3.11: "A service provider that does NOT support this feature
// SHOULD respond with HTTP status code 501 (Not Implemented)". A 404, 403 or
// 400 that is a SCIM error is not that: /Me is implemented, and the
// credential's subject has no resource (a provisioning client's token, not a
// person's) or may not read it — RFC 7644 §3.11 has no SHOULD for that case.
// Anything else (a 501, a 404 that is no SCIM error: no such route) is /Me
// not supported.
func unavailable(resp *framework.Response) string {
	switch {
	case resp.Err != nil:
		return ""
	case resp.Status == http.StatusOK:
		return ""
	case noSubject(resp):
		return fmt.Sprintf("/Me is implemented, but the credential's subject has no resource here: GET /Me answered %d%s", resp.Status, detail(resp))
	}
	return fmt.Sprintf("/Me is not supported here: GET /Me answered %d%s", resp.Status, detail(resp))
}

// noSubject reports whether GET /Me answered a SCIM error saying the
// subject has no resource it may read: 404, 403 or 400, unless its detail
// says the feature is not supported or not implemented (AWS IAM Identity
// Center answers 400 "… not supported"): that is the refusal 501 is for.
func noSubject(resp *framework.Response) bool {
	switch resp.Status {
	case http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest:
		d := strings.ToLower(resp.Doc().Str("detail"))
		return slices.Contains(resp.Doc().Strings("schemas"), scim.ErrorSchema) &&
			!strings.Contains(d, "not supported") && !strings.Contains(d, "not implemented") && !strings.Contains(d, "unsupported")
	}
	return false
}

func detail(resp *framework.Response) string {
	if d := resp.Doc().Str("detail"); d != "" {
		return fmt.Sprintf(" (%q)", d)
	}
	return ""
}

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
		if noSubject(resp) {
			Skip(unavailable(resp) + ": not a refusal of the feature, which is what the 501 is for")
		}
		Expect(resp).To(framework.BeSCIMError(http.StatusNotImplemented))
	})

	framework.It("ME-003", "a supported /Me returns the authenticated subject's resource with meta.location", lbl.SHOULD, lbl.RFC("7644:3.11"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Me")
		if why := unavailable(resp); why != "" {
			Skip(why)
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
		if why := unavailable(me); why != "" {
			Skip(why)
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

// Package auth holds the checks of authentication (RFC 7644 §2, RFC 6750,
// RFC 7235): missing, bad, expired and misplaced credentials.
package auth

import (
	"encoding/base64"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Authentication", lbl.Of(lbl.Auth), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	noAuth := func(ctx SpecContext, method, path string, body any) *framework.Response {
		return c.Do(ctx, framework.Request{Method: method, Path: path, NoAuth: true, Body: body})
	}
	badAuth := func(ctx SpecContext) *framework.Response {
		auth := "Bearer scimlab-invalid-" + framework.Current().RunID
		if framework.Current().Scheme == "Basic" {
			auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("scimlab:wrong-"+framework.Current().RunID))
		}
		return c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Authorization: auth})
	}
	requireBearer := func() {
		if framework.Current().Scheme != "Bearer" {
			framework.NotRequested("the run authenticates with " + strings.ToLower(framework.Current().Scheme+" credentials") + ", not a bearer token; run with --token to check bearer-token handling")
		}
	}

	framework.It("AUT-001", "a request without credentials is 401", lbl.MUST, lbl.RFC("7644:2"), lbl.RFC("6750:3.1"), func(ctx SpecContext) {
		Expect(noAuth(ctx, http.MethodGet, "/Users", nil)).To(framework.HaveStatus(http.StatusUnauthorized))
	})

	framework.It("AUT-002", "a 401 carries a WWW-Authenticate challenge", lbl.MUST, lbl.RFC("7235:3.1"), lbl.RFC("6750:3"), func(ctx SpecContext) {
		resp := noAuth(ctx, http.MethodGet, "/Users", nil)
		Expect(resp).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(resp.Header.Get("WWW-Authenticate")).NotTo(BeEmpty())
	})

	framework.It("AUT-003", "an invalid credential is 401", lbl.MUST, lbl.RFC("7644:2"), lbl.RFC("6750:3.1"), func(ctx SpecContext) {
		Expect(badAuth(ctx)).To(framework.HaveStatus(http.StatusUnauthorized))
	})

	framework.It("AUT-004", "an invalid credential is answered with a SCIM error body (schemas, status, detail)", lbl.SHOULD, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		resp := badAuth(ctx)
		Expect(resp).To(framework.BeSCIMError(http.StatusUnauthorized))
		Expect(resp.Doc().Str("detail")).NotTo(BeEmpty(), "the error says what is wrong in detail")
	})

	framework.It("AUT-005", "an invalid bearer token is challenged with error=\"invalid_token\"", lbl.SHOULD, lbl.RFC("6750:3.1"), func(ctx SpecContext) {
		requireBearer()
		resp := badAuth(ctx)
		Expect(resp).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(resp.Header.Get("WWW-Authenticate")).To(ContainSubstring("invalid_token"))
	})

	framework.It("AUT-006", "credentials in the wrong scheme are 401 (Basic when a bearer token is expected)", lbl.MUST, lbl.RFC("7235:2.1"), lbl.RFC("6750:2.1"), func(ctx SpecContext) {
		t := framework.Current()
		auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("scimlab:"+strings.TrimPrefix(t.Authorization, "Bearer ")))
		if t.Scheme == "Basic" {
			auth = "Bearer " + strings.TrimPrefix(t.Authorization, "Basic ")
		}
		if t.Scheme == "" {
			framework.NotRequested("the run authenticates with a custom header; run with --token or --basic to check the scheme")
		}
		Expect(c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Authorization: auth})).To(framework.HaveStatus(http.StatusUnauthorized))
	})

	framework.It("AUT-007", "the scheme name is case-insensitive: \"bearer\" works", lbl.MUST, lbl.RFC("7235:2.1"), lbl.RFC("6750:2.1"), func(ctx SpecContext) {
		requireBearer()
		auth := "bearer " + strings.TrimPrefix(framework.Current().Authorization, "Bearer ")
		Expect(c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Query: map[string][]string{"count": {"1"}}, Authorization: auth})).To(framework.BeListResponse())
	})

	framework.It("AUT-008", "a bearer token in the query string is refused", lbl.SHOULD, lbl.RFC("6750:2.3"), lbl.RFC("6750:5.3"), func(ctx SpecContext) {
		requireBearer()
		tok := strings.TrimPrefix(framework.Current().Authorization, "Bearer ")
		resp := c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", NoAuth: true, Query: map[string][]string{"access_token": {tok}, "count": {"1"}}})
		Expect(resp).To(framework.HaveStatus(http.StatusUnauthorized, http.StatusBadRequest))
	})

	framework.It("AUT-009", "an expired bearer token is 401 with error=\"invalid_token\"", lbl.MUST, lbl.RFC("6750:3.1"), lbl.RFC("7644:2"), func(ctx SpecContext) {
		tok := framework.Current().ExpiredToken
		if tok == "" {
			framework.NotRequested("no expired token given; pass --expired-token T to run this check")
		}
		resp := c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Authorization: "Bearer " + tok})
		Expect(resp).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(resp.Header.Get("WWW-Authenticate")).To(ContainSubstring("invalid_token"))
	})

	framework.It("AUT-010", "a write without credentials is 401 and creates nothing", lbl.MUST, lbl.RFC("7644:2"), func(ctx SpecContext) {
		u := framework.NewUser("aut")
		resp := noAuth(ctx, http.MethodPost, "/Users", u)
		framework.CleanupCreated("/Users", resp)
		Expect(resp).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName"))).Total()).To(Equal(0))
	})

	framework.It("AUT-011", "an empty bearer token is refused: 401, or 400 invalid_request", lbl.MUST, lbl.RFC("6750:3.1"), func(ctx SpecContext) {
		Expect(c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Authorization: "Bearer "})).To(framework.HaveStatus(http.StatusUnauthorized, http.StatusBadRequest))
	})

	framework.It("AUT-012", "DELETE and PATCH without credentials are 401", lbl.MUST, lbl.RFC("7644:2"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("aut"))
		Expect(noAuth(ctx, http.MethodDelete, framework.UserPath(u), nil)).To(framework.HaveStatus(http.StatusUnauthorized))
		Expect(noAuth(ctx, http.MethodPatch, framework.UserPath(u), framework.PatchOp(framework.Op("replace", "displayName", "x")))).To(framework.HaveStatus(http.StatusUnauthorized))
		framework.Get(ctx, c, framework.UserPath(u))
	})

	framework.It("AUT-013", "an authentication failure is sent as application/scim+json", lbl.MAY, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(badAuth(ctx)).To(framework.HaveContentType(scim.MediaType))
	})
})

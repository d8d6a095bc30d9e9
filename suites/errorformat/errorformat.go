// Package errorformat holds the checks of SCIM error responses (RFC 7644
// §3.12), media types (§3.1, §3.8, §8.1) and malformed requests.
package errorformat

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

var _ = Describe("Errors and media types", lbl.Of(lbl.Errors), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	notFound := func(ctx SpecContext) *framework.Response {
		return c.Get(ctx, "/Users/scimlab-no-such-user-"+framework.Current().RunID)
	}
	post := func(ctx SpecContext, body, contentType string) *framework.Response {
		resp := c.Do(ctx, framework.Request{Method: http.MethodPost, Path: "/Users", Body: []byte(body), ContentType: contentType})
		framework.CleanupCreated("/Users", resp)
		return resp
	}

	framework.It("ERR-001", "an error body names the Error schema", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		resp := notFound(ctx)
		Expect(resp).To(framework.HaveStatus(http.StatusNotFound))
		Expect(resp.Doc().Strings("schemas")).To(ConsistOf(scim.ErrorSchema))
	})

	framework.It("ERR-002", "an error body's status is a JSON string", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		resp := notFound(ctx)
		Expect(resp).To(framework.HaveStatus(http.StatusNotFound))
		Expect(resp.Doc().Get("status")).To(Equal("404"), "status is the string \"404\", got %#v", resp.Doc().Get("status"))
	})

	framework.It("ERR-003", "an error body's status equals the HTTP status, on 400, 404 and 409", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("err"))
		dup := framework.NewUser("err")
		dup["userName"] = u["userName"]
		// A leg whose trigger provoked no error (a filter with no value
		// answered 200: FLT-050's failure) says nothing of the error format:
		// it is left out, with why; only real error responses are judged.
		var left []string
		judged := 0
		for _, leg := range []struct {
			want int
			resp *framework.Response
		}{
			{http.StatusNotFound, notFound(ctx)},
			{http.StatusBadRequest, c.Get(ctx, "/Users", "filter", "userName eq")},
			{http.StatusConflict, c.Post(ctx, "/Users", dup)},
		} {
			resp := leg.resp
			Expect(resp.Err).NotTo(HaveOccurred())
			if resp.Status < 400 {
				left = append(left, fmt.Sprintf("could not provoke a %d: %s %s answered %d", leg.want, resp.Method, resp.URL, resp.Status))
				continue
			}
			judged++
			st := resp.Doc().Get("status")
			Expect(st).To(Or(Equal(strconv.Itoa(resp.Status)), Equal(int64(resp.Status))), "%s: status %#v for HTTP %d", resp.URL, st, resp.Status)
		}
		if judged == 0 {
			Skip(strings.Join(left, "; "))
		}
		for _, l := range left {
			AddReportEntry("leg left out", l)
		}
	})

	framework.It("ERR-004", "an error body carries a human-readable detail", lbl.SHOULD, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(notFound(ctx).Doc().Str("detail")).NotTo(BeEmpty())
	})

	framework.It("ERR-005", "errors are sent as application/scim+json", lbl.SHOULD, lbl.RFC("7644:3.12"), lbl.RFC("7644:8.1"), func(ctx SpecContext) {
		Expect(notFound(ctx)).To(framework.HaveContentType(scim.MediaType))
	})

	framework.It("ERR-006", "resources are sent as application/scim+json", lbl.SHOULD, lbl.RFC("7644:3.1"), lbl.RFC("7644:8.1"), func(ctx SpecContext) {
		resp := c.Post(ctx, "/Users", framework.NewUser("err"))
		framework.CleanupCreated("/Users", resp)
		Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		Expect(resp).To(framework.HaveContentType(scim.MediaType))
		Expect(c.Get(ctx, "/Users/"+resp.Doc().ID())).To(framework.HaveContentType(scim.MediaType))
		Expect(c.Get(ctx, "/Users", "count", "1")).To(framework.HaveContentType(scim.MediaType))
	})

	framework.It("ERR-007", "malformed JSON is 400", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(post(ctx, `{"schemas":["`+scim.UserSchema+`"],"userName":`, scim.MediaType)).To(framework.BeSCIMError(http.StatusBadRequest))
	})

	// RFC 7644 §3.12 lists the error attributes as "scimType  A SCIM detail
	// error keyword.  See Table 9.  OPTIONAL." Table 9 defines what
	// invalidSyntax means; no text says a malformed body SHOULD carry it
	// (unlike §3.4.2.2's gt on a boolean, or noTarget in §3.5.2): MAY.
	framework.It("ERR-008", "malformed JSON carries scimType invalidSyntax", lbl.MAY, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(post(ctx, `{"schemas":["`+scim.UserSchema+`"],"userName":`, scim.MediaType)).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidSyntax)))
	})

	framework.It("ERR-009", "an empty body on POST is 400", lbl.MUST, lbl.RFC("7644:3.3"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(post(ctx, ``, scim.MediaType)).To(framework.BeSCIMError(http.StatusBadRequest))
	})

	framework.It("ERR-010", "a JSON array instead of an object is 400", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(post(ctx, `[{"userName":"x"}]`, scim.MediaType)).To(framework.BeSCIMError(http.StatusBadRequest))
	})

	framework.It("ERR-011", "an unknown endpoint is 404 with a SCIM error", lbl.SHOULD, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(c.Get(ctx, "/ScimlabNoSuchEndpoint")).To(framework.BeSCIMError(http.StatusNotFound))
	})

	// RFC 7644 says nothing of methods an endpoint does not support (its
	// error table, §3.12, has no 405). RFC 9110 §15.5.6 defines the answer —
	// "The 405 (Method Not Allowed) status code indicates that the method
	// received in the request-line is known by the origin server but not
	// supported by the target resource" — without a SHOULD: MAY.
	framework.It("ERR-012", "an unsupported method on an endpoint is 405", lbl.MAY, lbl.RFC("9110:15.5.6"), func(ctx SpecContext) {
		resp := c.Do(ctx, framework.Request{Method: http.MethodDelete, Path: "/Users"})
		Expect(resp).To(framework.HaveStatus(http.StatusMethodNotAllowed, http.StatusNotImplemented))
	})

	framework.It("ERR-013", "a request body sent as application/scim+json is accepted", lbl.MUST, lbl.RFC("7644:3.8"), lbl.RFC("7644:8.1"), func(ctx SpecContext) {
		Expect(post(ctx, framework.NewUser("err").String(), scim.MediaType)).To(framework.HaveStatus(http.StatusCreated))
	})

	framework.It("ERR-014", "a body in a media type other than JSON is refused with a 4xx, never a server error", lbl.MAY, lbl.RFC("7644:3.8"), func(ctx SpecContext) {
		resp := post(ctx, `<user><userName>x</userName></user>`, "application/xml")
		Expect(resp.Status).To(And(BeNumerically(">=", 400), BeNumerically("<", 500)), "answered %d", resp.Status)
	})

	framework.It("ERR-015", "Accept: application/json is served", lbl.SHOULD, lbl.RFC("7644:3.8"), func(ctx SpecContext) {
		resp := c.Do(ctx, framework.Request{Method: http.MethodGet, Path: "/Users", Query: map[string][]string{"count": {"1"}}, Header: http.Header{"Accept": {"application/json"}}})
		Expect(resp).To(framework.BeListResponse())
	})

	// scimType is OPTIONAL (RFC 7644 §3.12) and no text asks for
	// invalidValue on a missing required attribute: MAY, as ERR-008.
	framework.It("ERR-016", "a missing required attribute carries scimType invalidValue", lbl.MAY, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		u := framework.NewUser("err")
		delete(u, "userName")
		Expect(post(ctx, u.String(), scim.MediaType)).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidValue)))
	})

	framework.It("ERR-017", "a uniqueness conflict carries scimType uniqueness and status \"409\"", lbl.MUST, lbl.RFC("7644:3.12"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("err"))
		dup := framework.NewUser("err")
		dup["userName"] = u["userName"]
		resp := post(ctx, dup.String(), scim.MediaType)
		Expect(resp).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
	})

	framework.It("ERR-018", "a non-numeric count is refused with 400 or ignored, never a server error", lbl.MAY, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Users", "count", "many")
		Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest))
	})

	framework.It("ERR-019", "a very long filter is refused with 400 or answered, never a server error", lbl.MAY, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
		// 100 terms: a request-target of about 5 KiB, under the request-head
		// limits of common servers (8 KiB nginx and Apache, 16 KiB Node),
		// so that the filter parser is what answers, not the HTTP layer
		// (400 terms, 18 KiB, got Node's 431 and a closed connection).
		expr := `userName eq "x"`
		for i := 0; i < 100; i++ {
			expr += ` or userName eq "scimlab-long-` + strconv.Itoa(i) + `"`
		}
		resp := c.Get(ctx, "/Users", "filter", expr)
		Expect(resp.Status).To(Or(Equal(http.StatusOK), Equal(http.StatusBadRequest), Equal(http.StatusRequestURITooLong), Equal(http.StatusRequestHeaderFieldsTooLarge)), "answered %d", resp.Status)
	})
})

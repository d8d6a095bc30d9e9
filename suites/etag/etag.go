// Package etag holds the checks of resource versioning (RFC 7644 §3.14,
// RFC 7232): the ETag header, meta.version, If-Match and If-None-Match.
package etag

import (
	"net/http"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// entityTag is the entity-tag of RFC 7232 §2.3: optional W/ and a quoted string.
var entityTag = regexp.MustCompile(`^(W/)?"[\x21\x23-\x7e\x80-\xff]*"$`)

var (
	op  = framework.Op
	ops = framework.PatchOp
)

var _ = Describe("ETags", lbl.Of(lbl.ETag), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	create := func(ctx SpecContext) (framework.Doc, string, string) {
		GinkgoHelper()
		// The user is the check's fixture (framework.Arrange): a create
		// that fails is a setup error, not an ETag failure.
		var resp *framework.Response
		framework.Arrange(func() {
			resp = c.Post(ctx, "/Users", framework.NewUser("etg"))
			framework.CleanupCreated("/Users", resp)
			Expect(resp).To(framework.HaveStatus(http.StatusCreated))
		})
		d := resp.Doc()
		return d, framework.UserPath(d), resp.Header.Get("ETag")
	}
	etagOf := func(ctx SpecContext, p string) string {
		GinkgoHelper()
		resp := c.Get(ctx, p)
		Expect(resp).To(framework.HaveStatus(http.StatusOK))
		Expect(resp.Header.Get("ETag")).NotTo(BeEmpty(), "GET %s has an ETag header", p)
		return resp.Header.Get("ETag")
	}
	withHeader := func(ctx SpecContext, method, p, name, value string, body any) *framework.Response {
		return c.Do(ctx, framework.Request{Method: method, Path: p, Header: http.Header{name: {value}}, Body: body})
	}

	Describe("when supported", lbl.Of(lbl.NeedsETag), func() {
		framework.It("ETG-001", "GET of a resource has an ETag header", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			etagOf(ctx, p)
		})

		framework.It("ETG-002", "POST answers with an ETag header", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, _, tag := create(ctx)
			Expect(tag).NotTo(BeEmpty())
		})

		framework.It("ETG-003", "the ETag is an RFC 7232 entity-tag", lbl.MUST, lbl.RFC("7232:2.3"), lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			Expect(etagOf(ctx, p)).To(MatchRegexp(entityTag.String()))
		})

		framework.It("ETG-004", "the ETag is weak (W/\"…\") as SCIM examples show", lbl.MAY, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			Expect(etagOf(ctx, p)).To(HavePrefix(`W/"`))
		})

		framework.It("ETG-005", "meta.version equals the ETag header", lbl.MUST, lbl.RFC("7643:3.1"), lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			resp := c.Get(ctx, p)
			Expect(resp).To(framework.HaveStatus(http.StatusOK))
			Expect(resp.Doc().Str("meta.version")).To(Equal(resp.Header.Get("ETag")))
		})

		framework.It("ETG-006", "a GET does not change the ETag", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			Expect(etagOf(ctx, p)).To(Equal(etagOf(ctx, p)))
		})

		framework.It("ETG-007", "PUT changes the ETag and answers with the new one", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			before := etagOf(ctx, p)
			repl := d.Clone()
			repl["displayName"] = "ETag PUT"
			resp := c.Put(ctx, p, repl)
			Expect(resp).To(framework.HaveStatus(http.StatusOK))
			Expect(resp.Header.Get("ETag")).NotTo(BeEmpty(), "the PUT response has an ETag")
			Expect(resp.Header.Get("ETag")).NotTo(Equal(before))
			Expect(etagOf(ctx, p)).To(Equal(resp.Header.Get("ETag")))
		})

		framework.It("ETG-008", "PATCH changes the ETag", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			before := etagOf(ctx, p)
			resp := c.Patch(ctx, p, ops(op("replace", "displayName", "ETag PATCH")))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			after := etagOf(ctx, p)
			Expect(after).NotTo(Equal(before))
			if tag := resp.Header.Get("ETag"); tag != "" {
				Expect(tag).To(Equal(after), "the PATCH response's ETag is the new version")
			}
		})

		framework.It("ETG-009", "If-Match with a stale ETag on PUT is 412 and changes nothing", lbl.MUST, lbl.RFC("7644:3.14"), lbl.RFC("7232:3.1"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			stale := etagOf(ctx, p)
			repl := d.Clone()
			repl["displayName"] = "First"
			framework.PutSetup(ctx, c, p, repl) // makes the ETag read above stale; If-Match is the subject
			repl["displayName"] = "Second"
			Expect(withHeader(ctx, http.MethodPut, p, "If-Match", stale, repl)).To(framework.HaveStatus(http.StatusPreconditionFailed))
			Expect(framework.Get(ctx, c, p).Str("displayName")).To(Equal("First"))
		})

		framework.It("ETG-010", "If-Match with a stale ETag on PATCH is 412", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.14"), lbl.RFC("7232:3.1"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			stale := etagOf(ctx, p)
			framework.PatchSetup(ctx, c, p, ops(op("replace", "displayName", "First"))) // makes the ETag read above stale; If-Match is the subject
			Expect(withHeader(ctx, http.MethodPatch, p, "If-Match", stale, ops(op("replace", "displayName", "Second")))).To(framework.HaveStatus(http.StatusPreconditionFailed))
			Expect(framework.Get(ctx, c, p).Str("displayName")).To(Equal("First"))
		})

		framework.It("ETG-011", "If-Match with a stale ETag on DELETE is 412 and the resource stays", lbl.MUST, lbl.RFC("7644:3.14"), lbl.RFC("7232:3.1"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			stale := etagOf(ctx, p)
			repl := d.Clone()
			repl["displayName"] = "Changed"
			framework.PutSetup(ctx, c, p, repl) // makes the ETag read above stale; If-Match is the subject
			Expect(withHeader(ctx, http.MethodDelete, p, "If-Match", stale, nil)).To(framework.HaveStatus(http.StatusPreconditionFailed))
			framework.Get(ctx, c, p)
		})

		framework.It("ETG-012", "If-Match with the current ETag on PUT succeeds", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			repl := d.Clone()
			repl["displayName"] = "Matched"
			Expect(withHeader(ctx, http.MethodPut, p, "If-Match", etagOf(ctx, p), repl)).To(framework.HaveStatus(http.StatusOK))
		})

		framework.It("ETG-013", "If-Match with the current ETag on PATCH succeeds", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			Expect(withHeader(ctx, http.MethodPatch, p, "If-Match", etagOf(ctx, p), ops(op("replace", "displayName", "Matched")))).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
		})

		framework.It("ETG-014", "If-Match with the current ETag on DELETE succeeds", lbl.MUST, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			Expect(withHeader(ctx, http.MethodDelete, p, "If-Match", etagOf(ctx, p), nil)).To(framework.HaveStatus(http.StatusNoContent))
		})

		framework.It("ETG-015", "If-None-Match with the current ETag on GET is 304 Not Modified", lbl.MUST, lbl.RFC("7644:3.14"), lbl.RFC("7232:3.2"), func(ctx SpecContext) {
			_, p, _ := create(ctx)
			resp := withHeader(ctx, http.MethodGet, p, "If-None-Match", etagOf(ctx, p), nil)
			Expect(resp).To(framework.HaveStatus(http.StatusNotModified))
			Expect(resp.Body).To(BeEmpty(), "304 has no body")
		})

		framework.It("ETG-016", "If-None-Match with another ETag on GET is 200 with the resource", lbl.MUST, lbl.RFC("7644:3.14"), lbl.RFC("7232:3.2"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			resp := withHeader(ctx, http.MethodGet, p, "If-None-Match", `W/"scimlab-other"`, nil)
			Expect(resp).To(framework.HaveStatus(http.StatusOK))
			Expect(resp.Doc().ID()).To(Equal(d.ID()))
		})

		framework.It("ETG-017", "If-Match * on PUT succeeds for an existing resource", lbl.SHOULD, lbl.RFC("7232:3.1"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			repl := d.Clone()
			repl["displayName"] = "Star"
			Expect(withHeader(ctx, http.MethodPut, p, "If-Match", "*", repl)).To(framework.HaveStatus(http.StatusOK))
		})

		framework.It("ETG-018", "a group carries an ETag that changes when its members change", lbl.MUST, lbl.NeedsGroups, lbl.NeedsPatch, lbl.RFC("7644:3.14"), func(ctx SpecContext) {
			u := framework.CreateUser(ctx, c, framework.NewUser("etg"))
			g := framework.CreateGroup(ctx, c, framework.NewGroup("etg"))
			before := etagOf(ctx, framework.GroupPath(g))
			framework.PatchOK(ctx, c, framework.GroupPath(g), ops(op("add", "members", framework.Members(u.ID()))))
			Expect(etagOf(ctx, framework.GroupPath(g))).NotTo(Equal(before))
		})

		framework.It("ETG-019", "the version in a list resource equals the resource's ETag", lbl.SHOULD, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			d, p, _ := create(ctx)
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(d.Str("userName")))
			Expect(lr.Resources()).To(HaveLen(1))
			Expect(lr.Resources()[0].Str("meta.version")).To(Equal(etagOf(ctx, p)))
		})
	})

	framework.It("ETG-090", "probe: If-Match declared unsupported is ignored or refused, not enforced silently", lbl.SHOULD, lbl.Probe, lbl.ProbesETag, lbl.RFC("7643:5"), lbl.RFC("7644:3.14"), func(ctx SpecContext) {
		framework.RequireDeclaredUnsupported("etag")
		d, p, _ := create(ctx)
		repl := d.Clone()
		repl["displayName"] = "Probe"
		resp := withHeader(ctx, http.MethodPut, p, "If-Match", `W/"scimlab-stale"`, repl)
		if resp.Status == http.StatusPreconditionFailed {
			framework.ProbeWorked("etag", "If-Match enforced (412)")
			return
		}
		framework.Observe("etag", false, "If-Match not enforced")
		Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest, http.StatusNotImplemented))
	})
})

// Package patch holds the checks of PATCH (RFC 7644 §3.5.2): add, remove
// and replace, with and without path, on simple, complex, multi-valued and
// extension attributes, value-path filters, several operations in one
// request, atomicity and the errors noTarget, invalidPath and mutability.
package patch

import (
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

const ent = scim.EnterpriseUserSchema

var (
	op  = framework.Op
	ops = framework.PatchOp
)

var _ = Describe("PATCH", lbl.Of(lbl.Patch), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	// create makes the user a check patches; a failure there is the
	// check's setup, not what it tests (framework.Arrange).
	create := func(ctx SpecContext, u framework.Doc) (framework.Doc, string) {
		GinkgoHelper()
		var d framework.Doc
		framework.Arrange(func() { d = framework.CreateUser(ctx, c, u) })
		return d, framework.UserPath(d)
	}
	// base is the user most checks patch: one work email, one work
	// address, a nickName and a title. It has one value per multi-valued
	// attribute, so that a target that keeps one email (AWS) can run the
	// checks that are not about multi-valued attributes.
	base := func(u framework.Doc) framework.Doc {
		u["addresses"] = []any{map[string]any{"locality": "Paris", "country": "FR", "type": "work"}}
		u["nickName"] = "Nick"
		u["title"] = "Patcher"
		return u
	}
	user := func(ctx SpecContext) (framework.Doc, string) {
		GinkgoHelper()
		return create(ctx, base(framework.NewUser("pat")))
	}
	// twoEmails is base with a work and a home email, for the checks of
	// multi-valued attributes and value paths.
	twoEmails := func(ctx SpecContext) (framework.Doc, string) {
		GinkgoHelper()
		u := base(framework.NewUser("pat"))
		work := u.List("emails")[0].Str("value")
		u["emails"] = []any{
			map[string]any{"value": work, "type": "work", "primary": true},
			map[string]any{"value": "home-" + work, "type": "home"},
		}
		return create(ctx, u)
	}
	// entUser is base with the enterprise extension filled.
	entUser := func(ctx SpecContext) (framework.Doc, string) {
		GinkgoHelper()
		return create(ctx, base(framework.EnterpriseUser("pat")))
	}
	emailOf := func(d framework.Doc, typ string) framework.Doc {
		for _, e := range d.List("emails") {
			if e.Str("type") == typ {
				return e
			}
		}
		return nil
	}

	Describe("operations", lbl.Of(lbl.NeedsPatch), func() {
		framework.It("PAT-001", "add with a path sets a simple attribute", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", "profileUrl", "https://example.com/p")))
			Expect(got.Str("profileUrl")).To(Equal("https://example.com/p"))
		})

		framework.It("PAT-002", "replace with a path changes a simple attribute", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "displayName", "Patched Name")))
			Expect(got.Str("displayName")).To(Equal("Patched Name"))
		})

		framework.It("PAT-003", "remove with a path unassigns a simple attribute", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("remove", "nickName", nil)))
			Expect(got.Has("nickName")).To(BeFalse())
			Expect(got.Str("title")).To(Equal("Patcher"), "other attributes stay")
		})

		framework.It("PAT-004", "add without a path adds every attribute of the value object", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", "", map[string]any{"profileUrl": "https://example.com/q", "userType": "Intern"})))
			Expect(got.Str("profileUrl")).To(Equal("https://example.com/q"))
			Expect(got.Str("userType")).To(Equal("Intern"))
		})

		framework.It("PAT-005", "replace without a path replaces every attribute of the value object", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "", map[string]any{"displayName": "No Path", "title": "Replaced"})))
			Expect(got.Str("displayName")).To(Equal("No Path"))
			Expect(got.Str("title")).To(Equal("Replaced"))
			Expect(got.Str("userName")).To(Equal(u.Str("userName")), "attributes not in the value stay")
		})

		framework.It("PAT-006", "replace a sub-attribute: name.givenName", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "name.givenName", "Renamed")))
			Expect(got.Str("name.givenName")).To(Equal("Renamed"))
			Expect(got.Str("name.familyName")).To(Equal(u.Str("name.familyName")))
		})

		framework.It("PAT-007", "replace on a complex attribute leaves unnamed sub-attributes unchanged", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "name", map[string]any{"givenName": "Only"})))
			Expect(got.Str("name.givenName")).To(Equal("Only"))
			Expect(got.Str("name.familyName")).To(Equal(u.Str("name.familyName")), "familyName was not in the value and stays")
		})

		framework.It("PAT-008", "add on a complex attribute merges sub-attributes", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", "name", map[string]any{"middleName": "Middle"})))
			Expect(got.Str("name.middleName")).To(Equal("Middle"))
			Expect(got.Str("name.givenName")).To(Equal(u.Str("name.givenName")))
		})

		framework.It("PAT-009", "add on a multi-valued attribute appends values", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			extra := "other-" + u.List("emails")[0].Str("value")
			got := framework.PatchOK(ctx, c, p, ops(op("add", "emails", []any{map[string]any{"value": extra, "type": "other"}})))
			Expect(got.Values("emails")).To(HaveLen(3))
			Expect(got.Values("emails")).To(ContainElement(extra))
		})

		framework.It("PAT-010", "replace on a multi-valued attribute without a filter replaces all values", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			_, p := twoEmails(ctx)
			only := framework.UserName("pat-only")
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "emails", []any{map[string]any{"value": only, "type": "work"}})))
			Expect(got.Values("emails")).To(ConsistOf(only))
		})

		framework.It("PAT-011", "replace a sub-attribute through a value path: emails[type eq \"work\"].value", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			nv := framework.UserName("pat-work")
			got := framework.PatchOK(ctx, c, p, ops(op("replace", `emails[type eq "work"].value`, nv)))
			Expect(emailOf(got, "work").Str("value")).To(Equal(nv))
			Expect(emailOf(got, "home").Str("value")).To(Equal(emailOf(u, "home").Str("value")), "the home email is untouched")
		})

		framework.It("PAT-012", "replace a whole value selected by a value path", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			nv := framework.UserName("pat-home")
			got := framework.PatchOK(ctx, c, p, ops(op("replace", `emails[type eq "home"]`, map[string]any{"value": nv, "type": "home"})))
			Expect(emailOf(got, "home").Str("value")).To(Equal(nv))
			Expect(emailOf(got, "work").Str("value")).To(Equal(emailOf(u, "work").Str("value")))
			Expect(got.Values("emails")).To(HaveLen(2))
		})

		framework.It("PAT-013", "remove the values a value path selects", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("remove", `emails[type eq "home"]`, nil)))
			Expect(got.Values("emails")).To(ConsistOf(emailOf(u, "work").Str("value")))
		})

		framework.It("PAT-014", "remove with a compound value filter removes only the matching value", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			home := emailOf(u, "home").Str("value")
			got := framework.PatchOK(ctx, c, p, ops(op("remove", `emails[type eq "home" and value eq "`+home+`"]`, nil)))
			Expect(got.Values("emails")).To(ConsistOf(emailOf(u, "work").Str("value")))
		})

		framework.It("PAT-015", "replace on an attribute that has no value adds it", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "preferredLanguage", "fr-FR")))
			Expect(got.Str("preferredLanguage")).To(Equal("fr-FR"))
		})

		framework.It("PAT-016", "add on a single-valued attribute that has a value replaces it", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", "title", "Added Over")))
			Expect(got.Str("title")).To(Equal("Added Over"))
		})

		framework.It("PAT-017", "remove a whole multi-valued attribute", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("remove", "addresses", nil)))
			Expect(got.Has("addresses")).To(BeFalse())
		})

		framework.It("PAT-018", "replace a sub-attribute of a value-path selection: addresses[type eq \"work\"].locality", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", `addresses[type eq "work"].locality`, "Lyon")))
			Expect(got.List("addresses")).To(HaveLen(1))
			Expect(got.List("addresses")[0].Str("locality")).To(Equal("Lyon"))
			Expect(got.List("addresses")[0].Str("country")).To(Equal("FR"), "the other sub-attributes stay")
		})

		framework.It("PAT-019", "setting primary=true on one value clears it on the others", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7643:2.4"), func(ctx SpecContext) {
			_, p := twoEmails(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", `emails[type eq "home"].primary`, true)))
			Expect(emailOf(got, "home").Get("primary")).To(Equal(true))
			Expect(emailOf(got, "work").True("primary")).To(BeFalse(), "the work email is no longer primary")
		})

		framework.It("PAT-020", "adding a value equal to an existing one does not duplicate it", lbl.SHOULD, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			u, p := twoEmails(ctx)
			home := emailOf(u, "home")
			got := framework.PatchOK(ctx, c, p, ops(op("add", "emails", []any{map[string]any{"value": home.Str("value"), "type": "home"}})))
			Expect(got.Values("emails")).To(HaveLen(2))
		})
	})

	Describe("several operations", lbl.Of(lbl.NeedsPatch), func() {
		framework.It("PAT-030", "applies every operation of one request", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(
				op("replace", "displayName", "Multi"),
				op("add", "userType", "Employee"),
				op("remove", "nickName", nil),
			))
			Expect(got.Str("displayName")).To(Equal("Multi"))
			Expect(got.Str("userType")).To(Equal("Employee"))
			Expect(got.Has("nickName")).To(BeFalse())
		})

		framework.It("PAT-031", "applies operations on the same attribute in order", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(
				op("add", "title", "First"),
				op("replace", "title", "Second"),
			))
			Expect(got.Str("title")).To(Equal("Second"))
		})

		framework.It("PAT-032", "is atomic: when the second operation fails nothing is applied", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			u, p := user(ctx)
			// The second operation must fail under every reading: userName
			// is a string (RFC 7643 §4.1.1) and no dialect sends an object
			// for it. A filtered replace that matches nothing is no such
			// failure: Entra expects it to add (idp-traffic.md; BUG-001,
			// BPK-005), so an atomic server that adds would fail here.
			resp := c.Patch(ctx, p, ops(
				op("replace", "displayName", "Must Not Stick"),
				op("replace", "userName", map[string]any{"scimlab": "not a string"}),
			))
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
			got := framework.Get(ctx, c, p)
			Expect(got.Str("displayName")).To(Equal(u.Str("displayName")), "the first operation was rolled back")
			Expect(got.Str("userName")).To(Equal(u.Str("userName")), "userName is unchanged")
		})

		framework.It("PAT-033", "answers 200 with the changed resource, or 204 without a body", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			resp := c.Patch(ctx, p, ops(op("replace", "displayName", "Status Check")))
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusNoContent))
			if resp.Status == http.StatusOK {
				Expect(resp.Doc().Str("displayName")).To(Equal("Status Check"), "a 200 body shows the change")
			} else {
				Expect(strings.TrimSpace(string(resp.Body))).To(BeEmpty(), "204 has no body")
			}
		})

		framework.It("PAT-034", "deactivates with replace active=false; GET and a filter then show it", lbl.MUST, lbl.RFC("7644:3.5.2.3"), lbl.RFC("7643:4.1.1"), func(ctx SpecContext) {
			u, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "active", false)))
			Expect(got.Get("active")).To(Equal(false))
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(u.Str("userName")))
			Expect(framework.IDs(lr.Resources())).To(ConsistOf(u.ID()), "the filter finds the user")
			Expect(lr.Resources()[0].Get("active")).To(Equal(false), "the listed user is inactive")
		})

		framework.It("PAT-035", "advances meta.lastModified", lbl.SHOULD, lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			u, p := user(ctx)
			if !strings.Contains(u.Str("meta.lastModified"), ".") {
				time.Sleep(1100 * time.Millisecond)
			} else {
				time.Sleep(20 * time.Millisecond)
			}
			got := framework.PatchOK(ctx, c, p, ops(op("replace", "title", "Later")))
			before, _ := time.Parse(time.RFC3339, u.Str("meta.lastModified"))
			after, err := time.Parse(time.RFC3339, got.Str("meta.lastModified"))
			Expect(err).NotTo(HaveOccurred())
			Expect(after).To(BeTemporally(">", before))
		})
	})

	Describe("errors", lbl.Of(lbl.NeedsPatch), func() {
		framework.It("PAT-040", "remove without a path is 400 noTarget", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("remove", "", nil)))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.NoTarget)))
		})

		framework.It("PAT-041", "replace through a value filter that matches nothing is 400 noTarget", lbl.MUST, lbl.RFC("7644:3.5.2.3"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("replace", `emails[type eq "scimlab-none"].value`, "x@example.com")))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.NoTarget)))
		})

		framework.It("PAT-042", "a malformed path is 400 invalidPath", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("replace", `emails[type eq "work"`, "x")))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidPath)))
		})

		framework.It("PAT-043", "a path to an attribute no schema defines is 400 (invalidPath or noTarget)", lbl.SHOULD, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			_, p := user(ctx)
			resp := c.Patch(ctx, p, ops(op("replace", "scimlabNoSuchAttribute", "x")))
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
			Expect([]string{"invalidPath", "noTarget"}).To(ContainElement(resp.Doc().Str("scimType")), "scimType is invalidPath or noTarget")
		})

		framework.It("PAT-044", "replacing id is 400 mutability", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("replace", "id", "scimlab-new-id")))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.Mutability)))
		})

		framework.It("PAT-045", "replacing meta.created is 400 mutability", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7643:3.1"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("replace", "meta.created", "2001-01-01T00:00:00Z")))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.Mutability)))
		})

		framework.It("PAT-046", "an unknown op is 400", lbl.MUST, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("move", "title", "x")))).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("PAT-047", "a PatchOp without Operations is 400", lbl.SHOULD, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, map[string]any{"schemas": []string{scim.PatchOpSchema}})).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("PAT-048", "an empty Operations array is 400", lbl.SHOULD, lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{}})).To(framework.BeSCIMError(http.StatusBadRequest))
		})

		framework.It("PAT-049", "a value of the wrong type is 400 (invalidValue or invalidSyntax)", lbl.SHOULD, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			_, p := user(ctx)
			resp := c.Patch(ctx, p, ops(op("replace", "active", map[string]any{"not": "a boolean"})))
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
			Expect([]string{"invalidValue", "invalidSyntax"}).To(ContainElement(resp.Doc().Str("scimType")))
		})

		framework.It("PAT-050", "replacing userName with another user's is 409 uniqueness", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
			a, _ := user(ctx)
			_, p := user(ctx)
			Expect(c.Patch(ctx, p, ops(op("replace", "userName", a.Str("userName"))))).To(framework.BeSCIMError(http.StatusConflict, string(scim.Uniqueness)))
		})
	})

	Describe("extension attributes", lbl.Of(lbl.NeedsPatch, lbl.NeedsEnterprise), func() {
		framework.It("PAT-060", "replace an extension attribute by its URN path", lbl.MUST, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.10"), func(ctx SpecContext) {
			_, p := entUser(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", ent+":department", "Sales")))
			Expect(got.Str(ent + ":department")).To(Equal("Sales"))
		})

		framework.It("PAT-061", "add an extension attribute to a user that has no extension yet", lbl.MUST, lbl.RFC("7644:3.5.2.1"), lbl.RFC("7644:3.10"), func(ctx SpecContext) {
			_, p := user(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", ent+":employeeNumber", "E-7")))
			Expect(got.Str(ent + ":employeeNumber")).To(Equal("E-7"))
			Expect(got.Strings("schemas")).To(ContainElement(ent), "schemas now lists the extension")
		})

		framework.It("PAT-062", "add without a path with the extension as a key of the value", lbl.MUST, lbl.RFC("7644:3.5.2.1"), func(ctx SpecContext) {
			_, p := entUser(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("add", "", map[string]any{ent: map[string]any{"division": "North"}})))
			Expect(got.Str(ent + ":division")).To(Equal("North"))
			Expect(got.Str(ent+":department")).To(Equal("Engineering"), "the other extension attributes stay")
		})

		framework.It("PAT-063", "remove an extension attribute by its URN path", lbl.MUST, lbl.RFC("7644:3.5.2.2"), func(ctx SpecContext) {
			_, p := entUser(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("remove", ent+":costCenter", nil)))
			Expect(got.Has(ent + ":costCenter")).To(BeFalse())
			Expect(got.Str(ent + ":department")).To(Equal("Engineering"))
		})

		framework.It("PAT-064", "replace the manager reference", lbl.MUST, lbl.RFC("7644:3.5.2.3"), lbl.RFC("7643:4.3"), func(ctx SpecContext) {
			boss, _ := user(ctx)
			_, p := entUser(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", ent+":manager", map[string]any{"value": boss.ID()})))
			Expect(got.Str(ent + ":manager.value")).To(Equal(boss.ID()))
		})

		framework.It("PAT-065", "remove the manager reference", lbl.MUST, lbl.RFC("7644:3.5.2.2"), lbl.RFC("7643:4.3"), func(ctx SpecContext) {
			boss, _ := user(ctx)
			_, p := entUser(ctx)
			framework.PatchSetup(ctx, c, p, ops(op("add", ent+":manager", map[string]any{"value": boss.ID()}))) // the remove is the subject
			got := framework.PatchOK(ctx, c, p, ops(op("remove", ent+":manager", nil)))
			Expect(got.Has(ent + ":manager")).To(BeFalse())
		})

		framework.It("PAT-066", "replace a sub-attribute of an extension: manager.value", lbl.MUST, lbl.RFC("7644:3.5.2.3"), lbl.RFC("7644:3.10"), func(ctx SpecContext) {
			boss, _ := user(ctx)
			_, p := entUser(ctx)
			got := framework.PatchOK(ctx, c, p, ops(op("replace", ent+":manager.value", boss.ID())))
			Expect(got.Str(ent + ":manager.value")).To(Equal(boss.ID()))
		})
	})

	framework.It("PAT-090", "probe: PATCH declared unsupported is refused, not performed", lbl.SHOULD, lbl.Probe, lbl.ProbesPatch, lbl.RFC("7643:5"), lbl.RFC("7644:3.5.2"), func(ctx SpecContext) {
		framework.RequireDeclaredUnsupported("patch")
		u, p := user(ctx)
		resp := c.Patch(ctx, p, ops(op("replace", "displayName", "Probe")))
		if resp.Status == http.StatusOK || resp.Status == http.StatusNoContent {
			if framework.Get(ctx, c, p).Str("displayName") == "Probe" {
				framework.ProbeWorked("patch", "PATCH replace applied")
				return
			}
		}
		framework.Observe("patch", false, "PATCH refused")
		Expect(resp).To(framework.BeRefusal())
		Expect(framework.Get(ctx, c, p).Str("displayName")).To(Equal(u.Str("displayName")))
	})
})

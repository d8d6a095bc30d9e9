// Package sort holds the checks of sorting (RFC 7644 §3.4.2.3).
package sort

import (
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// user is one sort fixture: userName suffix, givenName and title.
type user struct{ key, given, title string }

// fixtures are created in this order; givenName sorts the other way round
// from userName, and only two have a title.
var fixtures = []user{
	{"delta", "Walt", ""},
	{"alpha", "Zed", "T1"},
	{"Charlie", "Xia", "T3"},
	{"bravo", "Yan", ""},
}

// create makes the fixture users and returns the filter that selects them
// and a map from id to fixture key.
func create(ctx SpecContext, c *framework.Client) (string, map[string]string) {
	GinkgoHelper()
	batch := framework.NewBatch(ctx, c, "srt")
	keys := map[string]string{}
	for _, f := range fixtures {
		u := batch.User(f.key)
		u["name"] = map[string]any{"givenName": f.given, "familyName": "Sorted"}
		if f.title != "" {
			u["title"] = f.title
		}
		keys[framework.CreateUser(ctx, c, u).ID()] = f.key
	}
	return batch.Filter, keys
}

var _ = Describe("Sorting", lbl.Of(lbl.Sort), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	Describe("sortBy and sortOrder", Ordered, ContinueOnFailure, lbl.Of(lbl.NeedsSort), func() {
		var (
			filter string
			keys   map[string]string
		)
		BeforeAll(func(ctx SpecContext) {
			c = framework.NewClient()
			filter, keys = create(ctx, c)
		})

		order := func(ctx SpecContext, q ...string) []string {
			GinkgoHelper()
			lr := framework.List(ctx, c, "/Users", append([]string{"filter", filter}, q...)...)
			out := []string{}
			for _, r := range lr.Resources() {
				out = append(out, keys[r.ID()])
			}
			return out
		}

		framework.It("SRT-001", "sortBy=userName sorts ascending by default", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			got := order(ctx, "sortBy", "userName")
			Expect(got).To(HaveLen(4))
			Expect(without(got, "Charlie")).To(Equal([]string{"alpha", "bravo", "delta"}), "ascending userName order (got %v)", got)
		})

		framework.It("SRT-002", "sortOrder=descending reverses the order", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			got := order(ctx, "sortBy", "userName", "sortOrder", "descending")
			Expect(without(got, "Charlie")).To(Equal([]string{"delta", "bravo", "alpha"}), "descending userName order (got %v)", got)
		})

		framework.It("SRT-003", "sortOrder=ascending gives the default order", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			Expect(order(ctx, "sortBy", "userName", "sortOrder", "ascending")).To(Equal(order(ctx, "sortBy", "userName")))
		})

		framework.It("SRT-004", "a caseExact=false attribute sorts without regard to case", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			Expect(order(ctx, "sortBy", "userName")).To(Equal([]string{"alpha", "bravo", "Charlie", "delta"}), "\"Charlie\" sorts between \"bravo\" and \"delta\"")
		})

		framework.It("SRT-005", "sortBy a sub-attribute: name.givenName", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			Expect(order(ctx, "sortBy", "name.givenName")).To(Equal([]string{"delta", "Charlie", "bravo", "alpha"}))
		})

		framework.It("SRT-006", "sortBy=meta.created orders by creation time", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			lr := framework.List(ctx, c, "/Users", "filter", filter, "sortBy", "meta.created")
			var prev time.Time
			for _, r := range lr.Resources() {
				t, err := time.Parse(time.RFC3339, r.Str("meta.created"))
				Expect(err).NotTo(HaveOccurred())
				Expect(t).NotTo(BeTemporally("<", prev), "meta.created never goes back")
				prev = t
			}
			Expect(lr.Resources()).To(HaveLen(4))
		})

		framework.It("SRT-007", "resources without a value sort last in ascending order", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			got := order(ctx, "sortBy", "title")
			Expect(got).To(HaveLen(4))
			Expect(got[:2]).To(Equal([]string{"alpha", "Charlie"}), "the two titled users first (got %v)", got)
		})

		framework.It("SRT-008", "resources without a value sort first in descending order", lbl.MUST, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			got := order(ctx, "sortBy", "title", "sortOrder", "descending")
			Expect(got).To(HaveLen(4))
			Expect(got[2:]).To(Equal([]string{"Charlie", "alpha"}), "the two titled users last, T3 before T1 (got %v)", got)
		})

		framework.It("SRT-009", "sorted pages of 1 follow the sorted order", lbl.MUST, lbl.RFC("7644:3.4.2.3"), lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
			full := order(ctx, "sortBy", "name.givenName")
			var paged []string
			for i := 1; i <= 4; i++ {
				paged = append(paged, order(ctx, "sortBy", "name.givenName", "startIndex", strconv.Itoa(i), "count", "1")...)
			}
			Expect(paged).To(Equal(full))
		})

		framework.It("SRT-010", "sortBy attribute names are case-insensitive", lbl.MUST, lbl.RFC("7643:2.1"), lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			Expect(order(ctx, "sortBy", "NAME.GIVENNAME")).To(Equal([]string{"delta", "Charlie", "bravo", "alpha"}))
		})

		framework.It("SRT-011", "sortBy an attribute no schema defines is refused with 400 or ignored, never a 5xx", lbl.MAY, lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
			resp := c.Get(ctx, "/Users", "filter", filter, "sortBy", "scimlabNoSuchAttribute")
			Expect(resp).To(framework.HaveStatus(http.StatusOK, http.StatusBadRequest))
			if resp.Status == http.StatusBadRequest {
				Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest))
			}
		})

		framework.It("SRT-012", "sortBy in a POST /.search body sorts", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
			resp := c.Post(ctx, "/Users/.search", scim.SearchRequest{Schemas: []string{scim.SearchRequestSchema}, Filter: filter, SortBy: "name.givenName", SortOrder: "descending"})
			Expect(resp).To(framework.BeListResponse())
			got := []string{}
			for _, r := range resp.Doc().Resources() {
				got = append(got, keys[r.ID()])
			}
			Expect(got).To(Equal([]string{"alpha", "bravo", "Charlie", "delta"}))
		})
	})

	framework.It("SRT-020", "probe: sorting declared unsupported is ignored or refused, not silently performed", lbl.SHOULD, lbl.Probe, lbl.ProbesSort, lbl.RFC("7643:5"), lbl.RFC("7644:3.4.2.3"), func(ctx SpecContext) {
		framework.RequireDeclaredUnsupported("sort")
		filter, keys := create(ctx, c)
		resp := c.Get(ctx, "/Users", "filter", filter, "sortBy", "name.givenName", "sortOrder", "descending")
		if resp.Status == http.StatusOK {
			got := []string{}
			for _, r := range resp.Doc().Resources() {
				got = append(got, keys[r.ID()])
			}
			if len(got) == 4 && got[0] == "alpha" && got[3] == "delta" {
				framework.ProbeWorked("sort", "sortBy/sortOrder honoured")
				return
			}
			framework.Observe("sort", false, "sortBy ignored")
			return
		}
		framework.Observe("sort", false, "sortBy refused")
		Expect(resp).To(framework.BeRefusal())
	})
})

func without(s []string, drop string) []string {
	out := []string{}
	for _, x := range s {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

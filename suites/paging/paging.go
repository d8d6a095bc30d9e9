// Package paging holds the checks of pagination (RFC 7644 §3.4.2.4): page
// walks with the page sizes real IdPs use, the ListResponse paging fields,
// and the boundary values of startIndex and count.
package paging

import (
	"fmt"
	"math"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// n is how many users the paging checks create and page through.
const n = 12

// noCount asks page to send no count parameter.
const noCount = math.MinInt

var _ = Describe("Paging", Ordered, ContinueOnFailure, lbl.Of(lbl.Paging), func() {
	var (
		c      *framework.Client
		ids    []string
		filter string
	)
	BeforeAll(func(ctx SpecContext) {
		c = framework.NewClient()
		batch := framework.NewBatch(ctx, c, "pg")
		ids = nil
		for i := 0; i < n; i++ {
			ids = append(ids, framework.CreateUser(ctx, c, batch.User(fmt.Sprintf("%02d", i))).ID())
		}
		filter = batch.Filter
	})
	BeforeEach(func() { c = framework.NewClient() })

	page := func(ctx SpecContext, startIndex, count int) framework.Doc {
		GinkgoHelper()
		q := []string{"filter", filter, "startIndex", strconv.Itoa(startIndex)}
		if count != noCount {
			q = append(q, "count", strconv.Itoa(count))
		}
		return framework.List(ctx, c, "/Users", q...)
	}

	// itemsPerPage checks a page's itemsPerPage against the page. RFC 7644
	// §3.4.2: "itemsPerPage  The number of resources returned in a list
	// response page. REQUIRED when partial results are returned due to
	// pagination." (§3.4.2.4: "Specifies the number of query results
	// returned in a query response page".) When present it counts the
	// resources on the page, not the count asked for; on a page of partial
	// results (fewer resources than totalResults) it must be present.
	// Only PAG-003 and PAG-019 judge it, so that one wrong itemsPerPage
	// fails the checks about it, not every walk (PAG-006/007/008) and the
	// checks whose titles are about other things (audit J2).
	itemsPerPage := func(d framework.Doc) {
		GinkgoHelper()
		partial := d.Total() > len(d.Resources())
		if d.Get("itemsPerPage") == nil && !partial {
			return
		}
		ipp, ok := d.Int("itemsPerPage")
		Expect(ok).To(BeTrue(), "itemsPerPage is a JSON integer, REQUIRED on a page of partial results (got %#v)", d.Get("itemsPerPage"))
		Expect(ipp).To(Equal(len(d.Resources())), "itemsPerPage is the number of resources on the page (%d), not the count asked for", len(d.Resources()))
	}

	// walk pages through the run's users and checks there are no duplicates,
	// no gaps and a stable totalResults.
	walk := func(ctx SpecContext, count int) {
		GinkgoHelper()
		seen := map[string]int{}
		start := 1
		for pages := 0; ; pages++ {
			Expect(pages).To(BeNumerically("<=", n+1), "the walk ends within %d pages", n+1)
			d := page(ctx, start, count)
			Expect(d.Total()).To(Equal(n), "totalResults stays %d on page %d", n, pages+1)
			res := d.Resources()
			Expect(len(res)).To(BeNumerically("<=", count), "page %d holds at most count=%d resources", pages+1, count)
			for _, r := range res {
				seen[r.ID()]++
				Expect(seen[r.ID()]).To(Equal(1), "resource %s appears on two pages", r.ID())
			}
			if len(res) == 0 || start+len(res) > n {
				break
			}
			start += len(res)
		}
		Expect(seen).To(HaveLen(n), "every resource is visited")
		for _, id := range ids {
			Expect(seen).To(HaveKey(id), "resource %s was skipped by the walk", id)
		}
	}

	framework.It("PAG-001", "totalResults counts every match of the filter", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
		Expect(framework.List(ctx, c, "/Users", "filter", filter).Total()).To(Equal(n))
	})

	framework.It("PAG-002", "count=5 returns at most 5 resources", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 1, 5)
		Expect(framework.IDs(d.Resources())).To(HaveLen(5), "count=5 of %d matches", n)
		Expect(d.Total()).To(Equal(n), "totalResults is the number of matches, not of the page")
	})

	framework.It("PAG-003", "itemsPerPage equals the number of resources on the page", lbl.MUST, lbl.RFC("7644:3.4.2"), lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 1, 5)
		ipp, ok := d.Int("itemsPerPage")
		Expect(ok).To(BeTrue(), "itemsPerPage is a JSON integer (got %#v)", d.Get("itemsPerPage"))
		Expect(ipp).To(Equal(len(d.Resources())))
		Expect(ipp).To(Equal(5))
	})

	framework.It("PAG-004", "startIndex, itemsPerPage and totalResults are JSON integers, not strings", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
		d := page(ctx, 2, 3)
		for _, f := range []string{"startIndex", "itemsPerPage", "totalResults"} {
			_, ok := d.Int(f)
			Expect(ok).To(BeTrue(), "%s is a JSON integer (got %#v)", f, d.Get(f))
		}
	})

	framework.It("PAG-005", "startIndex is echoed in a paged response", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
		v, ok := page(ctx, 4, 3).Int("startIndex")
		Expect(ok).To(BeTrue(), "startIndex is present as an integer")
		Expect(v).To(Equal(4), "startIndex echoes the request")
	})

	framework.It("PAG-006", "walking pages of 5 (Entra) visits every resource once with a stable totalResults", lbl.MUST, lbl.Slow, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		walk(ctx, 5)
	})

	framework.It("PAG-007", "walking pages of 1 visits every resource once", lbl.MUST, lbl.Slow, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		walk(ctx, 1)
	})

	framework.It("PAG-008", "walking pages of 100 (Okta import) returns every resource on the first page", lbl.Okta, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 1, 100)
		Expect(framework.IDs(d.Resources())).To(ConsistOf(ids))
		walk(ctx, 100)
	})

	framework.It("PAG-009", "pages come in a stable order: the same page twice lists the same resources", lbl.SHOULD, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		Expect(framework.IDs(page(ctx, 3, 4).Resources())).To(Equal(framework.IDs(page(ctx, 3, 4).Resources())))
	})

	framework.It("PAG-010", "count=0 returns totalResults and no resources", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 1, 0)
		Expect(d.Total()).To(Equal(n))
		Expect(framework.IDs(d.Resources())).To(BeEmpty(), "count=0 asks for no resources")
	})

	framework.It("PAG-011", "a negative count is taken as 0", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 1, -3)
		Expect(d.Total()).To(Equal(n))
		Expect(framework.IDs(d.Resources())).To(BeEmpty(), "count=-3 is taken as 0: no resources")
	})

	framework.It("PAG-012", "startIndex=0 is taken as 1", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		Expect(framework.IDs(page(ctx, 0, 3).Resources())).To(Equal(framework.IDs(page(ctx, 1, 3).Resources())))
	})

	framework.It("PAG-013", "a negative startIndex is taken as 1", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		Expect(framework.IDs(page(ctx, -5, 3).Resources())).To(Equal(framework.IDs(page(ctx, 1, 3).Resources())))
	})

	framework.It("PAG-014", "startIndex past the end returns 200 with no resources and the full totalResults", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, n+5, 10)
		Expect(framework.IDs(d.Resources())).To(BeEmpty(), "no resources past the end")
		Expect(d.Total()).To(Equal(n))
	})

	framework.It("PAG-015", "startIndex without count returns the rest of the results", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, n-2, noCount)
		Expect(framework.IDs(d.Resources())).To(HaveLen(3), "startIndex=%d of %d leaves 3", n-2, n)
	})

	framework.It("PAG-016", "the last page holds the remainder", lbl.MUST, lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		d := page(ctx, 11, 5)
		Expect(framework.IDs(d.Resources())).To(HaveLen(n-10), "startIndex=11 count=5 of %d leaves %d", n, n-10)
	})

	framework.It("PAG-017", "a page never holds more than ServiceProviderConfig filter.maxResults", lbl.MUST, lbl.RFC("7643:5"), lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		max := framework.Current().Caps.FilterMaxResults
		if max <= 0 {
			Skip("ServiceProviderConfig declares no filter.maxResults")
		}
		d := framework.List(ctx, c, "/Users", "count", strconv.Itoa(max+50))
		Expect(len(d.Resources())).To(BeNumerically("<=", max))
	})

	// The check of itemsPerPage on the pages where "the count asked for"
	// and "the resources on the page" differ: the last page of a walk
	// (partial results, so itemsPerPage is REQUIRED) and a page past the
	// end (none).
	framework.It("PAG-019", "itemsPerPage counts the resources on the last, partial page and on an empty page past the end, not the count asked for", lbl.MUST, lbl.RFC("7644:3.4.2"), lbl.RFC("7644:3.4.2.4"), func(ctx SpecContext) {
		last := page(ctx, 11, 5)
		Expect(framework.IDs(last.Resources())).To(HaveLen(n-10), "startIndex=11 count=5 of %d leaves %d", n, n-10)
		itemsPerPage(last)
		past := page(ctx, n+5, 10)
		Expect(framework.IDs(past.Resources())).To(BeEmpty(), "no resources past the end")
		itemsPerPage(past)
	})

	framework.It("PAG-018", "paging parameters in a POST /.search body page the same way", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		start, count := 2, 4
		resp := c.Post(ctx, "/Users/.search", scim.SearchRequest{Schemas: []string{scim.SearchRequestSchema}, Filter: filter, StartIndex: &start, Count: &count})
		Expect(resp).To(framework.BeListResponse())
		Expect(framework.IDs(resp.Doc().Resources())).To(HaveLen(4), "count=4 in the SearchRequest")
		Expect(resp.Doc().Total()).To(Equal(n))
	})
})

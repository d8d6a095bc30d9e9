// Package search holds the checks of POST /.search (RFC 7644 §3.4.3). The
// ServiceProviderConfig cannot declare search, and §3.4.3 makes it a MAY
// ("Clients MAY execute queries … using the HTTP POST verb combined with the
// /.search path extension"): the checks that need it carry needs:search and
// are skipped, with the probe's answer as the reason, when the target
// answers POST /Users/.search with 501 (RFC 7644 §3.12: "Service provider
// does not support the request operation") or with 404/405 and a SCIM
// error. SRC-008 (a GET on .search is no query) runs whatever the answer.
package search

import (
	"fmt"
	"net/http"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

func request(filter string) scim.SearchRequest {
	return scim.SearchRequest{Schemas: []string{scim.SearchRequestSchema}, Filter: filter}
}

var _ = Describe("Search", lbl.Of(lbl.Search), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	framework.It("SRC-001", "POST /Users/.search with a filter returns the matching users", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		users := framework.CreateUsers(ctx, c, "src", 2)
		f := "userName eq " + framework.Quote(users[0].Str("userName"))
		resp := c.Post(ctx, "/Users/.search", request(f))
		Expect(resp).To(framework.BeListResponse())
		Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(users[0].ID()))
		framework.ExpectAllMatch(f, resp.Doc().Resources(), "User")
	})

	framework.It("SRC-002", "POST /Groups/.search with a filter returns the matching groups", lbl.SHOULD, lbl.NeedsGroups, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		g := framework.CreateGroup(ctx, c, framework.NewGroup("src"))
		resp := c.Post(ctx, "/Groups/.search", request("displayName eq "+framework.Quote(g.Str("displayName"))))
		Expect(resp).To(framework.BeListResponse())
		Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(g.ID()))
	})

	framework.It("SRC-003", "POST /.search at the root searches every resource type", lbl.MAY, lbl.NeedsGroups, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), lbl.RFC("7644:3.4.2.1"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("src"))
		g := framework.CreateGroup(ctx, c, framework.NewGroup("src"))
		f := "id eq " + framework.Quote(u.ID()) + " or id eq " + framework.Quote(g.ID())
		resp := c.Post(ctx, "/.search", request(f))
		// A search at the root spans every resource type: RFC 7644 §3.12
		// lets the service provider refuse one too broad with 400 tooMany
		// ("The specified filter yields many more results than the server
		// is willing to calculate or process … POST (Search) (Section
		// 3.4.3)"), and a root search is itself optional (§3.4.3: "Clients
		// MAY execute queries …"). Neither is a failure of this MAY check.
		if resp.Status == http.StatusBadRequest && resp.Doc().Str("scimType") == string(scim.TooMany) {
			Skip("POST /.search at the root answered 400 tooMany: RFC 7644 §3.12 lets a service provider refuse a search that yields more than it is willing to process")
		}
		if resp.Status == http.StatusNotImplemented || resp.Status == http.StatusNotFound || resp.Status == http.StatusMethodNotAllowed {
			if resp.Status == http.StatusNotImplemented || slices.Contains(resp.Doc().Strings("schemas"), scim.ErrorSchema) {
				Skip(fmt.Sprintf("POST /.search at the root answered %d %s: the target does not implement a root search (RFC 7644 §3.4.3: \"Clients MAY execute queries …\")", resp.Status, http.StatusText(resp.Status)))
			}
		}
		Expect(resp).To(framework.BeListResponse())
		Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(u.ID(), g.ID()))
	})

	framework.It("SRC-004", "attributes in the SearchRequest limits the returned attributes", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("src"))
		r := request("userName eq " + framework.Quote(u.Str("userName")))
		r.Attributes = []string{"userName"}
		resp := c.Post(ctx, "/Users/.search", r)
		Expect(resp).To(framework.BeListResponse())
		Expect(resp.Doc().Resources()).To(HaveLen(1))
		Expect(resp.Doc().Resources()[0].Has("displayName")).To(BeFalse())
		Expect(resp.Doc().Resources()[0].Str("userName")).To(Equal(u.Str("userName")))
	})

	framework.It("SRC-005", "excludedAttributes in the SearchRequest leaves attributes out", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("src"))
		r := request("userName eq " + framework.Quote(u.Str("userName")))
		r.ExcludedAttributes = []string{"emails"}
		resp := c.Post(ctx, "/Users/.search", r)
		Expect(resp).To(framework.BeListResponse())
		Expect(resp.Doc().Resources()).To(HaveLen(1))
		Expect(resp.Doc().Resources()[0].Has("emails")).To(BeFalse())
	})

	framework.It("SRC-006", "an invalid filter in the SearchRequest is 400 invalidFilter", lbl.MUST, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		Expect(c.Post(ctx, "/Users/.search", request(`userName eq`))).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidFilter)))
	})

	framework.It("SRC-007", "a search that matches nothing answers 200 with totalResults 0", lbl.MUST, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		resp := c.Post(ctx, "/Users/.search", request("userName eq "+framework.Quote(framework.Current().Prefix()+"nobody")))
		Expect(resp).To(framework.BeListResponse())
		Expect(resp.Doc().Total()).To(Equal(0))
	})

	framework.It("SRC-008", "GET on /.search is refused, not taken as a query", lbl.SHOULD, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Users/.search")
		Expect(resp).To(framework.HaveStatus(http.StatusMethodNotAllowed, http.StatusNotFound, http.StatusNotImplemented))
	})

	framework.It("SRC-009", "the search answer is a ListResponse with the ListResponse schema and the SCIM media type", lbl.MUST, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
		u := framework.CreateUser(ctx, c, framework.NewUser("src"))
		resp := c.Post(ctx, "/Users/.search", request("userName eq "+framework.Quote(u.Str("userName"))))
		Expect(resp).To(framework.BeListResponse())
		Expect(framework.IDs(resp.Doc().Resources())).To(ConsistOf(u.ID()))
		Expect(resp).To(framework.HaveContentType(scim.MediaType))
	})

	framework.It("SRC-010", "a search without a filter lists resources", lbl.SHOULD, lbl.NeedsSearch, lbl.RFC("7644:3.4.3"), func(ctx SpecContext) {
		framework.CreateUser(ctx, c, framework.NewUser("src"))
		count := 2
		resp := c.Post(ctx, "/Users/.search", scim.SearchRequest{Schemas: []string{scim.SearchRequestSchema}, Count: &count})
		Expect(resp).To(framework.BeListResponse())
		Expect(resp.Doc().Total()).To(BeNumerically(">=", 1))
		Expect(len(resp.Doc().Resources())).To(BeNumerically("<=", 2))
	})
})

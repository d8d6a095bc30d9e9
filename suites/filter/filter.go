// Package filter holds the checks of filtering (RFC 7644 §3.4.2.2): every
// operator, logical expressions and grouping, value paths, URN-qualified
// names, case rules and errors. Each result set is also checked against the
// reference server's filter evaluator, used as an oracle.
package filter

import (
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// fixture is the data the filter checks query: three users and, for the
// group checks, a group, all named under the run prefix so that other data
// cannot interfere. The group is made by the group checks' own BeforeAll, so
// that a target that cannot create groups still has its user filters tested.
type fixture struct {
	P     string // userName prefix of the three users
	Users map[string]framework.Doc
	Group framework.Doc
	Ext   bool // the enterprise extension is in use
	// NoHome is why user "a" has no home email (the target refused a
	// second email), or "".
	NoHome string
	// scopeProbed is set once the target answered the scope probe;
	// unscoped, when that probe was refused (see scoped).
	scopeProbed, unscoped bool
}

// scoped reports whether the target takes `userName sw <prefix> and …`, the
// restriction query puts around every expression. It asks once per fixture,
// with a form that has no parentheses (`userName sw P and userName pr`): a
// 400 there says the target refuses sw or and (eq-only filters: HCP
// Terraform, AWS), a 400 on `… and (expr)` after a 200 here says it cannot
// parse expr inside a group — which RFC 7644 §3.4.2.2's grammar allows
// (`FILTER = … / *1"not" "(" FILTER ")"`), and fails the check.
func (f *fixture) scoped(ctx SpecContext, c *framework.Client) bool {
	if !f.scopeProbed {
		resp := c.Get(ctx, "/Users", "filter", "userName sw "+framework.Quote(f.P)+" and userName pr", "count", "1")
		if resp.Err == nil {
			f.scopeProbed = true
			f.unscoped = resp.Status == http.StatusBadRequest
		}
	}
	return !f.unscoped
}

// home is the email type only user "a" has; a check that filters on it
// cannot run when the target refused that email.
func (f *fixture) home() string {
	GinkgoHelper()
	if f.NoHome != "" {
		framework.CouldNotRun("the filter fixture's user has no home email, which this check filters on: the target refused a user with two emails (%s)", f.NoHome)
	}
	return "home"
}

// un returns a fixture user's userName.
func (f *fixture) un(key string) string { return f.Users[key].Str("userName") }

// keyOf maps a returned resource to its fixture key ("a", "b", "c") or its id.
func (f *fixture) keyOf(d framework.Doc) string {
	for k, u := range f.Users {
		if u.ID() == d.ID() {
			return k
		}
	}
	return "id:" + d.ID()
}

func build(ctx SpecContext, c *framework.Client) *fixture {
	GinkgoHelper()
	t := framework.Current()
	f := &fixture{P: t.Prefix() + "flt-", Users: map[string]framework.Doc{}, Ext: t.Caps.HasEnterprise()}
	mk := func(key, local, given, family, title string, active bool, emails []any, extra map[string]any, empNo string) {
		u := framework.Doc{
			"schemas":     []any{scim.UserSchema},
			"userName":    f.P + local + "@example.com",
			"externalId":  f.P + "Ext-" + strings.ToUpper(local[:1]) + local[1:],
			"name":        map[string]any{"givenName": given, "familyName": family},
			"displayName": given + " " + family,
			"emails":      emails,
			"active":      active,
		}
		if title != "" {
			u["title"] = title
		}
		for k, v := range extra {
			u[k] = v
		}
		if f.Ext {
			u["schemas"] = []any{scim.UserSchema, scim.EnterpriseUserSchema}
			u[scim.EnterpriseUserSchema] = map[string]any{"employeeNumber": empNo, "department": "R&D"}
		}
		if len(emails) > 1 {
			// A target that keeps one email per user (AWS) refuses the
			// second: the user keeps its first, and only the checks that
			// filter on the second cannot run (fixture.home).
			resp := c.Post(ctx, "/Users", u)
			if resp.Err == nil && resp.Status == http.StatusBadRequest {
				f.NoHome = resp.Summary()
				u["emails"] = emails[:1]
			} else {
				framework.CleanupCreated("/Users", resp)
				Expect(resp).To(framework.HaveStatus(http.StatusCreated))
				f.Users[key] = resp.Doc()
				return
			}
		}
		f.Users[key] = framework.CreateUser(ctx, c, u)
	}
	mk("a", "alpha", "Alice", "Zeta", "Engineer", true, []any{
		map[string]any{"value": f.P + "alice@work.example", "type": "work", "primary": true},
		map[string]any{"value": f.P + "alice@home.example", "type": "home"},
	}, map[string]any{"phoneNumbers": []any{map[string]any{"value": "+1-555-0101", "type": "work"}}, "nickName": "Ally"}, "1001")
	mk("b", "bravo", "Bob", "Young", "Manager", false, []any{
		map[string]any{"value": f.P + "bob@work.example", "type": "work", "primary": true},
	}, nil, "2002")
	mk("c", "charlie", "Zoë", "O'Connor-Xu", "", true, []any{
		map[string]any{"value": f.P + "charlie@work.example", "type": "work"},
	}, map[string]any{"userType": "Contractor"}, "3003")
	return f
}

// query runs a filter restricted to the fixture users and returns the keys
// of what came back, after checking every result against the oracle. The
// restriction is `userName sw <prefix> and (expr)`; a target that refuses
// sw or and (f.scoped: eq-only filters, HCP Terraform, AWS) is asked for
// expr alone and the answer is restricted to the fixture users here, so
// that the check tests expr, not sw or and. A target that takes sw and and
// but refuses `… and (expr)` fails: the grouping is part of the grammar.
func query(ctx SpecContext, c *framework.Client, f *fixture, expr string) []string {
	GinkgoHelper()
	full := "userName sw " + framework.Quote(f.P) + " and (" + expr + ")"
	scoped := f.scoped(ctx, c)
	var resp *framework.Response
	if scoped {
		resp = c.Get(ctx, "/Users", "filter", full)
		Expect(resp.Status).NotTo(Equal(http.StatusBadRequest), "the target refuses %q (400) though it takes `userName sw … and userName pr`: RFC 7644 §3.4.2.2's grammar allows a filter in parentheses after and, and not (…)", full)
	} else {
		full = expr
		resp = c.Get(ctx, "/Users", "filter", expr, "count", "200")
	}
	Expect(resp).To(framework.BeListResponse())
	lr := resp.Doc()
	framework.ExpectAllMatch(full, lr.Resources(), "User")
	if !scoped && lr.Total() > len(lr.Resources()) {
		framework.CouldNotRun("the target refuses %q, and %q alone matches %d resources, more than one page: the check cannot tell the fixture users apart", "userName sw … and (…)", expr, lr.Total())
	}
	Expect(lr.Total()).To(Equal(len(lr.Resources())), "totalResults counts the matches")
	keys := []string{}
	for _, r := range lr.Resources() {
		if k := f.keyOf(r); scoped || !strings.HasPrefix(k, "id:") {
			keys = append(keys, k)
		}
	}
	return keys
}

var _ = Describe("Filtering", Ordered, ContinueOnFailure, lbl.Of(lbl.Filter, lbl.NeedsFilter), func() {
	var (
		c *framework.Client
		f *fixture
	)
	BeforeAll(func(ctx SpecContext) {
		c = framework.NewClient()
		f = build(ctx, c)
	})
	BeforeEach(func() { c = framework.NewClient() })

	DescribeTable("returns exactly the users a filter matches",
		func(ctx SpecContext, expr func(f *fixture) string, want []string) {
			Expect(query(ctx, c, f, expr(f))).To(ConsistOf(want), "filter %q", expr(f))
		},
		framework.Entry("FLT-001", "eq on userName", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName eq " + framework.Quote(f.un("a")) }, []string{"a"}),
		framework.Entry("FLT-002", "eq on userName ignores the case of the value (caseExact=false)", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7643:4.1.1"),
			func(f *fixture) string { return "userName eq " + framework.Quote(strings.ToUpper(f.un("a"))) }, []string{"a"}),
		framework.Entry("FLT-003", "ne", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `displayName ne "Alice Zeta"` }, []string{"b", "c"}),
		framework.Entry("FLT-004", "co", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `displayName co "lice"` }, []string{"a"}),
		framework.Entry("FLT-005", "co ignores case on a caseExact=false attribute", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `displayName co "LICE"` }, []string{"a"}),
		framework.Entry("FLT-006", "sw", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName sw " + framework.Quote(f.P+"br") }, []string{"b"}),
		framework.Entry("FLT-007", "ew", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `userName ew "charlie@example.com"` }, []string{"c"}),
		framework.Entry("FLT-008", "pr on a single-valued attribute", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "title pr" }, []string{"a", "b"}),
		framework.Entry("FLT-009", "pr on a multi-valued attribute", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "phoneNumbers pr" }, []string{"a"}),
		framework.Entry("FLT-010", "gt on a string compares lexicographically", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName gt " + framework.Quote(f.P+"b") }, []string{"b", "c"}),
		framework.Entry("FLT-011", "ge on a string", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName ge " + framework.Quote(f.un("b")) }, []string{"b", "c"}),
		framework.Entry("FLT-012", "lt on a string", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName lt " + framework.Quote(f.P+"b") }, []string{"a"}),
		framework.Entry("FLT-013", "le on a string", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName le " + framework.Quote(f.un("b")) }, []string{"a", "b"}),
		framework.Entry("FLT-014", "gt on meta.lastModified compares dates", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7643:2.3.5"),
			func(f *fixture) string { return `meta.lastModified gt "2000-01-01T00:00:00Z"` }, []string{"a", "b", "c"}),
		framework.Entry("FLT-015", "ge on meta.created includes the boundary", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "meta.created ge " + framework.Quote(f.Users["a"].Str("meta.created")) }, []string{"a", "b", "c"}),
		framework.Entry("FLT-016", "lt on meta.created", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `meta.created lt "2999-01-01T00:00:00Z"` }, []string{"a", "b", "c"}),
		framework.Entry("FLT-017", "lt on meta.created excludes the boundary", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "meta.created lt " + framework.Quote(f.Users["a"].Str("meta.created")) }, []string{}),
		framework.Entry("FLT-018", "le on meta.created includes the boundary", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "meta.created le " + framework.Quote(f.Users["c"].Str("meta.created")) }, []string{"a", "b", "c"}),
		framework.Entry("FLT-019", "and", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "active eq true and title pr" }, []string{"a"}),
		framework.Entry("FLT-020", "or", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string {
				return "userName eq " + framework.Quote(f.un("a")) + " or userName eq " + framework.Quote(f.un("c"))
			}, []string{"a", "c"}),
		framework.Entry("FLT-021", "not", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "not (active eq true)" }, []string{"b"}),
		framework.Entry("FLT-022", "and binds tighter than or", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string {
				return "userName eq " + framework.Quote(f.un("b")) + " or userName eq " + framework.Quote(f.un("a")) + " and active eq false"
			}, []string{"b"}),
		framework.Entry("FLT-023", "parentheses group", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string {
				return "(userName eq " + framework.Quote(f.un("b")) + " or userName eq " + framework.Quote(f.un("a")) + ") and active eq true"
			}, []string{"a"}),
		framework.Entry("FLT-024", "eq on a boolean", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "active eq false" }, []string{"b"}),
		framework.Entry("FLT-025", "a value path with and: emails[type eq \"work\" and value co \"alice\"]", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `emails[type eq "work" and value co "alice"]` }, []string{"a"}),
		framework.Entry("FLT-026", "a value path: emails[type eq \"home\"]", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `emails[type eq "` + f.home() + `"]` }, []string{"a"}),
		framework.Entry("FLT-027", "a value path on a boolean sub-attribute: emails[type eq \"work\" and primary eq true]", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `emails[type eq "work" and primary eq true]` }, []string{"a", "b"}),
		framework.Entry("FLT-028", "a sub-attribute of a multi-valued attribute matches any value: emails.value eq", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "emails.value eq " + framework.Quote(f.P+"bob@work.example") }, []string{"b"}),
		framework.Entry("FLT-029", "emails.type eq \"home\"", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `emails.type eq "` + f.home() + `"` }, []string{"a"}),
		framework.Entry("FLT-031", "a URN-qualified core attribute name", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.10"),
			func(f *fixture) string { return scim.UserSchema + ":userName eq " + framework.Quote(f.un("a")) }, []string{"a"}),
		framework.Entry("FLT-032", "an extension attribute by URN: enterprise employeeNumber", lbl.MUST, lbl.NeedsEnterprise, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.10"),
			func(f *fixture) string { return scim.EnterpriseUserSchema + `:employeeNumber eq "2002"` }, []string{"b"}),
		framework.Entry("FLT-033", "attribute names are case-insensitive (USERNAME)", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7643:2.1"),
			func(f *fixture) string { return "USERNAME eq " + framework.Quote(f.un("a")) }, []string{"a"}),
		framework.Entry("FLT-034", "comparison operators are case-insensitive (EQ)", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "userName EQ " + framework.Quote(f.un("a")) }, []string{"a"}),
		framework.Entry("FLT-035", "logical operators are case-insensitive (OR, AND)", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string {
				return "userName eq " + framework.Quote(f.un("a")) + " OR userName eq " + framework.Quote(f.un("c")) + " AND active Eq true"
			}, []string{"a", "c"}),
		framework.Entry("FLT-036", "externalId eq matches exactly", lbl.MUST, lbl.RFC("7643:3.1"),
			func(f *fixture) string { return "externalId eq " + framework.Quote(f.Users["a"].Str("externalId")) }, []string{"a"}),
		framework.Entry("FLT-037", "externalId is caseExact: a value differing in case matches nothing", lbl.MUST, lbl.RFC("7643:3.1"),
			func(f *fixture) string {
				return "externalId eq " + framework.Quote(strings.ToUpper(f.Users["a"].Str("externalId")))
			}, []string{}),
		framework.Entry("FLT-038", "id eq", lbl.MUST, lbl.RFC("7643:3.1"),
			func(f *fixture) string { return "id eq " + framework.Quote(f.Users["a"].ID()) }, []string{"a"}),
		framework.Entry("FLT-039", "a value with an apostrophe", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `name.familyName eq "O'Connor-Xu"` }, []string{"c"}),
		framework.Entry("FLT-040", "a non-ASCII value", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `name.givenName eq "Zoë"` }, []string{"c"}),
		framework.Entry("FLT-041", "a sub-attribute of a complex attribute: name.familyName sw", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `name.familyName sw "Ze"` }, []string{"a"}),
		framework.Entry("FLT-042", "not over an absent attribute: not (title pr)", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return "not (title pr)" }, []string{"c"}),
		framework.Entry("FLT-043", "eq on userType", lbl.MUST, lbl.RFC("7644:3.4.2.2"),
			func(f *fixture) string { return `userType eq "Contractor"` }, []string{"c"}),
		framework.Entry("FLT-044", "meta.resourceType eq \"User\"", lbl.SHOULD, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7643:3.1"),
			func(f *fixture) string { return `meta.resourceType eq "User"` }, []string{"a", "b", "c"}),
	)

	framework.It("FLT-030", "a filter that matches nothing answers 200 with an empty ListResponse, never 404", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
		resp := c.Get(ctx, "/Users", "filter", "userName eq "+framework.Quote(f.P+"nobody@example.com"))
		Expect(resp).To(framework.BeListResponse())
		Expect(resp.Doc().Total()).To(Equal(0))
		Expect(resp.Doc().Resources()).To(BeEmpty())
	})

	framework.It("FLT-045", "a compound filter returns only resources the reference evaluator says match", lbl.MUST, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
		expr := "userName sw " + framework.Quote(framework.Current().Prefix()) + ` and (title pr or active eq false or emails[type eq "home"]) and not (name.givenName eq "Zoë")`
		// A server picks its own default page size (RFC 7644 §3.4.2.4; Slack's is 10): ask for all.
		lr := framework.List(ctx, c, "/Users", "filter", expr, "count", "1000")
		framework.ExpectAllMatch(expr, lr.Resources(), "User")
		got := []string{}
		for _, r := range lr.Resources() {
			got = append(got, f.keyOf(r))
		}
		Expect(got).To(ContainElements("a", "b"))
	})

	DescribeTable("refuses an invalid filter with 400 invalidFilter",
		func(ctx SpecContext, expr string) {
			Expect(c.Get(ctx, "/Users", "filter", expr)).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidFilter)))
		},
		framework.Entry("FLT-050", "a comparison without a value", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.12"), `userName eq`),
		framework.Entry("FLT-051", "an unknown operator", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.12"), `userName zz "x"`),
		framework.Entry("FLT-052", "an unterminated string", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.12"), `userName eq "abc`),
		framework.Entry("FLT-053", "an unbalanced parenthesis", lbl.MUST, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.12"), `(userName eq "a"`),
		// No RFC text says a filter on an attribute no schema defines
		// SHOULD be refused: §3.4.2.2 defines the grammar, which such a
		// filter satisfies, and §3.12's Table 9 only says what
		// invalidFilter means ("… or the specified attribute and filter
		// comparison combination is not supported"). An empty result is
		// defensible (nothing has a value for it): MAY.
		framework.Entry("FLT-054", "an attribute no schema defines", lbl.MAY, lbl.RFC("7644:3.4.2.2"), lbl.RFC("7644:3.12"), `scimlabNoSuchAttribute eq "x"`),
		framework.Entry("FLT-055", "gt on a boolean attribute", lbl.MUST, lbl.RFC("7644:3.4.2.2"), `active gt true`),
		framework.Entry("FLT-056", "a dangling logical operator", lbl.MUST, lbl.RFC("7644:3.4.2.2"), `userName eq "a" and`),
	)

	Describe("on groups", lbl.Of(lbl.NeedsGroups), func() {
		BeforeAll(func(ctx SpecContext) {
			if framework.Current().Caps.ResourceType("Group") == nil {
				return // the checks are skipped: no Group resource type
			}
			f.Group = framework.CreateGroup(ctx, c, framework.Doc{"schemas": []any{scim.GroupSchema}, "displayName": framework.Current().Prefix() + "Flt-Group-Alpha", "members": framework.Members(f.Users["a"].ID())})
		})
		groupQuery := func(ctx SpecContext, expr string) []string {
			GinkgoHelper()
			lr := framework.List(ctx, c, "/Groups", "filter", expr)
			framework.ExpectAllMatch(expr, lr.Resources(), "Group")
			return framework.IDs(lr.Resources())
		}
		framework.It("FLT-060", "displayName eq finds the group", lbl.MUST, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, "displayName eq "+framework.Quote(f.Group.Str("displayName")))).To(ConsistOf(f.Group.ID()))
		})
		framework.It("FLT-061", "displayName eq ignores the case of the value (caseExact=false)", lbl.MUST, lbl.RFC("7643:4.2"), lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, "displayName eq "+framework.Quote(strings.ToLower(f.Group.Str("displayName"))))).To(ConsistOf(f.Group.ID()))
		})
		framework.It("FLT-062", "members[value eq \"id\"] finds the groups of a user", lbl.MUST, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, `members[value eq "`+f.Users["a"].ID()+`"]`)).To(ConsistOf(f.Group.ID()))
		})
		framework.It("FLT-063", "members.value eq finds the groups of a user", lbl.MUST, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, `members.value eq "`+f.Users["a"].ID()+`"`)).To(ConsistOf(f.Group.ID()))
		})
		framework.It("FLT-064", "a group filter that matches nothing answers 200 with an empty ListResponse", lbl.MUST, lbl.RFC("7644:3.4.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, "displayName eq "+framework.Quote(framework.Current().Prefix()+"no-such-group"))).To(BeEmpty())
		})
		framework.It("FLT-065", "displayName sw on groups", lbl.MUST, lbl.RFC("7644:3.4.2.2"), func(ctx SpecContext) {
			Expect(groupQuery(ctx, "displayName sw "+framework.Quote(framework.Current().Prefix()+"Flt-"))).To(ConsistOf(f.Group.ID()))
		})
	})
})

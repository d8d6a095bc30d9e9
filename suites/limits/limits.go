// Package limits holds the checks of attribute length limits: the target's
// own limits, from --limits FILE, must hold at the boundary (max accepted,
// max+1 refused with 400 invalidValue, RFC 7644 §3.12).
package limits

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// limit is one attribute limit: resource type, attribute path, max length.
type limit struct {
	rt, path string
	max      int
}

func (l limit) String() string { return fmt.Sprintf("%s.%s (max %d)", l.rt, l.path, l.max) }

// settable lists the attribute paths these checks know how to fill.
var settable = map[string][]string{
	"User":  {"userName", "displayName", "nickName", "title", "externalId", "name.givenName", "name.familyName", "name.formatted"},
	"Group": {"displayName", "externalId"},
}

// limitsOf returns the configured limits these checks can exercise; a key
// is "path" (User) or "User.path" / "Group.path".
func limitsOf() []limit {
	var out []limit
	for k, v := range framework.Current().Limits {
		rt, path := "User", k
		if p, ok := strings.CutPrefix(k, "Group."); ok {
			rt, path = "Group", p
		} else if p, ok := strings.CutPrefix(k, "User."); ok {
			path = p
		}
		for _, s := range settable[rt] {
			if strings.EqualFold(s, path) {
				out = append(out, limit{rt: rt, path: s, max: v})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// value returns a run-unique value of exactly n characters for l, or "" when
// n is too short to carry the run prefix that keeps real tenants safe.
func value(l limit, n int) string {
	t := framework.Current()
	base := t.Prefix() + fmt.Sprintf("lim%03d-", t.Faker.Number(0, 999))
	suffix := ""
	if l.path == "userName" {
		suffix = "@example.com"
	}
	pad := n - len(base) - len(suffix)
	if pad < 0 {
		return ""
	}
	return base + strings.Repeat("x", pad) + suffix
}

// resource returns a fresh resource of l's type with l's attribute set to v.
func resource(l limit, v string) (endpoint string, doc framework.Doc) {
	if l.rt == "Group" {
		doc = framework.NewGroup("lim")
		endpoint = "/Groups"
	} else {
		doc = framework.NewUser("lim")
		endpoint = "/Users"
	}
	if sub, ok := strings.CutPrefix(l.path, "name."); ok {
		doc["name"].(map[string]any)[sub] = v
	} else {
		doc[l.path] = v
	}
	return endpoint, doc
}

func get(d framework.Doc, path string) string { return d.Str(path) }

var _ = Describe("Attribute limits", lbl.Of(lbl.Limits, lbl.NeedsLimits), func() {
	var c *framework.Client
	BeforeEach(func() { c = framework.NewClient() })

	// each runs fn for every usable limit and skips when there is none.
	each := func(fn func(l limit)) {
		ls := limitsOf()
		if len(ls) == 0 {
			Skip("none of the configured limits names an attribute these checks can fill (" + strings.Join(settable["User"], ", ") + ", Group.displayName, Group.externalId)")
		}
		for _, l := range ls {
			By(l.String())
			fn(l)
		}
	}

	framework.It("LIM-001", "a value of exactly the maximum length is accepted and kept whole", lbl.MUST, lbl.RFC("7643:2.3.1"), lbl.RFC("7644:3.3"), func(ctx SpecContext) {
		each(func(l limit) {
			v := value(l, l.max)
			if v == "" {
				return
			}
			endpoint, doc := resource(l, v)
			created := framework.CreateChecked(ctx, c, endpoint, doc)
			Expect(get(framework.Get(ctx, c, framework.Path(endpoint, created)), l.path)).To(Equal(v), "%s is stored whole", l)
		})
	})

	framework.It("LIM-002", "a value one character over the maximum is refused with 400 on create", lbl.MUST, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		each(func(l limit) {
			v := value(l, l.max+1)
			if v == "" {
				return
			}
			endpoint, doc := resource(l, v)
			resp := c.Post(ctx, endpoint, doc)
			framework.CleanupCreated(endpoint, resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest), "%s at length %d", l, l.max+1)
		})
	})

	framework.It("LIM-003", "the refusal of an over-long value carries scimType invalidValue", lbl.SHOULD, lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		each(func(l limit) {
			v := value(l, l.max+1)
			if v == "" {
				return
			}
			endpoint, doc := resource(l, v)
			resp := c.Post(ctx, endpoint, doc)
			framework.CleanupCreated(endpoint, resp)
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest, string(scim.InvalidValue)), "%s", l)
		})
	})

	framework.It("LIM-004", "a value one character over the maximum is refused with 400 on PUT", lbl.MUST, lbl.RFC("7644:3.5.1"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		each(func(l limit) {
			v := value(l, l.max+1)
			if v == "" {
				return
			}
			endpoint, doc := resource(l, value(l, l.max))
			created := framework.Create(ctx, c, endpoint, doc)
			repl := created.Clone()
			if sub, ok := strings.CutPrefix(l.path, "name."); ok {
				repl["name"].(map[string]any)[sub] = v
			} else {
				repl[l.path] = v
			}
			Expect(c.Put(ctx, framework.Path(endpoint, created), repl)).To(framework.BeSCIMError(http.StatusBadRequest), "%s", l)
		})
	})

	framework.It("LIM-005", "a value one character over the maximum is refused with 400 on PATCH", lbl.MUST, lbl.NeedsPatch, lbl.RFC("7644:3.5.2"), lbl.RFC("7644:3.12"), func(ctx SpecContext) {
		each(func(l limit) {
			v := value(l, l.max+1)
			if v == "" {
				return
			}
			endpoint, doc := resource(l, value(l, l.max))
			created := framework.Create(ctx, c, endpoint, doc)
			resp := c.Patch(ctx, framework.Path(endpoint, created), framework.PatchOp(framework.Op("replace", l.path, v)))
			Expect(resp).To(framework.BeSCIMError(http.StatusBadRequest), "%s", l)
		})
	})

	framework.It("LIM-006", "a refused over-long create leaves nothing behind", lbl.MUST, lbl.RFC("7644:3.3"), func(ctx SpecContext) {
		each(func(l limit) {
			if l.rt != "User" || l.path != "userName" {
				return
			}
			v := value(l, l.max+1)
			if v == "" {
				return
			}
			_, doc := resource(l, v)
			resp := c.Post(ctx, "/Users", doc)
			framework.CleanupCreated("/Users", resp)
			lr := framework.List(ctx, c, "/Users", "filter", "userName eq "+framework.Quote(v))
			Expect(lr.Total()).To(Equal(0), "no user %q exists", v)
		})
	})
})

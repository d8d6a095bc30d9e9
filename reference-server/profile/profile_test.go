package profile

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/auth"
)

var shipped = []string{"alation", "atlassian", "aws-identity-center", "github-emu", "hcp-terraform", "resolver", "rfc", "slack", "zscaler"}

func TestNames(t *testing.T) {
	if got := Names(); !slices.Equal(got, shipped) {
		t.Fatalf("Names() = %v, want %v", got, shipped)
	}
}

func TestRFCDefaults(t *testing.T) {
	p, err := Get("")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "rfc" || p.Extends != "" || p.NestedGroups != Reject || p.UnknownMembers != Reject || p.Lenient.Any() ||
		!p.Bulk.Supported || p.Bulk.MaxOperations != 1000 || p.Bulk.MaxPayloadSize != 1<<20 || p.MaxResults != 200 ||
		p.DefaultCount != 200 || !p.ETag || !p.Sort || !p.Patch || !p.Filter || p.PatchStatus("Group") != 200 ||
		p.MaxBodyBytes != 1<<20 || p.DiscoveryWithoutAuth || p.UserNameCaseExact || p.GroupDisplayNameCaseExact || p.LimitMode != Reject {
		t.Fatalf("rfc profile %+v", p)
	}
	e := p.Endpoints
	if !e.Me || !e.Search || e.UnsupportedStatus != 501 || e.RequireUserAgent || e.ContentType != "application/scim+json" || e.RequestIDHeader != "" {
		t.Errorf("rfc endpoints %+v", e)
	}
	for _, r := range []*Rules{&p.Users.Rules, &p.Groups.Rules} {
		if !r.Create || !r.Replace || r.Delete != Delete || len(r.Limits) > 0 || len(r.MultiValued) > 0 || len(r.Unsupported) > 0 ||
			len(r.Required) > 0 || r.MaxPatchOperations != 0 || len(r.Filter.Attributes) > 0 || len(r.Filter.Operators) > 0 ||
			!r.Filter.And || !r.Filter.Or || !r.Filter.Not || !r.Filter.ValuePaths ||
			r.Params != (Params{Supported, Supported, Supported, Supported, Supported}) {
			t.Errorf("rfc rules %+v", r)
		}
	}
	if p.Users.Inactive != Visible || p.Groups.ReplaceMembers != Allow || !p.Groups.Members.Returned || p.Groups.Members.HideInactive || p.Groups.MaxMembersPerRequest != 0 {
		t.Errorf("rfc users/groups %+v %+v", p.Users, p.Groups)
	}
	if p.Faults.On() || p.Faults.Seed != 1 {
		t.Errorf("rfc faults %+v", p.Faults)
	}
	// The rfc token policy is auth's default one.
	want := auth.DefaultPolicy()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Tokens, want) {
		t.Errorf("rfc tokens %+v, want %+v", p.Tokens, want)
	}
}

func TestShippedProfiles(t *testing.T) {
	rows, err := Table()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(shipped) {
		t.Fatalf("Table has %d rows, want %d", len(rows), len(shipped))
	}
	for _, r := range rows {
		if r.Emulates == "" || len(r.Sources) == 0 || r.Description == "" {
			t.Errorf("%s: every profile states what it emulates, its sources and a description: %+v", r.Name, r)
		}
	}
	md := Markdown(rows)
	for _, n := range shipped {
		if !strings.Contains(md, "| `"+n+"` |") {
			t.Errorf("Markdown lacks %s:\n%s", n, md)
		}
		p, err := Get(n)
		if err != nil {
			t.Fatalf("Get(%s): %v", n, err)
		}
		if n != "rfc" && p.Extends != "rfc" {
			t.Errorf("%s extends %q", n, p.Extends)
		}
		// Validate is idempotent: the server validates again.
		c := p.Clone()
		if err := c.Validate(); err != nil || !reflect.DeepEqual(c, p) {
			t.Errorf("%s: second Validate changed the profile or failed (%v):\n%+v\n%+v", n, err, c, p)
		}
		if p.Lenient.Any() && n != "rfc" {
			t.Errorf("%s: leniency is for --lenient, not for a target profile", n)
		}
	}
}

// The token policies in the YAML files match auth's built-in ones, which
// the token command used before profiles were data.
func TestTokensMatchAuthBuiltins(t *testing.T) {
	for _, name := range auth.PolicyNames() {
		want, err := auth.BuiltinPolicy(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := want.Validate(); err != nil {
			t.Fatal(err)
		}
		p, err := Get(name)
		if err != nil {
			t.Fatalf("auth has a policy for %q but no profile answers to it: %v", name, err)
		}
		if !reflect.DeepEqual(p.Tokens, want) {
			t.Errorf("%s: profile tokens %+v, auth's %+v", name, p.Tokens, want)
		}
	}
}

func TestTargetKnobs(t *testing.T) {
	get := func(n string) *Profile {
		p, err := Get(n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := get("alation")
	if a.Users.Limits["userName"] != 150 || a.Users.Limits["name.givenName"] != 150 || a.Users.Limits["emails.value"] != 254 ||
		a.Users.Limits["displayName"] != 200 || a.Groups.Limits["displayName"] != 1000 || a.Users.MultiValued["emails"] != KeepOne ||
		!slices.Contains(a.Users.Unsupported, "title") || a.NestedGroups != Ignore || !a.Groups.Members.HideInactive ||
		!a.UserNameCaseExact || !a.GroupDisplayNameCaseExact || a.Tokens.Basic == nil || a.Tokens.Basic.MinLength != 17 ||
		a.Tokens.Rotation != auth.RotationReplace || len(a.Tokens.Lifespans) != 6 {
		t.Errorf("alation %+v", a)
	}
	w := get("AWS")
	if w.Name != "aws-identity-center" || w.Bulk.Supported || w.Endpoints.Me || w.Endpoints.Search || w.Endpoints.UnsupportedStatus != 400 ||
		w.Users.Params.StartIndex != Reject || w.Users.Params.Attributes != Reject || w.Users.Params.ExcludedAttributes != Reject ||
		w.Groups.Params.StartIndex != Reject || w.Groups.Params.Attributes != Reject ||
		w.Tokens.RotationScope != auth.ScopeStore ||
		!slices.Equal(w.Users.Filter.Operators, []string{"eq"}) || w.Users.Filter.Or || !w.Users.Filter.And ||
		!slices.Contains(w.Users.Filter.Attributes, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager") ||
		w.Users.MultiValued["emails"] != Reject || w.Groups.MaxMembersPerRequest != 100 || w.Tokens.MaxActive != 2 ||
		w.MaxResults != 100 || w.DefaultCount != 100 || w.Users.Params.SortBy != Ignore || w.Groups.Members.Returned {
		t.Errorf("aws %+v", w)
	}
	r := get("resolver")
	if r.Groups.Create || r.Groups.Delete != Refuse || !r.Tokens.RequireAccount || !r.Tokens.EmailDomains || r.Tokens.DefaultLifespan != auth.Days(730) {
		t.Errorf("resolver %+v", r)
	}
	s := get("slack")
	if s.Users.Delete != Deactivate || s.Groups.Delete != Delete || s.MaxResults != 1000 || s.DefaultCount != 10 ||
		math.Abs(s.Faults.RateLimit.PerSecond*60-1000) > 1e-9 || s.Faults.WriteRateLimit.Burst != 180 || s.Faults.RateLimit.Scope != ScopeServer {
		t.Errorf("slack %+v", s)
	}
	at := get("atlassian")
	if at.Users.Delete != Deactivate || at.Users.Inactive != NotFound || at.Sort || at.Users.Filter.And {
		t.Errorf("atlassian %+v", at)
	}
	if len(w.Users.Refused) != 0 || !slices.Equal(w.Users.Patch.Refused, []string{"password", "ims", "photos", "entitlements", "x509Certificates"}) || !slices.Contains(w.Users.Unsupported, "password") || !slices.Equal(w.Users.Patch.OnceOnly, []string{"userName", "active"}) ||
		w.Users.Patch.RemovePolicy("active") != Reject || w.Users.Patch.RemovePolicy("userName") != Reject || w.Users.Patch.RemovePolicy("nickName") != Allow {
		t.Errorf("aws PATCH rules %+v refused %v", w.Users.Patch, w.Users.Refused)
	}
	if h := get("hcp-terraform"); h.Groups.MaxPatchOperations != 100 || h.Users.Filter.Attributes[0] != "userName" ||
		!h.Groups.Patch.CaseInsensitiveOps || !h.Users.Patch.CaseInsensitiveOps || !h.Users.Patch.AddAsReplace || h.Groups.Patch.AddAsReplace ||
		h.Users.Patch.RemovePolicy("externalId") != Allow || h.Users.Patch.RemovePolicy("displayName") != Reject || h.Users.Patch.RemovePolicy("emails.value") != Ignore {
		t.Errorf("hcp %+v", h)
	}
	if g := get("github-emu"); !g.Endpoints.RequireUserAgent {
		t.Errorf("github %+v", g)
	}
	if z := get("zscaler"); !z.DiscoveryWithoutAuth || z.Faults.RateLimit.PerSecond != 5 {
		t.Errorf("zscaler %+v", z)
	}
}

func TestGetUnknown(t *testing.T) {
	_, err := Get("okta-server")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "alation, atlassian, aws-identity-center") {
		t.Fatalf("err = %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	p, _ := Get("alation")
	c := p.Clone()
	c.Users.Limits["userName"] = 1
	c.Users.Unsupported[0] = "x"
	c.Tokens.Basic.MinLength = 3
	c.Tokens.Lifespans[0].Label = "x"
	c.Sources[0] = "x"
	if p.Users.Limits["userName"] != 150 || p.Users.Unsupported[0] != "title" || p.Tokens.Basic.MinLength != 17 || p.Tokens.Lifespans[0].Label != "1 month" || p.Sources[0] == "x" {
		t.Errorf("Clone shares data: %+v", p)
	}
}

func TestWithLenient(t *testing.T) {
	p, _ := Get("rfc")
	l := p.WithLenient()
	want := Lenient{true, true, true, true, true, true}
	if l.Lenient != want || l.Name != "rfc+lenient" || l.UnknownMembers != Ignore || p.Lenient.Any() || p.UnknownMembers != Reject {
		t.Errorf("WithLenient %+v (original %+v)", l, p)
	}
	if l.WithLenient().Name != "rfc+lenient" {
		t.Error("WithLenient twice")
	}
	if g, err := Get("AWS+lenient"); err != nil || g.Name != "aws-identity-center+lenient" || !g.Lenient.DottedKeys {
		t.Errorf("Get(AWS+lenient) = %+v, %v", g, err)
	}
	if p.PatchStatus("User") != 200 {
		t.Error("patch status")
	}
	p.GroupPatchResponse = "204"
	if p.PatchStatus("Group") != 204 || p.PatchStatus("User") != 200 {
		t.Error("group patch status")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		field string
		bad   func(*Profile)
	}{
		{"patchResponse", func(p *Profile) { p.PatchResponse = "201" }},
		{"nestedGroups", func(p *Profile) { p.NestedGroups = "maybe" }},
		{"unknownMembers", func(p *Profile) { p.UnknownMembers = Allow }},
		{"groupPatchResponse", func(p *Profile) { p.GroupPatchResponse = "x" }},
		{"limitMode", func(p *Profile) { p.LimitMode = "cut" }},
		{"defaultCount", func(p *Profile) { p.DefaultCount = -5 }},
		{"endpoints.unsupportedStatus", func(p *Profile) { p.Endpoints.UnsupportedStatus = 418 }},
		{"endpoints.contentType", func(p *Profile) { p.Endpoints.ContentType = "text/plain" }},
		{"users.limits.name.givnName", func(p *Profile) { p.Users.Limits = map[string]int{"name.givnName": 3} }},
		{"users.limits.active", func(p *Profile) { p.Users.Limits = map[string]int{"active": 3} }},
		{"users.limits.userName", func(p *Profile) { p.Users.Limits = map[string]int{"userName": -3} }},
		{"users.multiValued.displayName", func(p *Profile) { p.Users.MultiValued = map[string]string{"displayName": KeepOne} }},
		{"users.multiValued.emails", func(p *Profile) { p.Users.MultiValued = map[string]string{"emails": "some"} }},
		{"groups.multiValued.members", func(p *Profile) { p.Groups.MultiValued = map[string]string{"members": KeepOne} }},
		{"users.unsupported[0]", func(p *Profile) { p.Users.Unsupported = []string{"userName"} }},
		{"users.required[0]", func(p *Profile) { p.Users.Required = []string{"groups"} }},
		{"users.required", func(p *Profile) { p.Users.Required = []string{"title"}; p.Users.Unsupported = []string{"title"} }},
		{"users.filter.attributes[1]", func(p *Profile) { p.Users.Filter.Attributes = []string{"userName", "nope"} }},
		{"users.filter.operators[0]", func(p *Profile) { p.Users.Filter.Operators = []string{"like"} }},
		{"users.patch.pathOperators[1]", func(p *Profile) { p.Users.Patch.PathOperators = []string{"eq", "like"} }},
		{"users.params.startIndex", func(p *Profile) { p.Users.Params.StartIndex = "maybe" }},
		{"groups.params.sortBy", func(p *Profile) { p.Sort = false; p.Groups.Params.SortBy = "maybe" }},
		{"users.delete", func(p *Profile) { p.Users.Delete = "archive" }},
		{"groups.delete", func(p *Profile) { p.Groups.Delete = Deactivate }},
		{"users.inactive", func(p *Profile) { p.Users.Inactive = "hidden" }},
		{"groups.replaceMembers", func(p *Profile) { p.Groups.ReplaceMembers = "sometimes" }},
		{"groups.maxMembersPerRequest", func(p *Profile) { p.Groups.MaxMembersPerRequest = -1 }},
		{"tokens", func(p *Profile) { p.Tokens.Rotation = "daily" }},
		{"faults.errorRate", func(p *Profile) { p.Faults.ErrorRate = 2 }},
		{"faults.errorStatuses[0]", func(p *Profile) { p.Faults.ErrorStatuses = []int{429} }},
		{"faults.rateLimit", func(p *Profile) { p.Faults.RateLimit = RateLimit{PerSecond: 1, PerMinute: 3} }},
		{"faults.rateLimit.scope", func(p *Profile) { p.Faults.RateLimit = RateLimit{PerSecond: 1, Scope: "ip"} }},
		{"faults.latency", func(p *Profile) { p.Faults.Latency = -1 }},
		{"users.refused[0]", func(p *Profile) { p.Users.Refused = []string{"userName"} }},
		{"users.refused[1]", func(p *Profile) { p.Users.Refused = []string{"password", "pasword"} }},
		{"users.required", func(p *Profile) { p.Users.Required = []string{"title"}; p.Users.Refused = []string{"title"} }},
		{"users.patch.onceOnly[0]", func(p *Profile) { p.Users.Patch.OnceOnly = []string{"nope"} }},
		{"users.patch.remove.nope", func(p *Profile) { p.Users.Patch.Remove = map[string]string{"nope": Reject} }},
		{"users.patch.remove.active", func(p *Profile) { p.Users.Patch.Remove = map[string]string{"active": "never"} }},
		{"users.patch.remove.*", func(p *Profile) { p.Users.Patch.Remove = map[string]string{AnyRemove: Refuse} }},
		{"groups.patch.addAsReplace", func(p *Profile) { p.Groups.Patch.AddAsReplace = true; p.Groups.ReplaceMembers = Reject }},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			p, _ := Get("rfc")
			c.bad(p)
			err := p.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Fatalf("Validate() = %v, want an error naming %s", err, c.field)
			}
		})
	}
}

func TestSortByFollowsSort(t *testing.T) {
	p, _ := Get("rfc")
	p.Sort = false
	if err := p.Validate(); err != nil || p.Users.Params.SortBy != Ignore {
		t.Fatalf("%v %q", err, p.Users.Params.SortBy)
	}
	p.Groups.Params.SortBy = Reject
	p.Sort = true
	if err := p.Validate(); err != nil || p.Groups.Params.SortBy != Supported {
		t.Fatalf("%v %q", err, p.Groups.Params.SortBy)
	}
}

func TestValidateCanonicalPaths(t *testing.T) {
	p, _ := Get("rfc")
	p.Users.Limits = map[string]int{"USERNAME": 10, "name.GivenName": 5, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Department": 20, "title": 0}
	p.Users.MultiValued = map[string]string{"Emails": KeepOne}
	p.Users.Filter.Attributes = []string{"urn:ietf:params:scim:schemas:core:2.0:User:userName", "userName", "EMAILS.VALUE"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"userName": 10, "name.givenName": 5, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": 20}
	if !reflect.DeepEqual(p.Users.Limits, want) || p.Users.MultiValued["emails"] != KeepOne || !slices.Equal(p.Users.Filter.Attributes, []string{"userName", "emails.value"}) {
		t.Errorf("canonical: %v %v %v", p.Users.Limits, p.Users.MultiValued, p.Users.Filter.Attributes)
	}
}

// A refused attribute is unsupported too, so that discovery leaves it out;
// PATCH rule paths take the schema's spelling.
func TestPatchRulesValidate(t *testing.T) {
	p, _ := Get("rfc")
	p.Users.Refused = []string{"PASSWORD"}
	p.Users.Patch.OnceOnly = []string{"USERNAME", "urn:ietf:params:scim:schemas:core:2.0:User:active"}
	p.Users.Patch.Remove = map[string]string{AnyRemove: Reject, "ExternalId": Allow, "EMAILS": Ignore, "name.GivenName": Ignore}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Users.Refused, []string{"password"}) || !slices.Equal(p.Users.Unsupported, []string{"password"}) ||
		!slices.Equal(p.Users.Patch.OnceOnly, []string{"userName", "active"}) ||
		!reflect.DeepEqual(p.Users.Patch.Remove, map[string]string{AnyRemove: Reject, "externalId": Allow, "emails": Ignore, "name.givenName": Ignore}) {
		t.Errorf("validated: refused %v unsupported %v patch %+v", p.Users.Refused, p.Users.Unsupported, p.Users.Patch)
	}
	for path, want := range map[string]string{
		"externalId": Allow, "emails": Ignore, "emails.value": Ignore, "name.givenName": Ignore,
		"name": Reject, "name.familyName": Reject, "displayName": Reject, "externalIdX": Reject,
	} {
		if got := p.Users.Patch.RemovePolicy(path); got != want {
			t.Errorf("RemovePolicy(%s) = %s, want %s", path, got, want)
		}
	}
	if got := (PatchRules{Remove: map[string]string{"active": Reject}}).RemovePolicy("title"); got != Allow {
		t.Errorf("without \"*\" an attribute not listed is %s", got)
	}
	if a, ok := Covers([]string{"name", "active"}, "name.givenName"); !ok || a != "name" {
		t.Errorf("Covers: %s %v", a, ok)
	}
	c := p.Clone()
	c.Users.Refused[0], c.Users.Patch.OnceOnly[0], c.Users.Patch.Remove["emails"] = "x", "x", Reject
	if p.Users.Refused[0] != "password" || p.Users.Patch.OnceOnly[0] != "userName" || p.Users.Patch.Remove["emails"] != Ignore {
		t.Errorf("Clone shares the PATCH rules: %+v", p.Users)
	}
	if (PatchRules{}).Empty() != true || p.Users.Patch.Empty() || (PatchRules{CaseInsensitiveOps: true}).Empty() {
		t.Error("Empty")
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestLoad(t *testing.T) {
	t.Run("extends and merges", func(t *testing.T) {
		f := writeFile(t, `name: mine
extends: alation
users:
  limits: {userName: 64, displayName: 0}
tokens:
  rotation: none
`)
		p, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if p.Extends != "alation" || p.Users.Limits["userName"] != 64 || p.Users.Limits["name.givenName"] != 150 {
			t.Errorf("limits %v", p.Users.Limits)
		}
		if _, ok := p.Users.Limits["displayName"]; ok {
			t.Error("a limit of 0 lifts the base's limit")
		}
		if p.Users.MultiValued["emails"] != KeepOne || p.NestedGroups != Ignore {
			t.Errorf("inherited knobs lost: %+v", p)
		}
		// tokens replaces the whole policy: no lifespans, no basic.
		if p.Tokens.Rotation != auth.RotationNone || p.Tokens.Basic != nil || len(p.Tokens.Lifespans) != 0 {
			t.Errorf("tokens %+v", p.Tokens)
		}
		if p.Emulates != "" || len(p.Sources) != 0 {
			t.Error("a profile does not inherit who it is")
		}
	})
	t.Run("default base is rfc", func(t *testing.T) {
		p, err := Load(writeFile(t, "name: mine\nsort: false\n"))
		if err != nil || p.Extends != "rfc" || p.Sort || p.Users.Params.SortBy != Ignore || !p.Bulk.Supported {
			t.Fatalf("%+v %v", p, err)
		}
	})
	errCases := []struct{ name, body, want string }{
		{"unknown top key", "name: mine\nmaxResult: 5\n", `line 2: unknown key "maxResult"`},
		{"unknown nested key", "name: mine\nusers:\n  limits: {userName: 5}\n  limitz: 3\n", `line 4: unknown key "limitz" (in users)`},
		{"wrong type", "name: mine\nmaxResults: lots\n", "line 2: maxResults: cannot unmarshal"},
		{"validation names field and line", "name: mine\nusers:\n  limits:\n    userName: 5\n    name.givnName: 3\n", `line 5: users.limits.name.givnName: User has no attribute "name.givnName"`},
		{"enum", "name: mine\ngroups:\n  delete: deactivate\n", "line 3: groups.delete: must be delete or refuse"},
		{"no name", "sort: false\n", "name is missing"},
		{"unknown base", "name: mine\nextends: okta\n", `line 2: extends: unknown profile "okta" (known: alation`},
		{"empty", "", "the file is empty"},
		{"not a mapping", "- a\n- b\n", "is a YAML mapping"},
		{"two documents", "name: a\n---\nname: b\n", "one YAML document"},
		{"bad duration", "name: mine\nfaults: {latency: soon}\n", "invalid duration"},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			f := writeFile(t, c.body)
			_, err := Load(f)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), f) {
				t.Fatalf("Load error %v, want it to name %s and contain %q", err, f, c.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); err == nil {
		t.Error("missing file")
	}
}

func TestParse(t *testing.T) {
	p, err := Parse([]byte("name: mine\nextends: slack\n"), "inline")
	if err != nil || p.MaxResults != 1000 || p.Users.Delete != Deactivate {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestResolve(t *testing.T) {
	p, err := Resolve("", "", false, FaultFlags{})
	if err != nil || p.Name != "rfc" {
		t.Fatalf("%v %v", p, err)
	}
	p, err = Resolve("aws", "", true, FaultFlags{ErrorRate: "5%", RateLimit: "10/s:20", Latency: "20ms", Timeout: "2s", Seed: "42"})
	if err != nil {
		t.Fatal(err)
	}
	f := p.Faults
	if p.Name != "aws-identity-center+lenient" || !p.Lenient.UnknownSchemas || f.ErrorRate != 0.05 || f.RateLimit.PerSecond != 10 || f.RateLimit.Burst != 20 ||
		f.Latency.D().Milliseconds() != 20 || f.Timeout.D().Seconds() != 2 || f.Seed != 42 {
		t.Errorf("resolved %+v", p)
	}
	// --rate-limit off removes the profile's limits.
	p, err = Resolve("slack", "", false, FaultFlags{RateLimit: "off"})
	if err != nil || p.Faults.RateLimit.On() || p.Faults.WriteRateLimit.On() {
		t.Errorf("%+v %v", p.Faults, err)
	}
	file := writeFile(t, "name: mine\nusers: {delete: deactivate}\n")
	p, err = Resolve("slack", file, false, FaultFlags{})
	if err != nil || p.Extends != "slack" || p.MaxResults != 1000 {
		t.Errorf("file over --profile: %+v %v", p, err)
	}
	if _, err := Resolve("alation", writeFile(t, "name: mine\nextends: slack\n"), false, FaultFlags{}); err == nil || !strings.Contains(err.Error(), "drop one") {
		t.Errorf("conflicting bases: %v", err)
	}
	if _, err := Resolve("nope", "", false, FaultFlags{}); err == nil || !strings.Contains(err.Error(), "known: alation") {
		t.Errorf("unknown: %v", err)
	}
	for _, ff := range []FaultFlags{{ErrorRate: "lots"}, {ErrorRate: "150%"}, {RateLimit: "fast"}, {RateLimit: "10/d"}, {RateLimit: "10/s:0"}, {Latency: "-1s"}, {Timeout: "x"}, {Seed: "1.5"}} {
		if _, err := Resolve("rfc", "", false, ff); err == nil || !strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: err = %v, want one naming the flag", ff, err)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	cases := []struct {
		in        string
		perSecond float64
		burst     int
	}{
		{"10", 10, 10}, {"10/s:20", 10, 20}, {"600/m:180", 10, 180}, {"3600/h", 1, 1}, {"0.5/s", 0.5, 1}, {"off", 0, 0}, {"2.5", 2.5, 3},
	}
	for _, c := range cases {
		r, err := ParseRateLimit(c.in)
		if err != nil || r.PerSecond != c.perSecond || r.Burst != c.burst {
			t.Errorf("ParseRateLimit(%q) = %+v, %v", c.in, r, err)
		}
	}
	r, _ := ParseRateLimit("10/s:20")
	if r.String() != "10/s:20" || (RateLimit{}).String() != "off" {
		t.Errorf("String %q", r.String())
	}
	if v, err := ParseErrorRate("0.25"); err != nil || v != 0.25 {
		t.Error(v, err)
	}
}

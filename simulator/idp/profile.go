// Package idp describes how a real IdP provisions a SCIM target: the request
// shapes, lookup filters, paging, update and deactivation forms, group push
// forms, op casing, booleans, member objects, retry and rate-limit policy,
// timeout and concurrency of Okta, Entra ID and their variants, PingFederate,
// OneLogin, SailPoint and JumpCloud.
//
// A profile is data (fixtures/idps/<name>.yaml, embedded in the binary); the
// few body shapes that are truly IdP-specific live in one small Dialect per
// IdP family (okta.go, entra.go, and rfc.go for the IdPs whose bodies are
// undocumented and so take RFC 7643's shapes). Adding an IdP that behaves like an existing
// family means adding a YAML file. The facts behind every knob are in
// docs/idp-traffic.md Part 1, cited as "§1.1 row 6" (a row of that section's
// sequence table) or "B15" (Part 3).
package idp

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimlab/scimlab/fixtures"
)

// Step is one kind of exchange in a simulation. Each step has one check per
// run, and a profile says which statuses the IdP accepts for it (Expect).
type Step string

// The steps of the simulator's scenarios.
const (
	StepTestConnection Step = "test-connection" // the admin's "Test Connection" button
	StepLookupUser     Step = "lookup-user"     // GET /Users?filter=… before a create
	StepCreateUser     Step = "create-user"     // POST /Users
	StepGetUser        Step = "get-user"        // GET /Users/{id} before a PUT, or before a PATCH (Entra)
	StepGetGroup       Step = "get-group"       // GET /Groups/{id} before a later PATCH of the group (Entra)
	StepUpdateUser     Step = "update-user"     // profile change, rename, email change
	StepDeactivate     Step = "deactivate"      // active=false
	StepDeactivateAdd  Step = "deactivate-add"  // active=false sent with op "Add" (Entra, B4)
	StepReactivate     Step = "reactivate"      // active=true
	StepDeleteUser     Step = "delete-user"     // DELETE /Users/{id}
	StepReprovision    Step = "reprovision"     // assigning a deactivated or deleted user again (B15)
	StepLookupGroup    Step = "lookup-group"    // GET /Groups?filter=displayName eq …
	StepCreateGroup    Step = "create-group"    // POST /Groups
	StepMembers        Step = "members"         // membership adds and removes
	StepMemberReadd    Step = "member-readd"    // adding a member the group already has (B18)
	StepReplaceMembers Step = "replace-members" // replace of the whole member list (B12)
	StepRenameGroup    Step = "rename-group"    // displayName change
	StepDeleteGroup    Step = "delete-group"    // DELETE /Groups/{id}
	StepImport         Step = "import"          // paged read of every user and group
	StepEdgeCases      Step = "edge-cases"      // case twins and long values
	StepEndState       Step = "end-state"       // read-back of the target after the run
	StepScenario       Step = "scenario"        // the run as a whole: recorded when it stops before its last phase
)

// Steps lists every step in the order reports show them.
var Steps = []Step{
	StepTestConnection, StepLookupUser, StepCreateUser, StepLookupGroup, StepCreateGroup, StepGetGroup, StepMembers,
	StepImport, StepGetUser, StepUpdateUser, StepDeactivate, StepDeactivateAdd, StepReactivate, StepMemberReadd,
	StepReplaceMembers, StepRenameGroup, StepDeleteGroup, StepDeleteUser, StepReprovision, StepEdgeCases, StepEndState,
	StepScenario,
}

func knownStep(s Step) bool {
	for _, k := range Steps {
		if k == s {
			return true
		}
	}
	return false
}

// Header is one request header, kept in the order the profile lists it.
type Header struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// Probe is one request of a test connection. Query may hold {guid}, replaced
// by a random GUID drawn from the seed.
type Probe struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	Query  string `yaml:"query"`
	// Empty says the probe's filter matches nothing, so the IdP needs an
	// empty ListResponse (Entra: 200 empty list, never 404, §1.2 row 1).
	Empty bool `yaml:"empty"`
	// Answer is what the probe needs back: "list" (the default, a
	// ListResponse) or "resource" (one JSON object with its schemas, as
	// /ServiceProviderConfig and /ResourceTypes/User answer, RFC 7644 §4;
	// SailPoint, §1.4).
	Answer string `yaml:"answer"`
	// Create, instead of Method and Path, makes the probe create a test
	// "user" or "group" that the test connection deletes again after its
	// last probe (JumpCloud, §1.7).
	Create string `yaml:"create"`
}

// Probe answers.
const (
	AnswerList     = "list"
	AnswerResource = "resource"
)

// Lookup holds the queries an IdP sends to find a resource before creating it.
// A 404 (with an Error body) counts as "no match" when the step's Expect
// lists it (Okta, §1.1 row 2); otherwise the IdP needs a ListResponse.
// {userName} and {displayName} are replaced by the value, escaped as a filter
// string (RFC 7644 §3.4.2.2) and then percent-encoded with %20 for spaces.
type Lookup struct {
	Users  string `yaml:"users"`
	Groups string `yaml:"groups"`
	// Spaces is how a filled-in value encodes a space: "%20" (the default,
	// §1.1 row 2) or "+" (form encoding, as OneLogin's log shows, §1.6).
	Spaces string `yaml:"spaces"`
	// ListGroups, when set, replaces the Groups filter: the IdP reads
	// /Groups page by page and matches displayName itself (PingFederate,
	// §1.3: "retrieving all groups and finding a match").
	ListGroups *Listing `yaml:"listGroups"`
}

// Listing is a paged read the IdP stops when it finds what it looks for.
type Listing struct {
	// Count is the page size asked for; 0 sends no count, so the target
	// chooses (RFC 7644 §3.4.2.4), and startIndex moves on by the number of
	// resources each page held.
	Count int `yaml:"count"`
}

// Paging is how an IdP reads every resource of the target (import). The
// IdP asks for count=PageSize and adds PageSize to startIndex while it is
// below totalResults (Okta, §1.1 row 15).
type Paging struct {
	PageSize int `yaml:"pageSize"`
	// StartsWith adds an aggregation with an admin's filter, userName sw
	// "<prefix>" (SailPoint, §1.4, SP-AGG).
	StartsWith bool `yaml:"startsWith"`
	// Delta adds a delta aggregation: meta.lastModified gt "<time>", and
	// the admin's filter with "and" when StartsWith is set (SailPoint, §1.4).
	Delta bool `yaml:"delta"`
}

// ExternalIDs names the directory field an IdP sends as externalId:
// "oktaId", "mailNickname", "objectId" or "" (none).
type ExternalIDs struct {
	Users  string `yaml:"users"`
	Groups string `yaml:"groups"`
}

// Update styles for users and groups.
const (
	GetPut = "get-put" // GET the resource, then PUT it back with the changes merged in
	Patch  = "patch"   // PATCH
	Put    = "put"     // PUT the full resource as the IdP holds it, without reading it first
)

// UserPolicy is how an IdP changes users.
type UserPolicy struct {
	// Update is GetPut, Put (rfc family) or Patch.
	Update string `yaml:"update"`
	// Activation (deactivate and reactivate) is GetPut, Put (rfc family) or Patch.
	Activation string `yaml:"activation"`
	// Delete says whether the IdP ever sends DELETE /Users/{id}.
	Delete bool `yaml:"delete"`
	// Reprovision is how a deactivated user is assigned again:
	// ReprovisionLookup (the default) or ReprovisionPost.
	Reprovision string `yaml:"reprovision"`
	// GetBeforePatch reads a user by the id the IdP holds (GET
	// /Users/{id}) before an update PATCH, and sends the PATCH only when
	// the read answers 200 with the user (Entra, §1.2 row 5). Only with
	// update: patch (get-put reads the user already).
	GetBeforePatch bool `yaml:"getBeforePatch"`
	// DeactivateAdd sends the first deactivation of the deactivate phase as
	// {"op":"Add","path":"active","value":…} instead of the profile's
	// replace (Entra field reports, §1.2 row 7, B4). Needs activation: patch.
	DeactivateAdd bool `yaml:"deactivateAdd"`
}

// Reprovision styles.
const (
	// ReprovisionLookup looks the user up by userName and links a match
	// (then reactivates it), or POSTs the user when none is found.
	ReprovisionLookup = "lookup"
	// ReprovisionPost brings the user back under a new userName: the lookup
	// finds nothing and the IdP POSTs the user with the externalId its
	// deactivated resource carries (Okta, idp-traffic.md §1.1
	// "Re-provision after deactivation", B15).
	ReprovisionPost = "post"
)

// GroupPolicy is how an IdP pushes groups.
type GroupPolicy struct {
	// Update is Patch or Put (the full group with every member).
	Update string `yaml:"update"`
	// RenameOnMembership sends a rename with every membership change (Okta, §1.1 row 13).
	RenameOnMembership bool `yaml:"renameOnMembership"`
	// MixedMembership puts removes and adds in one request (Okta, §1.1 row 12);
	// otherwise adds and removes go in separate requests.
	MixedMembership bool `yaml:"mixedMembership"`
	// ReplaceMembers says the IdP also pushes a full member list with
	// replace on "members" (Okta, §1.1 row 12b, B12).
	ReplaceMembers bool `yaml:"replaceMembers"`
	// BatchSize is the most membership changes in one request.
	BatchSize int `yaml:"batchSize"`
	// GetBeforePatch reads a group by the id the IdP holds (GET
	// /Groups/{id}?GetQuery) before each PATCH of a later cycle: membership
	// churn, a member re-add, a rename (Entra, §1.2 row 11). The PATCH is
	// sent only when the read answers 200 with the group. Only with
	// update: patch.
	GetBeforePatch bool `yaml:"getBeforePatch"`
	// GetQuery is the query of that read, e.g. "excludedAttributes=members".
	GetQuery string `yaml:"getQuery"`
}

// PATCH style values.
const (
	OpLower       = "lower"       // "add", "replace", "remove"
	OpCapitalised = "capitalised" // "Add", "Replace", "Remove" (Entra, B3)

	BoolJSON   = "json"   // true / false
	BoolString = "string" // "True" / "False" (Entra, B2)

	AttrsPerAttribute = "per-attribute" // one op per attribute, with a path (Entra default, §1.2 row 6)
	AttrsMerged       = "merged"        // one path-less replace with dotted keys (Entra flag, §1.2 row 6f)

	RemoveFilter    = "filter"     // {"op":"remove","path":"members[value eq \"id\"]"}
	RemoveValueList = "value-list" // {"op":"Remove","path":"members","value":[{"value":"id"}]} (B6)
)

// PatchStyle is the shape of an IdP's PATCH requests.
type PatchStyle struct {
	OpCase       string `yaml:"opCase"`
	Booleans     string `yaml:"booleans"`
	Attributes   string `yaml:"attributes"`
	MemberRemove string `yaml:"memberRemove"`
}

// Retry is an IdP's answer to 429 Too Many Requests.
type Retry struct {
	// On429 retries a 429 at all.
	On429 bool `yaml:"on429"`
	// HonourRetryAfter waits exactly an integer Retry-After; any other form
	// (HTTP-date, fraction, empty) falls back to DefaultWait (Okta, §1.1).
	HonourRetryAfter bool `yaml:"honourRetryAfter"`
	// DefaultWait is the first pause when Retry-After is missing or unusable.
	DefaultWait time.Duration `yaml:"defaultWait"`
	// Backoff multiplies the previous pause, whether it came from
	// Retry-After or DefaultWait, for each further 429 without a usable
	// Retry-After (Okta: 2); a usable Retry-After is always honoured
	// exactly (see Retry.Wait for the reading of §1.1).
	Backoff float64 `yaml:"backoff"`
	// MaxAttempts is the most tries of one request, the first included (Okta: 10).
	MaxAttempts int `yaml:"maxAttempts"`
	// Header is the response header whose integer seconds HonourRetryAfter
	// reads: Retry-After by default, x-rate-limit-retry-after-seconds for
	// SailPoint, which ignores Retry-After (§1.4).
	Header string `yaml:"header"`
}

// Profile is one IdP's behaviour as a file describes it.
type Profile struct {
	Name string `yaml:"name"`
	// Aliases are other names LoadIdP accepts ("okta" for okta-oin).
	Aliases []string `yaml:"aliases"`
	// Family picks the Dialect: "okta", "entra" or "rfc".
	Family string `yaml:"family"`
	Title  string `yaml:"title"`
	// Level names the IdP in check levels: "IDP:<Level>".
	Level string `yaml:"level"`
	// CheckPrefix starts every check ID, e.g. "SIM-OKTA" for SIM-OKTA-CREATE-USER.
	CheckPrefix string   `yaml:"checkPrefix"`
	Sources     []string `yaml:"sources"`

	// Headers go on every request, BodyHeaders on requests with a body.
	Headers     []Header `yaml:"headers"`
	BodyHeaders []Header `yaml:"bodyHeaders"`
	// ResponseTypes are the response media types the IdP reads as SCIM.
	ResponseTypes []string `yaml:"responseTypes"`

	// Timeout is how long the IdP waits for one response.
	Timeout     time.Duration `yaml:"timeout"`
	Concurrency int           `yaml:"concurrency"`
	Retry       Retry         `yaml:"retry"`

	TestConnection []Probe     `yaml:"testConnection"`
	Lookup         Lookup      `yaml:"lookup"`
	Import         *Paging     `yaml:"import"`
	ExternalID     ExternalIDs `yaml:"externalId"`
	Users          UserPolicy  `yaml:"users"`
	Groups         GroupPolicy `yaml:"groups"`
	Patch          PatchStyle  `yaml:"patch"`
	// UserSchemas are the schemas a user body of the rfc family carries
	// (default: the core User schema). OneLogin's admin-written template
	// sends non-RFC URNs (§1.6).
	UserSchemas []string `yaml:"userSchemas"`
	// Expect lists, per step, the statuses the IdP takes as success.
	Expect map[Step][]int `yaml:"expect"`
	// URLFlags maps a query parameter of the target URL to the profile it
	// switches to (Entra reads aadOptscim062020 from the Tenant URL, §1.2).
	URLFlags map[string]string `yaml:"urlFlags"`
}

// IdP is a loaded profile with its dialect: everything needed to build the
// IdP's requests.
type IdP struct {
	Profile
	dialect Dialect
}

// Accepts reports whether status is a success of step for this IdP.
func (p *IdP) Accepts(step Step, status int) bool {
	for _, s := range p.Expect[step] {
		if s == status {
			return true
		}
	}
	return false
}

// Statuses returns the statuses the IdP accepts for step.
func (p *IdP) Statuses(step Step) []int { return p.Expect[step] }

// dir is where the embedded profiles live.
const dir = "idps"

// Names lists the built-in IdP profile names, sorted.
func Names() []string {
	return fixtures.YAMLNames(fixtures.IdPs, dir)
}

// ErrUnknown is returned (wrapped) by LoadIdP for a name no profile has.
var ErrUnknown = errors.New("unknown IdP")

// LoadIdP returns the built-in profile with this name or alias (case-insensitive).
func LoadIdP(name string) (*IdP, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	for _, n := range Names() {
		b, err := fs.ReadFile(fixtures.IdPs, path.Join(dir, n+".yaml"))
		if err != nil {
			return nil, err
		}
		if want == n {
			return parse(b, n+".yaml")
		}
		var head struct {
			Aliases []string `yaml:"aliases"`
		}
		if yaml.Unmarshal(b, &head) == nil {
			for _, a := range head.Aliases {
				if strings.EqualFold(a, want) {
					return parse(b, n+".yaml")
				}
			}
		}
	}
	return nil, fmt.Errorf("idp: %w %q (known: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// LoadIdPFile reads a profile from a YAML file of the user's own.
func LoadIdPFile(file string) (*IdP, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	return parse(b, file)
}

// Parse reads a profile from YAML; source names it in errors.
func Parse(b []byte, source string) (*IdP, error) { return parse(b, source) }

func parse(b []byte, source string) (*IdP, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("idp: %s: %w", source, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("idp: %s: %w", source, err)
	}
	d, err := newDialect(&p)
	if err != nil {
		return nil, fmt.Errorf("idp: %s: %w", source, err)
	}
	return &IdP{Profile: p, dialect: d}, nil
}

// validate fills defaults and refuses values the simulator cannot act on.
func (p *Profile) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	oneOf := func(field, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad("%s is %q; want one of %s", field, v, strings.Join(allowed, ", "))
	}
	if p.Name == "" {
		bad("name is missing")
	}
	if p.Level == "" {
		p.Level = p.Family
	}
	if p.CheckPrefix == "" {
		p.CheckPrefix = "SIM-" + strings.ToUpper(p.Level)
	}
	if p.Timeout <= 0 {
		p.Timeout = 60 * time.Second
	}
	if p.Concurrency <= 0 {
		p.Concurrency = 1
	}
	if len(p.ResponseTypes) == 0 {
		p.ResponseTypes = []string{"application/scim+json", "application/json"}
	}
	if p.Retry.On429 {
		if p.Retry.MaxAttempts < 1 {
			bad("retry.maxAttempts must be at least 1")
		}
		if p.Retry.DefaultWait <= 0 {
			bad("retry.defaultWait must be positive")
		}
		if p.Retry.Backoff < 1 {
			p.Retry.Backoff = 1
		}
	}
	if p.Retry.Header == "" {
		p.Retry.Header = "Retry-After"
	}
	if p.Lookup.Users == "" {
		bad("lookup.users is missing")
	}
	if p.Lookup.Groups == "" && p.Lookup.ListGroups == nil {
		bad("lookup.groups is missing (or lookup.listGroups)")
	}
	if p.Lookup.ListGroups != nil && p.Lookup.ListGroups.Count < 0 {
		bad("lookup.listGroups.count must not be negative")
	}
	if p.Lookup.Spaces == "" {
		p.Lookup.Spaces = "%20"
	}
	oneOf("lookup.spaces", p.Lookup.Spaces, "%20", "+")
	for k := range p.TestConnection {
		pr := &p.TestConnection[k]
		if pr.Answer == "" {
			pr.Answer = AnswerList
		}
		oneOf("testConnection.answer", pr.Answer, AnswerList, AnswerResource)
		oneOf("testConnection.create", pr.Create, "", "user", "group")
		if pr.Create == "" && (pr.Method == "" || pr.Path == "") {
			bad("testConnection[%d] needs a method and a path, or create", k)
		}
	}
	if p.Import != nil && p.Import.PageSize < 1 {
		bad("import.pageSize must be at least 1")
	}
	oneOf("externalId.users", p.ExternalID.Users, "", "oktaId", "mailNickname", "objectId")
	oneOf("externalId.groups", p.ExternalID.Groups, "", "oktaId", "objectId")
	oneOf("users.update", p.Users.Update, GetPut, Put, Patch)
	oneOf("users.activation", p.Users.Activation, GetPut, Put, Patch)
	if p.Users.Reprovision == "" {
		p.Users.Reprovision = ReprovisionLookup
	}
	oneOf("users.reprovision", p.Users.Reprovision, ReprovisionLookup, ReprovisionPost)
	if p.Users.DeactivateAdd && p.Users.Activation != Patch {
		bad("users.deactivateAdd needs users.activation: patch")
	}
	oneOf("groups.update", p.Groups.Update, Patch, Put)

	if p.Groups.BatchSize < 1 {
		p.Groups.BatchSize = 100
	}
	oneOf("patch.opCase", p.Patch.OpCase, OpLower, OpCapitalised)
	oneOf("patch.booleans", p.Patch.Booleans, BoolJSON, BoolString)
	if p.Users.Update == Patch {
		oneOf("patch.attributes", p.Patch.Attributes, AttrsPerAttribute, AttrsMerged)
	}
	oneOf("patch.memberRemove", p.Patch.MemberRemove, RemoveFilter, RemoveValueList)
	for s := range p.Expect {
		if !knownStep(s) {
			bad("expect names an unknown step %q", s)
		}
	}
	if p.Expect == nil {
		p.Expect = map[Step][]int{}
	}
	for s, statuses := range defaultExpect {
		if _, ok := p.Expect[s]; !ok {
			p.Expect[s] = statuses
		}
	}
	return errors.Join(errs...)
}

// defaultExpect is what a step needs when a profile does not say: the RFC 7644
// success statuses (§3.3 create 201, §3.4.1 and §3.4.2 GET 200, §3.5.1 PUT
// 200, §3.5.2 PATCH 200 or 204, §3.6 DELETE 204).
var defaultExpect = map[Step][]int{
	StepTestConnection: {200},
	StepLookupUser:     {200},
	StepCreateUser:     {201},
	StepGetUser:        {200},
	StepGetGroup:       {200},
	StepUpdateUser:     {200, 204},
	StepDeactivate:     {200, 204},
	StepDeactivateAdd:  {200, 204},
	StepReactivate:     {200, 204},
	StepDeleteUser:     {204},
	StepLookupGroup:    {200},
	StepCreateGroup:    {201},
	StepMembers:        {200, 204},
	StepMemberReadd:    {200, 204},
	StepReplaceMembers: {200, 204},
	StepRenameGroup:    {200, 204},
	StepDeleteGroup:    {204},
	StepImport:         {200},
}

// Package profile describes how the reference server behaves: which optional
// RFC 7644 features it offers (and so what its ServiceProviderConfig says),
// how lenient it is with what real IdPs send, and the quirks of a named real
// target that it copies (attribute limits, single-valued emails, filters it
// refuses, DELETE that deactivates, token rules, faults).
//
// A profile is data: fixtures/profiles/<name>.yaml, embedded in the binary
// and read by one engine (this package). Adding a target means writing a
// file. Every profile extends another ("rfc" unless it says otherwise) and
// states only what differs; rfc.yaml is the source of truth for the strict
// RFC 7643/7644 behaviour, and [Profile.Validate] fills what a file leaves
// out. Get returns a shipped profile, Load reads a user's own file, Resolve
// is what `scimlab serve` calls.
package profile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/auth"
)

// Policy values for knobs that choose how the server treats a questionable
// value: refuse it, drop it, or accept it.
const (
	Reject = "reject" // refuse the request with 400 invalidValue naming the value
	Ignore = "ignore" // drop the value silently and carry on
	Allow  = "allow"  // accept it (nested groups only; cycles are still refused)
)

// Multi-valued attribute policies (Rules.MultiValued).
const (
	KeepAll = "keepAll" // RFC 7643 §2.4: every value is kept
	KeepOne = "keepOne" // keep the primary value, else the first in alphabetical order of "value"
	// Reject: more than one value is 400 invalidValue.
)

// Limit modes (Profile.LimitMode).
const (
	// Reject: a value over its limit is 400 invalidValue naming the attribute and the limit.
	Truncate = "truncate" // a value over its limit is cut to the limit (in characters)
)

// Parameter support (Params): whether a query parameter is honoured,
// ignored, or refused with 400.
const (
	Supported = "supported"
	// Ignore: the parameter is accepted and has no effect.
	// Reject: the parameter is refused with 400 invalidValue.
)

// Delete modes (Rules.Delete).
const (
	Delete     = "delete"     // RFC 7644 §3.6: the resource is gone
	Deactivate = "deactivate" // a User's active becomes false; it stays (Slack, Atlassian)
	Refuse     = "refuse"     // DELETE is not offered (Endpoints.UnsupportedStatus)
)

// Inactive-user visibility (UserRules.Inactive).
const (
	Visible  = "visible"  // RFC: an inactive user is still returned (Entra needs it)
	NotFound = "notFound" // every request by id on an inactive user is 404 (Atlassian)
)

// Rate-limit scopes (RateLimit.Scope).
const (
	ScopeToken  = "token"  // one bucket per credential
	ScopeServer = "server" // one bucket for everyone (Slack's are per organisation)
)

// Lenient lists the tolerances for non-RFC request shapes that real IdPs send
// (docs/idp-traffic.md Part 3). Each is off in the strict rfc profile;
// WithLenient (scimlab serve --lenient) turns them all on, and also sets
// Profile.UnknownMembers to Ignore (B20).
type Lenient struct {
	// StringBooleans accepts "True"/"False" strings for boolean attributes (Entra, B2).
	StringBooleans bool `json:"stringBooleans" yaml:"stringBooleans"`
	// DottedKeys treats "name.givenName" keys in a path-less PATCH value as paths (Entra, B1).
	DottedKeys bool `json:"dottedKeys" yaml:"dottedKeys"`
	// RemoveMembersByValue makes {"op":"remove","path":"members","value":[…]}
	// remove only the listed members instead of every member (Entra, B6).
	RemoveMembersByValue bool `json:"removeMembersByValue" yaml:"removeMembersByValue"`
	// ReplaceCreatesMissing makes a replace on a filtered path with no match add
	// the value instead of failing with noTarget (Entra, B5).
	ReplaceCreatesMissing bool `json:"replaceCreatesMissing" yaml:"replaceCreatesMissing"`
	// CaseInsensitiveOps accepts "Add"/"Replace"/"Remove" (Entra, B3).
	CaseInsensitiveOps bool `json:"caseInsensitiveOps" yaml:"caseInsensitiveOps"`
	// UnknownSchemas drops schema URIs in "schemas" that are neither the
	// resource type's core schema nor one of its extensions, instead of
	// answering 400 invalidValue. Entra's group create lists
	// "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
	// (idp-traffic.md §1.2, row 12).
	UnknownSchemas bool `json:"unknownSchemas" yaml:"unknownSchemas"`
}

// Any reports whether any tolerance is on.
func (l Lenient) Any() bool {
	return l.StringBooleans || l.DottedKeys || l.RemoveMembersByValue || l.ReplaceCreatesMissing || l.CaseInsensitiveOps || l.UnknownSchemas
}

// Bulk is the /Bulk capability (RFC 7644 §3.7, RFC 7643 §5 "bulk").
type Bulk struct {
	Supported      bool  `json:"supported" yaml:"supported"`
	MaxOperations  int   `json:"maxOperations" yaml:"maxOperations"`
	MaxPayloadSize int64 `json:"maxPayloadSize" yaml:"maxPayloadSize"`
}

// Endpoints is the protocol surface beyond what ServiceProviderConfig can say.
type Endpoints struct {
	// Me offers /Me (RFC 7644 §3.11).
	Me bool `json:"me" yaml:"me"`
	// Search offers POST /.search, /Users/.search and /Groups/.search (RFC 7644 §3.4.3).
	Search bool `json:"search" yaml:"search"`
	// UnsupportedStatus is the HTTP status of a SCIM Error answering a
	// request for something the profile does not offer (an endpoint, a
	// method, PATCH when patch is off): 400, 403, 404, 405 or 501.
	UnsupportedStatus int `json:"unsupportedStatus" yaml:"unsupportedStatus"`
	// RequireUserAgent answers 400 to a request without a User-Agent header (GitHub).
	RequireUserAgent bool `json:"requireUserAgent" yaml:"requireUserAgent"`
	// ContentType is the media type of JSON responses ("" = application/scim+json).
	ContentType string `json:"contentType,omitempty" yaml:"contentType,omitempty"`
	// RequestIDHeader, when set, names a response header carrying a fresh
	// request id (AWS: x-amzn-RequestId).
	RequestIDHeader string `json:"requestIdHeader,omitempty" yaml:"requestIdHeader,omitempty"`
}

// FilterRules restricts the filters a resource type accepts (RFC 7644
// §3.4.2.2); anything outside them is 400 invalidFilter.
type FilterRules struct {
	// Attributes are the attribute paths a filter may compare ("userName",
	// "groups.value", "urn:…:enterprise:2.0:User:manager"); empty: any.
	Attributes []string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	// Operators are the comparison operators allowed (eq, ne, co, sw, ew,
	// gt, ge, lt, le, pr); empty: all.
	Operators []string `json:"operators,omitempty" yaml:"operators,omitempty"`
	// And, Or and Not allow the logical operators; ValuePaths allows
	// `emails[type eq "work"]` filters.
	And        bool `json:"and" yaml:"and"`
	Or         bool `json:"or" yaml:"or"`
	Not        bool `json:"not" yaml:"not"`
	ValuePaths bool `json:"valuePaths" yaml:"valuePaths"`
}

// Params says how a list query treats each optional parameter of RFC 7644
// §3.4.2.3–§3.4.2.5 and §3.9: Supported, Ignore or Reject.
type Params struct {
	StartIndex         string `json:"startIndex" yaml:"startIndex"`
	Count              string `json:"count" yaml:"count"`
	Attributes         string `json:"attributes" yaml:"attributes"`
	ExcludedAttributes string `json:"excludedAttributes" yaml:"excludedAttributes"`
	// SortBy is Supported when Profile.Sort is true (Validate sees to it);
	// with sort off it is Ignore (the default) or Reject.
	SortBy string `json:"sortBy" yaml:"sortBy"`
}

// Rules are the per-resource-type knobs shared by users and groups.
type Rules struct {
	// Create offers POST; Replace offers PUT.
	Create  bool `json:"create" yaml:"create"`
	Replace bool `json:"replace" yaml:"replace"`
	// Delete is Delete, Deactivate (users only) or Refuse.
	Delete string `json:"delete" yaml:"delete"`
	// Limits maps an attribute path to its maximum length in characters
	// ("userName": 150, "emails.value": 254); over it is refused or
	// truncated per Profile.LimitMode. Only string attributes have limits.
	Limits map[string]int `json:"limits,omitempty" yaml:"limits,omitempty"`
	// MultiValued maps a multi-valued attribute to KeepAll, KeepOne or Reject.
	MultiValued map[string]string `json:"multiValued,omitempty" yaml:"multiValued,omitempty"`
	// Unsupported attributes are dropped from what is stored (RFC 7644 §3.3
	// lets a service provider ignore what it does not support).
	Unsupported []string `json:"unsupported,omitempty" yaml:"unsupported,omitempty"`
	// Required attributes must have a value beyond what the schema requires.
	Required []string `json:"required,omitempty" yaml:"required,omitempty"`
	// Refused attributes may not be written: a POST or PUT that carries
	// one, or a PATCH operation that addresses one, is 400 invalidValue
	// naming it, and nothing changes. Validate adds each to Unsupported, so
	// discovery leaves it out (a refused password makes
	// ServiceProviderConfig changePassword false).
	Refused []string `json:"refused,omitempty" yaml:"refused,omitempty"`
	// Patch is what one PATCH request may do beyond, or short of, RFC 7644 §3.5.2.
	Patch PatchRules `json:"patch" yaml:"patch"`
	// Filter restricts filters on this resource type.
	Filter FilterRules `json:"filter" yaml:"filter"`
	// Params says how list queries treat each optional parameter.
	Params Params `json:"params" yaml:"params"`
	// MaxPatchOperations caps the operations of one PATCH (0: no cap).
	MaxPatchOperations int `json:"maxPatchOperations,omitempty" yaml:"maxPatchOperations,omitempty"`
}

// PatchRules are a target's own rules for the operations of one PATCH
// request (RFC 7644 §3.5.2), per resource type. The zero value is the RFC.
type PatchRules struct {
	// CaseInsensitiveOps accepts the op keywords in any letter case
	// ("Add", "Replace", "Remove"), as a target that documents them so
	// does (HCP Terraform); Lenient.CaseInsensitiveOps turns it on for
	// every resource type.
	CaseInsensitiveOps bool `json:"caseInsensitiveOps" yaml:"caseInsensitiveOps"`
	// Refused lists attributes no PATCH operation may address: one that
	// does is 400 invalidValue naming it, and nothing changes. POST and PUT
	// are left to Unsupported (the attribute is dropped), as a target whose
	// PATCH takes a fixed list of modifiable attributes does (AWS:
	// password). Validate adds each to Unsupported, so discovery leaves it
	// out (a refused password makes changePassword false).
	Refused []string `json:"refused,omitempty" yaml:"refused,omitempty"`
	// AddAsReplace evaluates every "add" as a "replace" (RFC 7644
	// §3.5.2.3): an add on a multi-valued attribute replaces its values
	// instead of appending to them (HCP Terraform users).
	AddAsReplace bool `json:"addAsReplace" yaml:"addAsReplace"`
	// OnceOnly lists attributes that at most one operation of a request
	// may address; a request with two is 400 invalidValue (AWS: userName
	// and active).
	OnceOnly []string `json:"onceOnly,omitempty" yaml:"onceOnly,omitempty"`
	// Remove maps an attribute path to what a "remove" operation on it (or
	// on one of its sub-attributes) gets: Allow (the RFC), Reject (400
	// invalidValue, nothing changes) or Ignore (the operation is dropped
	// and the rest of the request runs). The key "*" is the policy for
	// every attribute not listed; without it, Allow.
	Remove map[string]string `json:"remove,omitempty" yaml:"remove,omitempty"`
	// PathOperators are the comparison operators a filter in an
	// operation's path may use (`emails[type eq "work"]`); an operation
	// with another is 400 invalidFilter. Empty: every operator of RFC 7644
	// §3.4.2.2 (AWS: eq only).
	PathOperators []string `json:"pathOperators,omitempty" yaml:"pathOperators,omitempty"`
}

// AnyRemove is the key of PatchRules.Remove for the attributes it does not list.
const AnyRemove = "*"

// RemovePolicy returns the Remove policy of a canonical attribute path
// (as ResolvePath spells it): the longest key that is path or a parent of
// it, else the "*" key, else Allow.
func (r PatchRules) RemovePolicy(path string) string {
	best, policy := -1, ""
	for k, v := range r.Remove {
		if k != AnyRemove && covers(k, path) && len(k) > best {
			best, policy = len(k), v
		}
	}
	if best >= 0 {
		return policy
	}
	if v, ok := r.Remove[AnyRemove]; ok {
		return v
	}
	return Allow
}

// Covers reports whether one of the canonical attribute paths in list is
// path or a parent of it ("name" covers "name.givenName").
func Covers(list []string, path string) (string, bool) {
	for _, k := range list {
		if covers(k, path) {
			return k, true
		}
	}
	return "", false
}

func covers(k, path string) bool {
	return path == k || strings.HasPrefix(path, k+".")
}

// Empty reports whether r is the RFC's behaviour.
func (r PatchRules) Empty() bool {
	return !r.CaseInsensitiveOps && !r.AddAsReplace && len(r.OnceOnly) == 0 && len(r.Remove) == 0 && len(r.Refused) == 0 && len(r.PathOperators) == 0
}

// UserRules are the knobs of /Users.
type UserRules struct {
	Rules `yaml:",inline"`
	// Inactive is Visible or NotFound: what requests by id see of a user
	// whose active is false.
	Inactive string `json:"inactive" yaml:"inactive"`
}

// GroupRules are the knobs of /Groups.
type GroupRules struct {
	Rules `yaml:",inline"`
	// MaxMembersPerRequest caps the member values one POST, PUT or PATCH
	// may add, set or remove (0: no cap; AWS: 100).
	MaxMembersPerRequest int `json:"maxMembersPerRequest,omitempty" yaml:"maxMembersPerRequest,omitempty"`
	// ReplaceMembers is what a PATCH that replaces the whole member list, or
	// removes every member, does: Allow (RFC), Reject (400) or Ignore (2xx,
	// nothing changes; AWS as observed, B24).
	ReplaceMembers string `json:"replaceMembers" yaml:"replaceMembers"`
	// Members is how member lists are shown.
	Members MemberView `json:"members" yaml:"members"`
}

// MemberView says how a group's member list is shown.
type MemberView struct {
	// Returned shows members in group responses; off, every group shows
	// an empty member list (AWS: "GetGroup and ListGroups return an empty
	// member list"). Filters on members still work.
	Returned bool `json:"returned" yaml:"returned"`
	// HideInactive leaves users whose active is false out of member lists
	// (Alation: they "silently disappear"); the membership is kept.
	HideInactive bool `json:"hideInactive" yaml:"hideInactive"`
}

// Profile is the behaviour of one reference-server personality. The zero
// value is not useful; start from Get("rfc") and change fields, or write a
// YAML file that extends a shipped profile.
type Profile struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description" yaml:"description"`
	// Emulates names the real target, for the README table.
	Emulates string `json:"emulates,omitempty" yaml:"emulates,omitempty"`
	// Sources cite the facts the profile follows (docs/idp-traffic.md keys).
	Sources []string `json:"sources,omitempty" yaml:"sources,omitempty"`
	// Aliases are other names Get accepts.
	Aliases []string `json:"aliases,omitempty" yaml:"aliases,omitempty"`
	// Extends names the profile this one starts from ("" = rfc; rfc itself extends nothing).
	Extends string `json:"extends,omitempty" yaml:"extends,omitempty"`

	// PatchResponse is the status of a successful PATCH: "200" (the resource
	// in the body) or "204" (no body), RFC 7644 §3.5.2.
	PatchResponse string `json:"patchResponse" yaml:"patchResponse"`
	// GroupPatchResponse overrides PatchResponse for groups ("" = same);
	// Entra asks for 204 on group PATCH.
	GroupPatchResponse string `json:"groupPatchResponse,omitempty" yaml:"groupPatchResponse,omitempty"`

	Lenient Lenient `json:"lenient" yaml:"lenient"`

	// UserNameCaseExact makes userName uniqueness and `userName eq` lookups
	// case-sensitive (RFC 7643 §4.1.1 says caseExact=false).
	UserNameCaseExact bool `json:"userNameCaseExact" yaml:"userNameCaseExact"`
	// GroupDisplayNameCaseExact makes group displayName uniqueness and
	// `displayName eq` lookups on groups case-sensitive.
	GroupDisplayNameCaseExact bool `json:"groupDisplayNameCaseExact" yaml:"groupDisplayNameCaseExact"`
	// NestedGroups is what happens to a group member that is a group: Reject, Ignore or Allow.
	NestedGroups string `json:"nestedGroups" yaml:"nestedGroups"`
	// UnknownMembers is what happens to a member id that names no resource: Reject or Ignore
	// (idp-traffic.md B20: Okta loses the whole push on a 400).
	UnknownMembers string `json:"unknownMembers" yaml:"unknownMembers"`

	// MaxResults is ServiceProviderConfig filter.maxResults: the largest page
	// the server returns; larger counts are clamped (RFC 7644 §3.4.2.4).
	MaxResults int `json:"maxResults" yaml:"maxResults"`
	// DefaultCount is the page size when the request gives no count (0 = MaxResults).
	DefaultCount int `json:"defaultCount,omitempty" yaml:"defaultCount,omitempty"`

	Bulk   Bulk `json:"bulk" yaml:"bulk"`
	Sort   bool `json:"sort" yaml:"sort"`
	ETag   bool `json:"etag" yaml:"etag"`
	Filter bool `json:"filter" yaml:"filter"`
	Patch  bool `json:"patch" yaml:"patch"`

	// MaxBodyBytes caps a request body outside /Bulk (413 above it).
	MaxBodyBytes int64 `json:"maxBodyBytes" yaml:"maxBodyBytes"`
	// DiscoveryWithoutAuth serves /ServiceProviderConfig, /ResourceTypes and
	// /Schemas without a token (RFC 7644 §4 allows either).
	DiscoveryWithoutAuth bool `json:"discoveryWithoutAuth" yaml:"discoveryWithoutAuth"`
	// DocumentationURI is ServiceProviderConfig documentationUri.
	DocumentationURI string `json:"documentationUri,omitempty" yaml:"documentationUri,omitempty"`

	// Endpoints is the protocol surface beyond ServiceProviderConfig.
	Endpoints Endpoints `json:"endpoints" yaml:"endpoints"`
	// LimitMode is Reject or Truncate: what a value over its length limit gets.
	LimitMode string `json:"limitMode" yaml:"limitMode"`
	// Users and Groups are the per-resource-type knobs.
	Users  UserRules  `json:"users" yaml:"users"`
	Groups GroupRules `json:"groups" yaml:"groups"`

	// Tokens is the token policy: lifespans, rotation, account binding,
	// emailDomains, notices and HTTP Basic. A profile that states tokens
	// states the whole policy (it is not merged with the one it extends).
	Tokens auth.Policy `json:"tokens" yaml:"tokens"`
	// Faults are injected failures for testing clients (off in every shipped
	// profile unless its target documents them).
	Faults Faults `json:"faults" yaml:"faults"`
}

// Defaults the engine applies where a profile leaves a number at zero.
const (
	DefaultMaxResults        = 200
	DefaultMaxOperations     = 1000
	DefaultMaxPayloadSize    = 1 << 20
	DefaultMaxBodyBytes      = 1 << 20
	DefaultUnsupportedStatus = 501
)

// Clone returns a deep copy of p.
func (p *Profile) Clone() *Profile {
	c := *p
	c.Sources = slices.Clone(p.Sources)
	c.Aliases = slices.Clone(p.Aliases)
	c.Users.Rules = p.Users.Rules.clone()
	c.Groups.Rules = p.Groups.Rules.clone()
	c.Tokens.Lifespans = slices.Clone(p.Tokens.Lifespans)
	c.Tokens.Notices = slices.Clone(p.Tokens.Notices)
	if p.Tokens.Basic != nil {
		b := *p.Tokens.Basic
		c.Tokens.Basic = &b
	}
	c.Faults.ErrorStatuses = slices.Clone(p.Faults.ErrorStatuses)
	return &c
}

func (r Rules) clone() Rules {
	r.Limits = maps.Clone(r.Limits)
	r.MultiValued = maps.Clone(r.MultiValued)
	r.Unsupported = slices.Clone(r.Unsupported)
	r.Required = slices.Clone(r.Required)
	r.Refused = slices.Clone(r.Refused)
	r.Patch.OnceOnly = slices.Clone(r.Patch.OnceOnly)
	r.Patch.Refused = slices.Clone(r.Patch.Refused)
	r.Patch.Remove = maps.Clone(r.Patch.Remove)
	r.Patch.PathOperators = slices.Clone(r.Patch.PathOperators)
	r.Filter.Attributes = slices.Clone(r.Filter.Attributes)
	r.Filter.Operators = slices.Clone(r.Filter.Operators)
	return r
}

// WithLenient returns a copy of p with every tolerance for IdP request shapes
// on, unknown member ids ignored (B20), and "+lenient" added to its name.
func (p *Profile) WithLenient() *Profile {
	c := p.Clone()
	c.Lenient = Lenient{StringBooleans: true, DottedKeys: true, RemoveMembersByValue: true, ReplaceCreatesMissing: true, CaseInsensitiveOps: true, UnknownSchemas: true}
	c.UnknownMembers = Ignore
	if !strings.HasSuffix(c.Name, "+lenient") {
		c.Name += "+lenient"
	}
	return c
}

// PatchStatus returns the HTTP status of a successful PATCH on a resource of
// the given type ("User", "Group"): 200 or 204.
func (p *Profile) PatchStatus(resourceType string) int {
	s := p.PatchResponse
	if resourceType == "Group" && p.GroupPatchResponse != "" {
		s = p.GroupPatchResponse
	}
	if s == "204" {
		return 204
	}
	return 200
}

// Rules returns the rules of a resource type ("User" or "Group"), or nil.
func (p *Profile) Rules(resourceType string) *Rules {
	switch resourceType {
	case "User":
		return &p.Users.Rules
	case "Group":
		return &p.Groups.Rules
	}
	return nil
}

// String names the profile.
func (p *Profile) String() string {
	if p == nil {
		return "<nil profile>"
	}
	return fmt.Sprintf("profile %s", p.Name)
}

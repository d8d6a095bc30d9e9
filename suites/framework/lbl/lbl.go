// Package lbl is the frozen label vocabulary of the conformance suites
// (STYLE.md practice 12). Every spec carries exactly one area label, exactly
// one level label, one or more references made with RFC (or, for an IdP need
// no RFC defines, with Doc), and optionally the markers and capability gates
// listed here. A unit test in suites/all
// checks every spec against Valid.
//
// Labels select specs with Ginkgo label filters, e.g. "MUST && !bulk" or
// "idp:entra || idp:okta".
package lbl

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2"
)

// Label is one word of the vocabulary.
type Label string

// Areas: what part of SCIM a check exercises (exactly one per check).
const (
	Discovery  Label = "discovery"  // RFC 7644 §4 discovery endpoints
	Auth       Label = "auth"       // RFC 7644 §2, RFC 6750 authentication
	Users      Label = "users"      // RFC 7644 §3.3–3.6 on /Users
	Groups     Label = "groups"     // RFC 7644 §3.3–3.6 on /Groups, membership
	Filter     Label = "filter"     // RFC 7644 §3.4.2.2 filtering
	Paging     Label = "paging"     // RFC 7644 §3.4.2.4 pagination
	Sort       Label = "sort"       // RFC 7644 §3.4.2.3 sorting
	Projection Label = "projection" // RFC 7644 §3.4.2.5, §3.9 attributes / excludedAttributes
	Patch      Label = "patch"      // RFC 7644 §3.5.2 PATCH
	Search     Label = "search"     // RFC 7644 §3.4.3 POST /.search
	ETag       Label = "etag"       // RFC 7644 §3.14 versioning
	Bulk       Label = "bulk"       // RFC 7644 §3.7 /Bulk
	Me         Label = "me"         // RFC 7644 §3.11 /Me
	Errors     Label = "errors"     // RFC 7644 §3.12 error responses, media types
	Limits     Label = "limits"     // attribute length limits of the target
	Nested     Label = "nested"     // groups as members of groups
	IdP        Label = "idp"        // what Okta and Entra need beyond the RFC
	BugPack    Label = "bugpack"    // requests known to have broken real servers (idp-traffic.md Part 3)
)

// Levels: how binding a check is (exactly one per check).
const (
	MUST     Label = "MUST"   // an RFC MUST / SHALL / REQUIRED
	SHOULD   Label = "SHOULD" // an RFC SHOULD / RECOMMENDED
	MAY      Label = "MAY"    // an RFC MAY / OPTIONAL behaviour, or a choice the RFC leaves open
	Okta     Label = "idp:okta"
	Entra    Label = "idp:entra"
	OneLogin Label = "idp:onelogin"
)

// Markers.
const (
	// Tolerance marks a check that sends a request shape the RFC does not
	// define but an IdP sends anyway (string booleans, dotted keys, …). A
	// strict RFC server fails these; see suites/README.md.
	Tolerance Label = "tolerance"
	// Probe marks a check that tries a feature the target declares
	// unsupported, to catch a ServiceProviderConfig that lies.
	Probe Label = "probe"
	// Destructive marks a check that touches data the run did not create;
	// it is skipped unless --allow-destructive is given.
	Destructive Label = "destructive"
	// Slow marks a check that sends many requests (paging walks).
	Slow Label = "slow"
)

// Capability gates: a check with one of these is skipped, with the reason,
// when the target declares the capability unsupported.
const (
	NeedsPatch          Label = "needs:patch"
	NeedsBulk           Label = "needs:bulk"
	NeedsFilter         Label = "needs:filter"
	NeedsSort           Label = "needs:sort"
	NeedsETag           Label = "needs:etag"
	NeedsChangePassword Label = "needs:changePassword"
	NeedsGroups         Label = "needs:groups"     // a Group resource type
	NeedsEnterprise     Label = "needs:enterprise" // the enterprise User extension
	NeedsLimits         Label = "needs:limits"     // attribute limits from --limits or the profile
	// NeedsSearch: POST /.search (RFC 7644 §3.4.3). The ServiceProviderConfig
	// has no field for it, so the run asks once (framework: the search probe)
	// and skips these checks when the target answers that it does not
	// implement it (501, or 404/405 with a SCIM error).
	NeedsSearch Label = "needs:search"
)

// Probe targets: with Probe, they name the feature a probe tries.
const (
	ProbesPatch          Label = "probes:patch"
	ProbesBulk           Label = "probes:bulk"
	ProbesSort           Label = "probes:sort"
	ProbesETag           Label = "probes:etag"
	ProbesChangePassword Label = "probes:changePassword"
)

var (
	areas   = []Label{Discovery, Auth, Users, Groups, Filter, Paging, Sort, Projection, Patch, Search, ETag, Bulk, Me, Errors, Limits, Nested, IdP, BugPack}
	levels  = []Label{MUST, SHOULD, MAY, Okta, Entra, OneLogin}
	markers = []Label{Tolerance, Probe, Destructive, Slow, ProbesPatch, ProbesBulk, ProbesSort, ProbesETag, ProbesChangePassword}
	gates   = []Label{NeedsPatch, NeedsBulk, NeedsFilter, NeedsSort, NeedsETag, NeedsChangePassword, NeedsGroups, NeedsEnterprise, NeedsLimits, NeedsSearch}
)

// Areas returns the area labels in report order.
func Areas() []Label { return append([]Label(nil), areas...) }

// Levels returns the level labels.
func Levels() []Label { return append([]Label(nil), levels...) }

// Gates returns the capability gate labels.
func Gates() []Label { return append([]Label(nil), gates...) }

// rfcRE is the form of an RFC reference label: rfc<number>:<section>.
var rfcRE = regexp.MustCompile(`^rfc(\d{4}):(\d+(?:\.\d+)*)$`)

// RFC returns the label for an RFC clause written "7644:3.5.2" (RFC number,
// colon, section). It panics on anything else, at tree construction.
func RFC(ref string) Label {
	l := Label("rfc" + ref)
	if !rfcRE.MatchString(string(l)) {
		panic(fmt.Sprintf("lbl.RFC(%q): want \"<rfc number>:<section>\", e.g. \"7644:3.5.2\"", ref))
	}
	return l
}

// docRE is the form of a label citing one of the project's documents of
// facts (docs/<name>.md) instead of an RFC: doc:<name>:<section>.
var docRE = regexp.MustCompile(`^doc:([a-z][a-z0-9-]*):(\d+(?:\.\d+)*)$`)

// Doc returns the label citing a section of a document of facts under
// docs/, written "idp-traffic:1.2" (docs/idp-traffic.md §1.2). It is for an
// IdP-level check whose request shape no RFC defines: citing an RFC clause
// whose grammar forbids the shape would claim what the RFC does not say.
// It panics on anything else, at tree construction.
func Doc(ref string) Label {
	l := Label("doc:" + ref)
	if !docRE.MatchString(string(l)) {
		panic(fmt.Sprintf("lbl.Doc(%q): want \"<document>:<section>\", e.g. \"idp-traffic:1.2\"", ref))
	}
	return l
}

// IsDoc reports whether s is a document reference label.
func IsDoc(s string) bool { return docRE.MatchString(s) }

// IsArea reports whether s is an area label.
func IsArea(s string) bool { return in(areas, s) }

// IsLevel reports whether s is a level label.
func IsLevel(s string) bool { return in(levels, s) }

// IsRFC reports whether s is an RFC reference label.
func IsRFC(s string) bool { return rfcRE.MatchString(s) }

// IsGate reports whether s is a capability gate label.
func IsGate(s string) bool { return in(gates, s) }

// Valid reports whether s belongs to the vocabulary.
func Valid(s string) bool {
	return IsArea(s) || IsLevel(s) || IsRFC(s) || IsDoc(s) || IsGate(s) || in(markers, s)
}

// Capability returns the capability a gate or probe-target label names
// ("patch" for "needs:patch" and "probes:patch"), or "".
func Capability(s string) string {
	if IsGate(s) {
		return strings.TrimPrefix(s, "needs:")
	}
	if in(markers, s) && strings.HasPrefix(s, "probes:") {
		return strings.TrimPrefix(s, "probes:")
	}
	return ""
}

// FormatRFC turns an RFC label into report form: "rfc7644:3.5.2" →
// "RFC7644 §3.5.2", and a document label likewise: "doc:idp-traffic:1.2" →
// "idp-traffic.md §1.2". Other strings are returned unchanged.
func FormatRFC(s string) string {
	if m := docRE.FindStringSubmatch(s); m != nil {
		return m[1] + ".md §" + m[2]
	}
	m := rfcRE.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	return "RFC" + m[1] + " §" + m[2]
}

// Of returns labels as a Ginkgo decorator, for containers:
// Describe("Users", lbl.Of(lbl.Users), func() { … }).
func Of(ls ...Label) ginkgo.Labels {
	out := make(ginkgo.Labels, len(ls))
	for i, l := range ls {
		out[i] = string(l)
	}
	return out
}

func in(set []Label, s string) bool {
	for _, l := range set {
		if string(l) == s {
			return true
		}
	}
	return false
}

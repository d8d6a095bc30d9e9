// Package reports holds the one report model that the conformance suites, the
// simulator and replay all write, and renders it as JSON, JUnit XML, Markdown,
// HTML and a terminal summary.
package reports

import (
	"net/url"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON form of a Run. It changes only when
// a field is removed or changes meaning; added fields keep the version.
const SchemaVersion = 1

// Verdict is the outcome of one check (DESIGN.md, "Checks and verdicts").
type Verdict string

// Verdicts, in the order a summary lists them.
const (
	Pass                Verdict = "pass"
	Fail                Verdict = "fail"
	Error               Verdict = "error"
	UnsupportedButWorks Verdict = "unsupported-but-works"
	Waived              Verdict = "waived"
	Skipped             Verdict = "skipped"
)

// Level says how binding a check is: an RFC requirement level or an IdP need.
type Level string

// Levels. IdP needs are written "IDP:<name>", e.g. "IDP:okta".
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// IdPLevel returns the level for what the named IdP needs beyond the RFC.
func IdPLevel(idp string) Level { return Level("IDP:" + idp) }

// Run is one execution of the suites, a simulation or a replay.
type Run struct {
	SchemaVersion int    `json:"schemaVersion"`
	Tool          Tool   `json:"tool"`
	Kind          string `json:"kind"` // "test", "simulate" or "replay"
	Command       string `json:"command,omitempty"`
	// Target is the base URL tested, never with credentials in it.
	Target string `json:"target"`
	// Profile names the server profile (for suites) or the IdP profile (for simulations).
	Profile string `json:"profile,omitempty"`
	IdP     string `json:"idp,omitempty"`
	// Scenario names the simulated scenario (simulator runs), e.g. "lifecycle".
	Scenario string        `json:"scenario,omitempty"`
	Seed     int64         `json:"seed,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"durationNs"`
	// Capabilities are what the target declared in /ServiceProviderConfig, keyed
	// by feature name (patch, bulk, filter, sort, etag, changePassword, …).
	Capabilities []Capability `json:"capabilities,omitempty"`
	Checks       []Check      `json:"checks"`
	// Operations holds latency statistics per simulated operation (simulator runs).
	Operations []OperationStats `json:"operations,omitempty"`
	// Differences lists where the target's end state departs from what the IdP
	// pushed (simulator runs).
	Differences []Difference `json:"differences,omitempty"`
	// Orphans lists the URLs of the resources a run created and could not
	// remove. An entry a producer wrote as "URL (reason)", as older reports
	// hold them, still reads: OrphanList splits it.
	Orphans []string `json:"orphans,omitempty"`
	// OrphanDetails lists the same resources, each with why it was left on
	// the target. AddOrphan keeps Orphans and OrphanDetails in step; the
	// renderers write both from OrphanList.
	OrphanDetails []Orphan `json:"orphanDetails,omitempty"`
	// NotSelected lists the IDs of checks that exist but that the run's
	// selection (a label filter, --bug-pack) left out. They have no verdict.
	NotSelected []string `json:"notSelected,omitempty"`
	// Notes are free-form lines a run wants the reader to see.
	Notes []string `json:"notes,omitempty"`
}

// Orphan is a resource a run created and could not remove.
type Orphan struct {
	// URL is where the resource is (absolute, or relative to the target).
	URL string `json:"url"`
	// Reason says, in one line, why the resource is still there: "DELETE
	// answered 405", "DELETE answered 204 but GET still reads it
	// (active=false)".
	Reason string `json:"reason,omitempty"`
}

// String gives the orphan as one line: the URL, then the reason in
// parentheses. ParseOrphan reads it back.
func (o Orphan) String() string {
	if o.Reason == "" {
		return o.URL
	}
	return o.URL + " (" + o.Reason + ")"
}

// ParseOrphan splits an Orphans entry into its URL and reason: "URL
// (reason)" as Orphan.String writes it, a bare URL, or the form older
// reports hold after the whole line went through URL redaction, with the
// reason percent-encoded onto the path ("…/Users/1%20%28DELETE%20answered%20429%29").
func ParseOrphan(s string) Orphan {
	s = strings.TrimSpace(s)
	if u, why, ok := strings.Cut(s, " ("); ok && strings.HasSuffix(why, ")") {
		return Orphan{URL: u, Reason: strings.TrimSuffix(why, ")")}
	}
	if i := strings.Index(s, "%20%28"); i > 0 && strings.HasSuffix(s, "%29") {
		if why, err := url.PathUnescape(s[i+len("%20%28") : len(s)-len("%29")]); err == nil {
			return Orphan{URL: s[:i], Reason: why}
		}
	}
	return Orphan{URL: s}
}

// AddOrphan lists a resource the run could not remove, with why.
func (r *Run) AddOrphan(url, reason string) {
	r.Orphans = append(r.Orphans, url)
	r.OrphanDetails = append(r.OrphanDetails, Orphan{URL: url, Reason: reason})
}

// AddOrphans records resources the run could not remove (AddOrphan for each).
func (r *Run) AddOrphans(os []Orphan) {
	for _, o := range os {
		r.AddOrphan(o.URL, o.Reason)
	}
}

// OrphanList returns every resource the run left on the target, once each,
// in order: OrphanDetails, then the Orphans entries that no detail names
// (written by a producer or an older scimlab that knew only Orphans, with
// the reason split off by ParseOrphan).
func (r *Run) OrphanList() []Orphan {
	if len(r.Orphans) == 0 && len(r.OrphanDetails) == 0 {
		return nil
	}
	out := append([]Orphan(nil), r.OrphanDetails...)
	named := make(map[string]int, len(out))
	for _, o := range out {
		named[o.URL]++
	}
	for _, s := range r.Orphans {
		o := ParseOrphan(s)
		if named[o.URL] > 0 {
			named[o.URL]--
			continue
		}
		out = append(out, o)
	}
	return out
}

// Tool identifies the scimlab build that wrote a run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Capability is one feature as the target declared it and as the run observed it.
type Capability struct {
	Name     string `json:"name"`
	Declared bool   `json:"declared"`
	// Observed is nil when the run had no way to tell.
	Observed *bool  `json:"observed,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Check is one verdict with what decided it.
type Check struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Area     string        `json:"area"`
	RFC      string        `json:"rfc,omitempty"` // e.g. "RFC7644 §3.5.2"
	Level    Level         `json:"level"`
	Verdict  Verdict       `json:"verdict"`
	Duration time.Duration `json:"durationNs"`
	// Reason is one line on anything but a pass.
	Reason string `json:"reason,omitempty"`
	// NotRequested is true on a skipped check that did not run because the
	// run was not asked to run it (an input such as --limits, --expired-token
	// or --allow-destructive was not given). Such a skip says nothing about
	// the target: it is not a capability the target declares unsupported.
	NotRequested bool `json:"notRequested,omitempty"`
	// Labels are the check's labels beyond area and level (e.g. "idp:entra").
	Labels []string `json:"labels,omitempty"`
	// Capability names the feature from /ServiceProviderConfig that gates the
	// check (e.g. "patch"), or is empty when nothing gates it.
	Capability string     `json:"capability,omitempty"`
	Evidence   []Exchange `json:"evidence,omitempty"`
}

// Exchange is one HTTP request and its response, redacted and size-capped.
type Exchange struct {
	Request  HTTPMessage   `json:"request"`
	Response HTTPMessage   `json:"response"`
	Latency  time.Duration `json:"latencyNs,omitempty"`
}

// HTTPMessage is a request (Method and URL set) or a response (Status set).
type HTTPMessage struct {
	Method  string              `json:"method,omitempty"`
	URL     string              `json:"url,omitempty"`
	Status  int                 `json:"status,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"`
	Body    string              `json:"body,omitempty"`
	// Truncated is true when Body was cut to the size cap.
	Truncated bool `json:"truncated,omitempty"`
	// OriginalSize is the body's length in bytes before it was cut; it is set
	// only when Truncated is true.
	OriginalSize int `json:"originalSize,omitempty"`
}

// OperationStats is the latency of one kind of simulated operation.
type OperationStats struct {
	Operation string        `json:"operation"`
	Count     int           `json:"count"`
	Errors    int           `json:"errors"`
	P50       time.Duration `json:"p50Ns"`
	P95       time.Duration `json:"p95Ns"`
	P99       time.Duration `json:"p99Ns"`
}

// Difference is one place where the target's state departs from the IdP's directory.
type Difference struct {
	Resource  string `json:"resource"` // e.g. "User ana@example.test"
	Attribute string `json:"attribute,omitempty"`
	Want      string `json:"want,omitempty"`
	Got       string `json:"got,omitempty"`
}

package reports

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Verdicts returns every verdict in the order a summary lists them.
func Verdicts() []Verdict {
	return []Verdict{Pass, Fail, Error, UnsupportedButWorks, Waived, Skipped}
}

// Valid reports whether v is one of the verdicts this package knows.
func (v Verdict) Valid() bool { return slices.Contains(Verdicts(), v) }

// Failing reports whether v counts against a target: fail or error.
func (v Verdict) Failing() bool { return v == Fail || v == Error }

// Passing reports whether v shows the behaviour works: pass, or
// unsupported-but-works.
func (v Verdict) Passing() bool { return v == Pass || v == UnsupportedButWorks }

// IdP returns the IdP named by an "IDP:<name>" level, lower-cased, and
// whether l is such a level.
func (l Level) IdP() (string, bool) {
	if len(l) > 4 && strings.EqualFold(string(l[:4]), "IDP:") {
		return strings.ToLower(string(l[4:])), true
	}
	return "", false
}

// Required reports whether a failure at this level fails the run: MUST and
// every IdP need.
func (l Level) Required() bool {
	_, idp := l.IdP()
	return l == Must || idp
}

// levelRank orders levels for display: MUST, IdP needs, SHOULD, MAY, others.
func levelRank(l Level) int {
	switch l {
	case Must:
		return 0
	case Should:
		return 2
	case May:
		return 3
	}
	if _, ok := l.IdP(); ok {
		return 1
	}
	return 4
}

// verdictRank orders verdicts for lists of checks needing attention.
func verdictRank(v Verdict) int {
	if i := slices.Index(Verdicts(), v); i >= 0 {
		return i
	}
	return len(Verdicts())
}

// Tally counts checks by verdict, one field per verdict.
type Tally struct {
	Pass                int
	Fail                int
	Error               int
	UnsupportedButWorks int
	Waived              int
	Skipped             int
	// NotRequested counts the skipped checks that the run was not asked to
	// run (Check.NotRequested); they are part of Skipped.
	NotRequested int
	// Other counts verdicts this package does not know.
	Other int
}

// NotRequestedSkip reports whether c was skipped because the run was not
// asked to run it, rather than because the target declares the capability
// unsupported.
func (c Check) NotRequestedSkip() bool { return c.Verdict == Skipped && c.NotRequested }

// AddCheck counts one check: its verdict, and whether it is a skip the run
// was not asked to run.
func (t *Tally) AddCheck(c Check) {
	t.Add(c.Verdict)
	if c.NotRequestedSkip() {
		t.NotRequested++
	}
}

// DeclaredSkipped returns the skipped checks that are not NotRequested: those
// whose capability the target declares unsupported or that do not apply to it.
func (t Tally) DeclaredSkipped() int { return t.Skipped - t.NotRequested }

// Add counts one check with verdict v.
func (t *Tally) Add(v Verdict) {
	switch v {
	case Pass:
		t.Pass++
	case Fail:
		t.Fail++
	case Error:
		t.Error++
	case UnsupportedButWorks:
		t.UnsupportedButWorks++
	case Waived:
		t.Waived++
	case Skipped:
		t.Skipped++
	default:
		t.Other++
	}
}

// Of returns the count for verdict v.
func (t Tally) Of(v Verdict) int {
	switch v {
	case Pass:
		return t.Pass
	case Fail:
		return t.Fail
	case Error:
		return t.Error
	case UnsupportedButWorks:
		return t.UnsupportedButWorks
	case Waived:
		return t.Waived
	case Skipped:
		return t.Skipped
	}
	return t.Other
}

// Total returns the number of checks counted.
func (t Tally) Total() int {
	return t.Pass + t.Fail + t.Error + t.UnsupportedButWorks + t.Waived + t.Skipped + t.Other
}

// Group is the tally of the checks that share one level or one area.
type Group struct {
	// Name is the level (e.g. "MUST") or the area (e.g. "users").
	Name string
	Tally
}

// Summary counts all of r's checks by verdict.
func (r *Run) Summary() Tally {
	var t Tally
	for _, c := range r.Checks {
		t.AddCheck(c)
	}
	return t
}

// ByLevel counts r's checks by verdict for each level, in the order MUST,
// IDP:<name> (by name), SHOULD, MAY, then any other level.
func (r *Run) ByLevel() []Group {
	groups := r.groupBy(func(c Check) string { return string(c.Level) })
	sort.SliceStable(groups, func(i, j int) bool {
		ri, rj := levelRank(Level(groups[i].Name)), levelRank(Level(groups[j].Name))
		if ri != rj {
			return ri < rj
		}
		return groups[i].Name < groups[j].Name
	})
	return groups
}

// ByArea counts r's checks by verdict for each area, sorted by area name.
func (r *Run) ByArea() []Group {
	groups := r.groupBy(func(c Check) string { return c.Area })
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	return groups
}

func (r *Run) groupBy(key func(Check) string) []Group {
	index := map[string]int{}
	var groups []Group
	for _, c := range r.Checks {
		k := key(c)
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, Group{Name: k})
		}
		groups[i].AddCheck(c)
	}
	return groups
}

// Failed reports whether the run fails: some check whose level is MUST or
// IDP:<name> has verdict fail or error. Waived, skipped and
// unsupported-but-works checks never fail a run. A command exits 1 when it
// is true.
func (r *Run) Failed() bool {
	for _, c := range r.Checks {
		if c.Level.Required() && c.Verdict.Failing() {
			return true
		}
	}
	return false
}

// RequiredFailures returns the checks that make Failed true.
func (r *Run) RequiredFailures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Level.Required() && c.Verdict.Failing() {
			out = append(out, c)
		}
	}
	return out
}

// RequiredResult says why the run failed, counting the required checks
// that failed apart from those that could not run (error), as the
// readiness lines do: "3 MUST or IdP checks failed", "1 MUST or IdP check
// failed and 277 could not run (error)", "277 MUST or IdP checks could not
// run (error)". A target that went away mid-run leaves mostly errors, and
// calling them failures would blame the target for checks that never ran.
func (r *Run) RequiredResult() string {
	failed, errs := 0, 0
	for _, c := range r.RequiredFailures() {
		if c.Verdict == Error {
			errs++
		} else {
			failed++
		}
	}
	switch {
	case errs == 0:
		return plural(failed, "MUST or IdP check failed", "MUST or IdP checks failed")
	case failed == 0:
		return plural(errs, "MUST or IdP check could not run (error)", "MUST or IdP checks could not run (error)")
	}
	return fmt.Sprintf("%s and %d could not run (error)", plural(failed, "MUST or IdP check failed", "MUST or IdP checks failed"), errs)
}

// CapabilityStatus compares what a target declared with what a run observed.
type CapabilityStatus string

// Capability statuses.
const (
	// AsDeclared: the feature behaves as /ServiceProviderConfig says.
	AsDeclared CapabilityStatus = "as declared"
	// DeclaredButBroken: declared supported, observed not to work.
	DeclaredButBroken CapabilityStatus = "declared but broken"
	// WorksUndeclared: declared unsupported, observed to work.
	WorksUndeclared CapabilityStatus = "works but undeclared"
	// NotObserved: the run had no way to tell.
	NotObserved CapabilityStatus = "not observed"
)

// CapabilityRow is one line of the declared-versus-observed capability matrix.
type CapabilityRow struct {
	// Name is the feature, e.g. "patch".
	Name string
	// Declared is what /ServiceProviderConfig says.
	Declared bool
	// Observed is nil when neither the run nor its checks could tell.
	Observed *bool
	// Status compares Declared with Observed.
	Status CapabilityStatus
	// Detail is the capability's detail, e.g. "maxResults=200".
	Detail string
	// Checks tallies the checks gated on this capability.
	Checks Tally
}

// CapabilityMatrix lines up each capability the target declared with what
// the run observed, in declaration order. When a capability carries no
// observation, one is inferred from the checks it gates: any pass or
// unsupported-but-works shows that it works.
func (r *Run) CapabilityMatrix() []CapabilityRow {
	tallies := map[string]*Tally{}
	for _, c := range r.Checks {
		if c.Capability == "" {
			continue
		}
		t := tallies[c.Capability]
		if t == nil {
			t = &Tally{}
			tallies[c.Capability] = t
		}
		t.AddCheck(c)
	}
	rows := make([]CapabilityRow, 0, len(r.Capabilities))
	for _, decl := range r.Capabilities {
		row := CapabilityRow{Name: decl.Name, Declared: decl.Declared, Observed: decl.Observed, Detail: decl.Detail}
		if t := tallies[decl.Name]; t != nil {
			row.Checks = *t
		}
		if row.Observed == nil && row.Checks.Pass+row.Checks.UnsupportedButWorks > 0 {
			works := true
			row.Observed = &works
		}
		switch {
		case row.Observed == nil:
			row.Status = NotObserved
		case *row.Observed == row.Declared:
			row.Status = AsDeclared
		case row.Declared:
			row.Status = DeclaredButBroken
		default:
			row.Status = WorksUndeclared
		}
		rows = append(rows, row)
	}
	return rows
}

// ReadinessLine is one line of the readiness summary: how an RFC level fared
// ("RFC 7644 MUST: 143/145 (3 skipped)") or whether an IdP's needs are met
// ("Okta-ready: no (2 failures)").
type ReadinessLine struct {
	// Key is a stable identifier for the line, e.g. "rfc7644-must" or "idp-okta".
	Key string
	// Subject is "RFC 7644 MUST" or the IdP's display name, e.g. "Okta".
	Subject string
	// IdP is true for an IdP line.
	IdP bool
	// Passed counts pass and unsupported-but-works; Counted counts every
	// check but the skipped ones, so a skip never counts as a pass.
	Passed, Counted int
	// Failed counts fail; Errors counts error (a check that could not
	// reach a verdict): either keeps the IdP from being ready.
	Failed, Errors int
	// Waived counts that verdict. Skipped counts the skips of capabilities
	// the target declares unsupported (or that do not apply to it);
	// NotRequested counts the skips of checks the run was not asked to run.
	Waived, Skipped, NotRequested int
}

// Ready reports whether nothing in the line failed or errored.
func (l ReadinessLine) Ready() bool { return l.Failed == 0 && l.Errors == 0 }

// String renders the line, e.g. "RFC 7644 MUST: 143/145 (3 skipped)" or
// "Okta-ready: no (2 failures)".
func (l ReadinessLine) String() string {
	var notes []string
	if l.IdP {
		if l.Failed > 0 {
			notes = append(notes, plural(l.Failed, "failure", "failures"))
		}
		if l.Errors > 0 {
			notes = append(notes, plural(l.Errors, "error", "errors"))
		}
		if l.Waived > 0 {
			notes = append(notes, fmt.Sprintf("%d waived", l.Waived))
		}
		notes = l.skipNotes(notes)
		s := l.Subject + "-ready: yes"
		if !l.Ready() {
			s = l.Subject + "-ready: no"
		}
		return s + parenthesize(notes)
	}
	if l.Waived > 0 {
		notes = append(notes, fmt.Sprintf("%d waived", l.Waived))
	}
	notes = l.skipNotes(notes)
	return fmt.Sprintf("%s: %d/%d%s", l.Subject, l.Passed, l.Counted, parenthesize(notes))
}

// skipNotes appends "N skipped" and "M not requested" to notes, when non-zero.
func (l ReadinessLine) skipNotes(notes []string) []string {
	if l.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d skipped", l.Skipped))
	}
	if l.NotRequested > 0 {
		notes = append(notes, fmt.Sprintf("%d not requested", l.NotRequested))
	}
	return notes
}

func parenthesize(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (l *ReadinessLine) add(c Check) {
	switch v := c.Verdict; {
	case c.NotRequestedSkip():
		l.NotRequested++
		return
	case v == Skipped:
		l.Skipped++
		return
	case v.Passing():
		l.Passed++
	case v == Error:
		l.Errors++
	case v.Failing():
		l.Failed++
	case v == Waived:
		l.Waived++
	}
	l.Counted++
}

// rfcNumberRE finds the RFC a clause cites, e.g. "7644" in "RFC7644 §3.5.2".
var rfcNumberRE = regexp.MustCompile(`(?i)\bRFC\s*-?\s*(\d+)`)

// idpAliases maps other names for an IdP onto the family name used in
// readiness lines.
var idpAliases = map[string]string{"azure": "entra", "aad": "entra", "azuread": "entra", "ping": "pingfederate"}

// idpDisplayNames spells known IdP families the way their vendors do.
var idpDisplayNames = map[string]string{
	"okta": "Okta", "entra": "Entra", "pingfederate": "PingFederate", "onelogin": "OneLogin",
	"sailpoint": "SailPoint", "jumpcloud": "JumpCloud", "google": "Google",
}

// idpFamily returns the IdP family of a level or label name: its leading
// letters, so "okta-aiw" and "okta" both give "okta".
func idpFamily(name string) string {
	name = strings.ToLower(name)
	end := strings.IndexFunc(name, func(r rune) bool { return r < 'a' || r > 'z' })
	if end >= 0 {
		name = name[:end]
	}
	if alias, ok := idpAliases[name]; ok {
		return alias
	}
	return name
}

// idpDisplayName returns how readiness lines name an IdP family.
func idpDisplayName(family string) string {
	if d, ok := idpDisplayNames[family]; ok {
		return d
	}
	return strings.ToUpper(family[:1]) + family[1:]
}

// checkIdPs returns the IdP families a check counts toward: that of its
// IDP:<name> level and of each "idp:<name>" label.
func checkIdPs(c Check) []string {
	var out []string
	if name, ok := c.Level.IdP(); ok {
		if f := idpFamily(name); f != "" {
			out = append(out, f)
		}
	}
	for _, label := range c.Labels {
		if len(label) > 4 && strings.EqualFold(label[:4], "idp:") {
			if f := idpFamily(label[4:]); f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Readiness returns the readiness summary: one line per RFC and level (MUST,
// SHOULD, MAY) among the checks, ordered by RFC then level, then one line per
// IdP family named by a check's IDP:<name> level or idp:<name> label, ordered
// by name. An IdP is ready when none of its checks failed or errored.
func (r *Run) Readiness() []ReadinessLine {
	rfc := map[string]*ReadinessLine{}
	idp := map[string]*ReadinessLine{}
	for _, c := range r.Checks {
		if c.Level == Must || c.Level == Should || c.Level == May {
			doc := "RFC"
			if m := rfcNumberRE.FindStringSubmatch(c.RFC); m != nil {
				doc = "RFC " + m[1]
			}
			subject := doc + " " + string(c.Level)
			l := rfc[subject]
			if l == nil {
				l = &ReadinessLine{
					Key:     strings.ToLower(strings.ReplaceAll(doc, " ", "") + "-" + string(c.Level)),
					Subject: subject,
				}
				rfc[subject] = l
			}
			l.add(c)
		}
		for _, f := range checkIdPs(c) {
			l := idp[f]
			if l == nil {
				l = &ReadinessLine{Key: "idp-" + f, Subject: idpDisplayName(f), IdP: true}
				idp[f] = l
			}
			l.add(c)
		}
	}
	var rfcLines, idpLines []ReadinessLine
	for _, l := range rfc {
		rfcLines = append(rfcLines, *l)
	}
	for _, l := range idp {
		idpLines = append(idpLines, *l)
	}
	sort.Slice(rfcLines, func(i, j int) bool {
		di, dj := rfcDoc(rfcLines[i].Subject), rfcDoc(rfcLines[j].Subject)
		if di != dj {
			return di < dj
		}
		return levelRank(rfcLevel(rfcLines[i].Subject)) < levelRank(rfcLevel(rfcLines[j].Subject))
	})
	sort.Slice(idpLines, func(i, j int) bool { return idpLines[i].Key < idpLines[j].Key })
	return append(rfcLines, idpLines...)
}

func rfcDoc(subject string) string {
	i := strings.LastIndexByte(subject, ' ')
	return subject[:i]
}

func rfcLevel(subject string) Level {
	i := strings.LastIndexByte(subject, ' ')
	return Level(subject[i+1:])
}

// Percentiles summarises the latency samples of one simulated operation by
// the nearest-rank method: Pn is the smallest sample that at least n% of the
// samples do not exceed. It does not modify samples; Errors is left for the
// caller to set.
func Percentiles(op string, samples []time.Duration) OperationStats {
	st := OperationStats{Operation: op, Count: len(samples)}
	if len(samples) == 0 {
		return st
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
		return sorted[max(0, min(i, len(sorted)-1))]
	}
	st.P50, st.P95, st.P99 = rank(50), rank(95), rank(99)
	return st
}

// attention returns the checks that are not a plain pass, failures first:
// fail, then error (each by level: MUST, IdP, SHOULD, MAY), then
// unsupported-but-works, waived and skipped, each in run order. A fail
// comes before every error because an error is often the knock-on of one
// (a create answered 200 for 201 fails the checks of the create and makes
// every check that needed a user an error "setup failed"): the list, which
// the terminal and Markdown cut short, must show the cause.
func (r *Run) attention() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Verdict != Pass {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		fi, fj := out[i].Verdict.Failing(), out[j].Verdict.Failing()
		if fi != fj {
			return fi
		}
		if fi {
			if vi, vj := verdictRank(out[i].Verdict), verdictRank(out[j].Verdict); vi != vj {
				return vi < vj
			}
			return levelRank(out[i].Level) < levelRank(out[j].Level)
		}
		return verdictRank(out[i].Verdict) < verdictRank(out[j].Verdict)
	})
	return out
}

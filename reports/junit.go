package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The JUnit XML that Jenkins (junit plugin), GitLab and the GitHub Actions
// test reporters read: testsuites > testsuite > testcase, where a testcase
// holds at most one of failure, error or skipped, plus properties and
// system-out.

type junitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Testcases  []junitTestcase `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestcase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Skipped    *junitSkipped   `xml:"skipped"`
	Failure    *junitProblem   `xml:"failure"`
	Error      *junitProblem   `xml:"error"`
	SystemOut  *junitText      `xml:"system-out"`
}

// junitText is element text written as CDATA, which keeps evidence readable.
type junitText struct {
	Text string `xml:",cdata"`
}

// newJUnitText returns s as element text, or nil for nothing.
func newJUnitText(s string) *junitText {
	if s == "" {
		return nil
	}
	return &junitText{Text: xmlText(s)}
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// junitSeconds renders a duration as JUnit's decimal seconds.
func junitSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// WriteJUnit writes r, redacted, as JUnit XML: one testsuite for the run and
// one testcase per check, with classname the check's area and name
// "ID: title". A fail becomes <failure> and an error <error>, each with the
// reason as message and the evidence as text; skipped and waived become
// <skipped message="reason"/>; unsupported-but-works passes with a note in
// <system-out>. Each testcase carries rfc, level and verdict properties.
func WriteJUnit(w io.Writer, r *Run) error {
	r = r.forOutput()
	sum := r.Summary()
	suite := junitTestsuite{
		Name:      suiteName(r),
		Tests:     sum.Total(),
		Failures:  sum.Fail,
		Errors:    sum.Error,
		Skipped:   sum.Skipped + sum.Waived,
		Time:      junitSeconds(r.Duration),
		Timestamp: junitTimestamp(r.Started),
	}
	prop := func(name, value string) {
		if value != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: name, Value: value})
		}
	}
	prop("scimlab.version", r.Tool.Version)
	prop("scimlab.commit", r.Tool.Commit)
	prop("kind", r.Kind)
	prop("command", r.Command)
	prop("target", r.Target)
	prop("profile", r.Profile)
	prop("idp", r.IdP)
	if r.Seed != 0 {
		prop("seed", strconv.FormatInt(r.Seed, 10))
	}
	for _, l := range r.Readiness() {
		prop("readiness."+l.Key, l.String())
	}
	for _, c := range r.Checks {
		suite.Testcases = append(suite.Testcases, junitCase(c))
	}
	suite.SystemOut = newJUnitText(junitSystemOut(r))
	doc := junitTestsuites{
		Name:     suite.Name,
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Errors:   suite.Errors,
		Skipped:  suite.Skipped,
		Time:     suite.Time,
		Suites:   []junitTestsuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// junitTimestamp renders t the way the JUnit schema wants: ISO 8601 with no
// zone, taken as UTC.
func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// suiteName names the run's testsuite, e.g. "scimlab test (profile rfc)".
func suiteName(r *Run) string {
	if s := subjectOf(r); s != "" {
		return runTitle(r) + " (" + s + ")"
	}
	return runTitle(r)
}

func junitCase(c Check) junitTestcase {
	tc := junitTestcase{
		Name:      c.ID + ": " + oneLine(c.Title),
		Classname: areaName(c.Area),
		Time:      junitSeconds(c.Duration),
	}
	add := func(name, value string) {
		if value != "" {
			tc.Properties = append(tc.Properties, junitProperty{Name: name, Value: value})
		}
	}
	add("rfc", c.RFC)
	add("level", string(c.Level))
	add("verdict", string(c.Verdict))
	add("capability", c.Capability)
	if c.NotRequestedSkip() {
		add("notRequested", "true")
	}
	if len(c.Labels) > 0 {
		add("labels", strings.Join(c.Labels, ","))
	}
	reason := oneLine(c.Reason)
	switch c.Verdict {
	case Fail:
		tc.Failure = &junitProblem{Message: reason, Type: string(c.Level), Text: xmlText(junitDetail(c))}
	case Error:
		tc.Error = &junitProblem{Message: reason, Type: string(c.Level), Text: xmlText(junitDetail(c))}
	case Skipped, Waived:
		tc.Skipped = &junitSkipped{Message: reason}
	case UnsupportedButWorks:
		tc.SystemOut = newJUnitText("unsupported-but-works: the target declares this capability unsupported, yet it works; correct /ServiceProviderConfig. " + reason)
	}
	return tc
}

// xmlText replaces the characters XML 1.0 forbids even in CDATA (§2.2), which
// a target's response body may hold, with U+FFFD.
func xmlText(s string) string {
	valid := func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
	}
	if strings.IndexFunc(s, func(r rune) bool { return !valid(r) }) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if !valid(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

// junitDetail is the text of a failure or error: what was checked and the
// evidence.
func junitDetail(c Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", oneLine(c.Reason))
	if c.RFC != "" {
		fmt.Fprintf(&b, "%s (%s)\n", c.RFC, c.Level)
	} else {
		fmt.Fprintf(&b, "level %s\n", c.Level)
	}
	if len(c.Evidence) > 0 {
		b.WriteString("\n")
		b.WriteString(evidenceText(c.Evidence))
	}
	return b.String()
}

// junitSystemOut carries the run's notes, differences and orphans, which
// belong to no single check.
func junitSystemOut(r *Run) string {
	var b strings.Builder
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", oneLine(n))
	}
	for _, d := range r.Differences {
		fmt.Fprintf(&b, "difference: %s\n", differenceText(d))
	}
	for _, o := range r.OrphanList() {
		fmt.Fprintf(&b, "orphan: %s\n", oneLine(o.URL))
		if o.Reason != "" {
			fmt.Fprintf(&b, "  why: %s\n", oneLine(o.Reason))
		}
	}
	return b.String()
}

// differenceText renders a difference on one line.
func differenceText(d Difference) string {
	s := oneLine(d.Resource)
	if d.Attribute != "" {
		s += " " + oneLine(d.Attribute)
	}
	return fmt.Sprintf("%s: want %q, got %q", s, d.Want, d.Got)
}

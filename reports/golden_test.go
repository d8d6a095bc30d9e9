package reports

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in fixtures/reports")

// fixtureDir holds the fixed run and the goldens rendered from it.
const fixtureDir = "../fixtures/reports"

// fixtureSecrets are the secrets fixtures/reports/run.json holds in places
// the renderers must redact.
var fixtureSecrets = []string{
	"scimlab_Zx81kQ0pLmN3vB7tR2yW", // bearer token, command line, HTML body
	"Zx81kQ0pLmN3vB7tR2yW",
	"Sup3r-Secret!pw",   // JSON password member
	"N3w-Passw0rd!",     // PATCH path "password" value
	"qT9Ax7LmP2vW",      // access_token query parameter
	"pa55w0rdInUrl",     // userinfo in a request URL
	"hunter2Secret",     // userinfo in the target URL
	"c00kieS3cretValue", // Set-Cookie
	"k3y-AbCdEf-991",    // X-Api-Key
	"Hunter2-Secret",    // difference on the password attribute
}

func loadFixture(t testing.TB) *Run {
	t.Helper()
	r, err := Load(filepath.Join(fixtureDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(fixtureDir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./reports -update and review the diff\n%s", name, firstDifference(string(want), string(got)))
	}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs)"
}

func TestGolden(t *testing.T) {
	r := loadFixture(t)
	for _, tc := range []struct{ format, file string }{
		{"json", "golden.json"},
		{"junit", "golden.xml"},
		{"md", "golden.md"},
		{"html", "golden.html"},
		{"text", "golden.txt"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			// Render's text format decides colour by itself; a bytes.Buffer
			// is never a terminal, so the golden has none.
			if err := Render(&buf, r, tc.format); err != nil {
				t.Fatal(err)
			}
			out := buf.Bytes()
			for _, s := range fixtureSecrets {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("%s output contains the secret %q", tc.format, s)
				}
			}
			if bytes.Contains(out, []byte("\x1b[")) {
				t.Errorf("%s output contains an ANSI escape sequence", tc.format)
			}
			checkGolden(t, tc.file, out)
		})
	}
}

// TestFixtureCoversModel keeps the fixture honest: it must exercise every
// verdict, several levels and areas, IdP checks, evidence, operations and
// differences, or the goldens prove less than they seem to.
func TestFixtureCoversModel(t *testing.T) {
	r := loadFixture(t)
	sum := r.Summary()
	for _, v := range Verdicts() {
		if sum.Of(v) == 0 {
			t.Errorf("fixture has no %s check", v)
		}
	}
	if n := len(r.ByLevel()); n < 4 {
		t.Errorf("fixture has %d levels, want at least 4", n)
	}
	if n := len(r.ByArea()); n < 5 {
		t.Errorf("fixture has %d areas, want at least 5", n)
	}
	idp := 0
	for _, l := range r.Readiness() {
		if l.IdP {
			idp++
		}
	}
	if idp < 2 {
		t.Errorf("fixture names %d IdPs, want at least 2", idp)
	}
	if len(r.Operations) == 0 || len(r.Differences) == 0 {
		t.Error("fixture has no operations or no differences")
	}
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range fixtureSecrets {
		if !bytes.Contains(raw, []byte(s)) {
			t.Errorf("fixture no longer holds the secret %q, so the goldens do not prove it is redacted", s)
		}
	}
}

// JUnit structures as the Jenkins junit plugin and GitLab read them,
// written independently of the renderer's own.
type xTestsuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []xTestsuite `xml:"testsuite"`
}

type xTestsuite struct {
	Name       string      `xml:"name,attr"`
	Tests      int         `xml:"tests,attr"`
	Failures   int         `xml:"failures,attr"`
	Errors     int         `xml:"errors,attr"`
	Skipped    int         `xml:"skipped,attr"`
	Time       string      `xml:"time,attr"`
	Timestamp  string      `xml:"timestamp,attr"`
	Properties []xProperty `xml:"properties>property"`
	Cases      []xTestcase `xml:"testcase"`
	SystemOut  string      `xml:"system-out"`
}

type xProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type xTestcase struct {
	Name       string      `xml:"name,attr"`
	Classname  string      `xml:"classname,attr"`
	Time       string      `xml:"time,attr"`
	Properties []xProperty `xml:"properties>property"`
	Failure    *xResult    `xml:"failure"`
	Error      *xResult    `xml:"error"`
	Skipped    *xResult    `xml:"skipped"`
	SystemOut  string      `xml:"system-out"`
}

func (c xTestcase) prop(name string) string {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func TestJUnitParsesBack(t *testing.T) {
	r := loadFixture(t)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc xTestsuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v", err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("got %d testsuites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	sum := r.Summary()
	if s.Tests != len(r.Checks) || len(s.Cases) != len(r.Checks) {
		t.Errorf("tests=%d with %d testcases, want %d", s.Tests, len(s.Cases), len(r.Checks))
	}
	var failures, errs, skipped int
	for _, c := range s.Cases {
		n := 0
		if c.Failure != nil {
			failures++
			n++
		}
		if c.Error != nil {
			errs++
			n++
		}
		if c.Skipped != nil {
			skipped++
			n++
		}
		if n > 1 {
			t.Errorf("testcase %q has %d results; JUnit allows one", c.Name, n)
		}
	}
	if s.Failures != sum.Fail || failures != sum.Fail {
		t.Errorf("failures attr %d, <failure> %d, want %d", s.Failures, failures, sum.Fail)
	}
	if s.Errors != sum.Error || errs != sum.Error {
		t.Errorf("errors attr %d, <error> %d, want %d", s.Errors, errs, sum.Error)
	}
	if want := sum.Skipped + sum.Waived; s.Skipped != want || skipped != want {
		t.Errorf("skipped attr %d, <skipped> %d, want %d", s.Skipped, skipped, want)
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != s.Errors || doc.Skipped != s.Skipped {
		t.Errorf("testsuites totals %+v do not match the testsuite's", doc)
	}
	if s.Timestamp != "2025-03-14T09:26:53" {
		t.Errorf("timestamp = %q, want 2025-03-14T09:26:53", s.Timestamp)
	}
	if s.Time != "31.412" {
		t.Errorf("time = %q, want 31.412", s.Time)
	}
	byName := map[string]xTestcase{}
	for _, c := range s.Cases {
		byName[c.Name] = c
	}
	for _, c := range r.Checks {
		name := c.ID + ": " + c.Title
		tc, ok := byName[name]
		if !ok {
			t.Errorf("no testcase named %q", name)
			continue
		}
		if tc.Classname != c.Area {
			t.Errorf("%s: classname %q, want %q", c.ID, tc.Classname, c.Area)
		}
		if tc.prop("rfc") != c.RFC || tc.prop("level") != string(c.Level) || tc.prop("verdict") != string(c.Verdict) {
			t.Errorf("%s: properties rfc=%q level=%q verdict=%q", c.ID, tc.prop("rfc"), tc.prop("level"), tc.prop("verdict"))
		}
		switch c.Verdict {
		case Fail:
			if tc.Failure == nil || tc.Failure.Message != c.Reason {
				t.Errorf("%s: failure %+v, want message %q", c.ID, tc.Failure, c.Reason)
			}
			if len(c.Evidence) > 0 && !strings.Contains(tc.Failure.Text, c.Evidence[0].Request.Method+" ") {
				t.Errorf("%s: failure text lacks the evidence:\n%s", c.ID, tc.Failure.Text)
			}
		case Error:
			if tc.Error == nil || tc.Error.Message != c.Reason {
				t.Errorf("%s: error %+v, want message %q", c.ID, tc.Error, c.Reason)
			}
		case Skipped, Waived:
			if tc.Skipped == nil || tc.Skipped.Message != c.Reason {
				t.Errorf("%s: skipped %+v, want message %q", c.ID, tc.Skipped, c.Reason)
			}
		case UnsupportedButWorks:
			if tc.Failure != nil || tc.Error != nil || tc.Skipped != nil || !strings.Contains(tc.SystemOut, "unsupported-but-works") {
				t.Errorf("%s: want a passing testcase with a system-out note, got %+v", c.ID, tc)
			}
		case Pass:
			if tc.Failure != nil || tc.Error != nil || tc.Skipped != nil {
				t.Errorf("%s: passing check rendered with a result element", c.ID)
			}
		}
	}
}

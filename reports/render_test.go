package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// syntheticRun builds a run of n checks across verdicts, levels and areas,
// with evidence on the failures, as a large suite run would have.
func syntheticRun(n int) *Run {
	verdicts := Verdicts()
	levels := []Level{Must, Must, Should, May, IdPLevel("okta"), IdPLevel("entra")}
	areas := []string{"discovery", "users", "groups", "filter", "patch", "paging", "etag", "bulk", "auth", "limits"}
	r := &Run{
		SchemaVersion: SchemaVersion, Tool: Tool{Name: "scimlab", Version: "v1.0.0"}, Kind: "test",
		Target: "https://scim.example.test/scim/v2", Profile: "rfc",
		Started: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Duration: time.Minute,
	}
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"` + strings.Repeat("x", 600) + `"}`
	for i := 0; i < n; i++ {
		c := Check{
			ID:       fmt.Sprintf("%s.check-%03d", areas[i%len(areas)], i),
			Title:    fmt.Sprintf("Check number %d does what RFC 7644 asks", i),
			Area:     areas[i%len(areas)],
			RFC:      fmt.Sprintf("RFC7644 §3.%d", i%14),
			Level:    levels[i%len(levels)],
			Verdict:  verdicts[i%len(verdicts)],
			Duration: time.Duration(i) * time.Millisecond,
		}
		if c.Verdict != Pass {
			c.Reason = fmt.Sprintf("reason %d: got 400, want 201", i)
		}
		if c.Verdict.Failing() {
			c.Evidence = []Exchange{{
				Request: HTTPMessage{Method: "POST", URL: r.Target + "/Users", Headers: map[string][]string{
					"Authorization": {"Bearer scimlab_AbC123dEf456"}, "Content-Type": {"application/scim+json"}},
					Body: `{"userName":"user` + fmt.Sprint(i) + `","password":"pw"}`},
				Response: HTTPMessage{Status: 400, Headers: map[string][]string{"Content-Type": {"application/scim+json"}}, Body: body},
				Latency:  12 * time.Millisecond,
			}}
		}
		r.Checks = append(r.Checks, c)
	}
	return r
}

func TestRenderFormats(t *testing.T) {
	r := loadFixture(t)
	for _, f := range append(Formats(), "xml", "markdown", "txt", " JSON ") {
		var buf bytes.Buffer
		if err := Render(&buf, r, f); err != nil {
			t.Errorf("Render(%q): %v", f, err)
		}
		if buf.Len() == 0 {
			t.Errorf("Render(%q) wrote nothing", f)
		}
	}
	err := Render(&bytes.Buffer{}, r, "pdf")
	if err == nil || !strings.Contains(err.Error(), "json, junit, md, html, text") {
		t.Errorf("unknown format error = %v", err)
	}
}

func TestWriteAll(t *testing.T) {
	r := loadFixture(t)
	dir := filepath.Join(t.TempDir(), "nested", "out")
	paths, err := WriteAll(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"json": "report.json", "junit": "junit.xml", "md": "report.md", "html": "report.html"}
	if len(paths) != len(want) {
		t.Errorf("WriteAll returned %v", paths)
	}
	for format, name := range want {
		p := paths[format]
		if !filepath.IsAbs(p) || filepath.Base(p) != name {
			t.Errorf("%s: path %q, want an absolute path to %s", format, p, name)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, r, format); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s differs from Render's output", name)
		}
	}
	back, err := Load(paths["json"])
	if err != nil {
		t.Fatalf("report.json does not load back: %v", err)
	}
	if len(back.Checks) != len(r.Checks) {
		t.Errorf("report.json has %d checks, want %d", len(back.Checks), len(r.Checks))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(want) {
		t.Errorf("WriteAll left %d files in the directory, want %d (temporary files left behind?)", len(entries), len(want))
	}

	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteAll(filepath.Join(blocker, "sub"), r); err == nil {
		t.Error("WriteAll into a path under a file succeeded")
	}
}

func TestTextColor(t *testing.T) {
	r := loadFixture(t)
	var plain, colored bytes.Buffer
	if err := WriteText(&plain, r, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&colored, r, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Error("plain text has escape sequences")
	}
	if !strings.Contains(colored.String(), ansiRed+ansiBold+"FAILED"+ansiReset) {
		t.Errorf("coloured text lacks a red FAILED:\n%q", colored.String())
	}
	stripped := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(colored.String(), "")
	if stripped != plain.String() {
		t.Error("colour changes the text, not only its colour")
	}
	if IsTerminal(&plain) || UseColor(&plain) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}

func TestTextStripsControlCharacters(t *testing.T) {
	r := &Run{Target: "https://h.test", Checks: []Check{{ID: "a", Title: "t", Level: Must, Verdict: Fail, Reason: "evil \x1b[2J\x1b]0;pwned\x07 reason"}}}
	var buf bytes.Buffer
	if err := WriteText(&buf, r, false); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(buf.String(), "\x1b\x07") {
		t.Errorf("a reason from the target reached the terminal with control characters: %q", buf.String())
	}
}

func TestMarkdownCapsList(t *testing.T) {
	r := syntheticRun(300)
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	att := len(r.attention())
	if want := fmt.Sprintf("…and %d more", att-MarkdownListLimit); !strings.Contains(out, want) {
		t.Errorf("markdown lacks %q", want)
	}
	if n := strings.Count(out, "\n- "); n > MarkdownListLimit+20 {
		t.Errorf("markdown lists %d items", n)
	}
	// GitHub refuses comments over 65536 characters.
	if len([]rune(out)) > 60000 {
		t.Errorf("markdown is %d characters, too long for a pull-request comment", len([]rune(out)))
	}
	// Failures come first.
	for _, v := range []Verdict{Waived, Skipped, UnsupportedButWorks} {
		if i := strings.Index(out, "**"+string(v)+"**"); i >= 0 && i < strings.Index(out, "**fail**") {
			t.Errorf("%s listed before the failures", v)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	r := &Run{Target: "https://h.test", Checks: []Check{{ID: "a`b", Title: "<img src=x onerror=alert(1)> | *bold* @octocat", Level: Must, Verdict: Fail,
		Reason: "line one\nline two | [link](http://evil.test)"}}}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<img", "| *bold*", "[link](", " @octocat", "line one\nline two"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains unescaped %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "``a`b``") {
		t.Errorf("an id with a backtick is not in a safe code span:\n%s", out)
	}
}

func TestHTMLSelfContainedAndEscaped(t *testing.T) {
	r := loadFixture(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, re := range []string{`<link\b`, `<script[^>]+src=`, `<img[^>]+src=`, `<iframe`, `@import`, `url\(`, `\bsrc="http`, `\bhref="http`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("the HTML report would fetch something: matches %s", re)
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("page has %d <script> tags, want only its own", n)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the evidence body's <script> is not escaped as text")
	}
	for _, id := range []string{`id="summary-total"`, `id="summary-pass"`, `id="summary-unsupported-but-works"`, `id="filter-verdict-pass"`,
		`id="filter-level-idp-okta"`, `id="filter-area-users"`, `id="capabilities"`, `id="readiness-idp-okta"`, `data-verdict="fail"`,
		`id="check-users-create-201"`, `id="evidence-users-create-201"`, `id="operations"`, `id="differences"`} {
		if !strings.Contains(page, id) {
			t.Errorf("HTML lacks %s", id)
		}
	}
}

func TestHTMLDuplicateIDs(t *testing.T) {
	r := &Run{Checks: []Check{{ID: "a.b", Verdict: Pass}, {ID: "a-b", Verdict: Pass}, {ID: "a.b", Verdict: Pass}}}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`<tr class="check[^"]*" id="(check-[^"]*)"`).FindAllStringSubmatch(buf.String(), -1) {
		if seen[m[1]] {
			t.Errorf("element id %s repeats", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) != 3 {
		t.Errorf("got %d check rows, want 3", len(seen))
	}
}

func TestJUnitInvalidXMLCharacters(t *testing.T) {
	r := &Run{Checks: []Check{{ID: "a", Area: "x", Level: Must, Verdict: Fail, Reason: "bad \x00 byte",
		Evidence: []Exchange{{Response: HTTPMessage{Status: 500, Body: "nul\x00 esc\x1b ]]> end"}}}}}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc xTestsuites
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit with control characters in evidence does not parse: %v\n%s", err, buf.String())
	}
	if got := doc.Suites[0].Cases[0].Failure.Text; !strings.Contains(got, "]]> end") {
		t.Errorf("failure text lost the CDATA terminator in the body: %q", got)
	}
}

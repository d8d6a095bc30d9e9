package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// formatDuration rounds d for people: "3ms", "1.234s", "450µs".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// oneLine makes s safe to print on one line: newlines and tabs become spaces,
// other control characters (which could move a terminal's cursor) become
// U+FFFD, and runs of spaces collapse.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == ' ':
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.IsControl(r):
			r = unicode.ReplacementChar
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ")
}

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	if n <= 0 {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

// safeText replaces control characters other than newline and tab, so that
// evidence printed to a terminal cannot inject escape sequences.
func safeText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && unicode.IsControl(r) }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// displayBody returns a body as a reader wants it: JSON indented, anything
// else as it was.
func displayBody(body string) string {
	trimmed := strings.TrimSpace(body)
	if len(trimmed) > 1 && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid([]byte(trimmed)) {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(trimmed), "", "  ") == nil {
			return buf.String()
		}
	}
	return body
}

// String renders m the way it went over the wire: the request line or the
// status, the headers sorted by name, a blank line and the body (JSON
// indented). A truncated body ends with a note saying so.
func (m HTTPMessage) String() string {
	var b strings.Builder
	switch {
	case m.Method != "" || m.URL != "":
		fmt.Fprintf(&b, "%s %s\n", m.Method, m.URL)
	case m.Status != 0:
		fmt.Fprintf(&b, "HTTP %d %s\n", m.Status, http.StatusText(m.Status))
	default:
		b.WriteString("(no response)\n")
	}
	for _, name := range sortedHeaderNames(m.Headers) {
		for _, v := range m.Headers[name] {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	if m.Body != "" {
		b.WriteString("\n")
		b.WriteString(displayBody(m.Body))
		if !strings.HasSuffix(m.Body, "\n") {
			b.WriteString("\n")
		}
	}
	if m.Truncated {
		if m.OriginalSize > 0 {
			fmt.Fprintf(&b, "[body truncated: %d of %d bytes shown]\n", len(m.Body), m.OriginalSize)
		} else {
			fmt.Fprintf(&b, "[body truncated: %d bytes shown]\n", len(m.Body))
		}
	}
	return b.String()
}

// String renders the request, then the response with the latency.
func (e Exchange) String() string {
	var b strings.Builder
	b.WriteString(e.Request.String())
	if e.Latency > 0 {
		fmt.Fprintf(&b, "\n-- response after %s --\n", formatDuration(e.Latency))
	} else {
		b.WriteString("\n-- response --\n")
	}
	b.WriteString(e.Response.String())
	return b.String()
}

// evidenceText renders all of a check's exchanges, numbered when several.
func evidenceText(ev []Exchange) string {
	var b strings.Builder
	for i, e := range ev {
		if len(ev) > 1 {
			fmt.Fprintf(&b, "== exchange %d of %d ==\n", i+1, len(ev))
		}
		b.WriteString(e.String())
		if i < len(ev)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// runTitle names a run in headings, e.g. "scimlab test".
func runTitle(r *Run) string {
	name := r.Tool.Name
	if name == "" {
		name = "scimlab"
	}
	if r.Kind != "" {
		return name + " " + r.Kind
	}
	return name
}

// subjectOf says what a run tested against: the profile, IdP and seed.
func subjectOf(r *Run) string {
	var parts []string
	if r.Profile != "" {
		parts = append(parts, "profile "+r.Profile)
	}
	if r.IdP != "" {
		parts = append(parts, "IdP "+r.IdP)
	}
	if r.Seed != 0 {
		parts = append(parts, fmt.Sprintf("seed %d", r.Seed))
	}
	return strings.Join(parts, ", ")
}

// formatTime renders a run's start in UTC, to the second.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// toolVersion renders "scimlab v1.2.3 (abc1234)".
func toolVersion(t Tool) string {
	name := t.Name
	if name == "" {
		name = "scimlab"
	}
	s := name
	if t.Version != "" {
		s += " " + t.Version
	}
	if t.Commit != "" {
		c := t.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (" + c + ")"
	}
	return s
}

// notRequestedNote is " (N not requested)" after the count of skipped checks
// when some of them were skipped because the run was not asked to run them,
// and "" otherwise: summaries keep those apart from capabilities the target
// declares unsupported.
func notRequestedNote(t Tally, v Verdict) string {
	if v != Skipped || t.NotRequested == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d not requested)", t.NotRequested)
}

// verdictLabel is how summaries name a verdict in a column heading.
func verdictLabel(v Verdict) string {
	if v == UnsupportedButWorks {
		return "unsupported but works"
	}
	return string(v)
}

// areaName names an empty area.
func areaName(a string) string {
	if a == "" {
		return "(none)"
	}
	return a
}

// forOutput is what every renderer writes: r redacted, with each evidence
// URL absolute. A producer that recorded a request URL relative to the SCIM
// base URL ("/Groups", as a replayed transcript holds it) gets it resolved
// against r.Target, so that every report meets the documented form of
// HTTPMessage.URL.
func (r *Run) forOutput() *Run {
	out := r.Redacted()
	base := strings.TrimRight(out.Target, "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return out
	}
	out.Checks = append([]Check(nil), out.Checks...)
	for i := range out.Checks {
		c := &out.Checks[i]
		copied := false
		for k, e := range c.Evidence {
			u := e.Request.URL
			if u == "" || strings.Contains(u, "://") {
				continue
			}
			if !copied {
				c.Evidence = append([]Exchange(nil), c.Evidence...)
				copied = true
			}
			c.Evidence[k].Request.URL = base + "/" + strings.TrimLeft(u, "/")
		}
	}
	return out
}

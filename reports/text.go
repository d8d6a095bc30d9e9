package reports

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// TextListLimit is how many checks the terminal summary lists before it says
// "…and N more".
const TextListLimit = 50

// TextOrphanLimit is how many orphans the terminal summary lists.
const TextOrphanLimit = 20

// ANSI SGR sequences used by the terminal summary.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiPurple = "\x1b[35m"
	ansiGrey   = "\x1b[90m"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// UseColor reports whether a terminal summary written to w should be in
// colour: w is a terminal, NO_COLOR (https://no-color.org) is unset and TERM
// is not "dumb".
func UseColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// painter wraps text in ANSI colour when enabled.
type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return code + s + ansiReset
}

func (p painter) verdict(v Verdict, s string) string {
	switch v {
	case Pass:
		return p.paint(ansiGreen, s)
	case Fail:
		return p.paint(ansiRed+ansiBold, s)
	case Error:
		return p.paint(ansiPurple+ansiBold, s)
	case UnsupportedButWorks:
		return p.paint(ansiYellow, s)
	case Waived:
		return p.paint(ansiBlue, s)
	case Skipped:
		return p.paint(ansiGrey, s)
	}
	return s
}

// textTag is the upper-case tag that leads a check in the terminal
// summary: the verdict's own name, so that a log grepped for a verdict
// (unsupported-but-works too) finds its checks.
func textTag(v Verdict) string { return strings.ToUpper(string(v)) }

// WriteText writes r, redacted, as a terminal summary: the result, readiness
// lines, counts, capability mismatches, then the checks that did not plainly
// pass (failures first, capped at TextListLimit), latency and differences.
// With color, verdicts and readiness are coloured with ANSI sequences; pass
// UseColor(w) to colour only on a terminal. Text from the target is stripped
// of control characters either way.
func WriteText(w io.Writer, r *Run, color bool) error {
	r = r.forOutput()
	p := painter(color)
	var b strings.Builder
	fmt.Fprintf(&b, "%s against %s", p.paint(ansiBold, runTitle(r)), oneLine(r.Target))
	if s := subjectOf(r); s != "" {
		fmt.Fprintf(&b, " (%s)", s)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%s, started %s, took %s\n\n", toolVersion(r.Tool), formatTime(r.Started), formatDuration(r.Duration))

	for _, l := range r.Readiness() {
		mark := p.paint(ansiGreen, "✓")
		if !l.Ready() {
			mark = p.paint(ansiRed, "✗")
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, l.String())
	}
	sum := r.Summary()
	var counts []string
	for _, v := range Verdicts() {
		if n := sum.Of(v); n > 0 || v == Pass || v == Fail {
			counts = append(counts, p.verdict(v, fmt.Sprintf("%d %s%s", n, v, notRequestedNote(sum, v))))
		}
	}
	fmt.Fprintf(&b, "\n  %s  (%d checks)\n", strings.Join(counts, ", "), sum.Total())

	for _, row := range r.CapabilityMatrix() {
		if row.Status == DeclaredButBroken || row.Status == WorksUndeclared {
			fmt.Fprintf(&b, "  %s capability %s: %s\n", p.paint(ansiYellow, "!"), oneLine(row.Name), row.Status)
		}
	}

	if att := r.attention(); len(att) > 0 {
		b.WriteString("\n")
		width := 0
		for i, c := range att {
			if i < TextListLimit {
				width = max(width, len(textTag(c.Verdict)))
			}
		}
		for i, c := range att {
			if i == TextListLimit {
				fmt.Fprintf(&b, "  …and %d more (see report.html)\n", len(att)-TextListLimit)
				break
			}
			tag := fmt.Sprintf("%-*s", width, textTag(c.Verdict))
			cite := string(c.Level)
			if c.RFC != "" {
				cite += ", " + c.RFC
			}
			fmt.Fprintf(&b, "  %s  %s: %s (%s)\n", p.verdict(c.Verdict, tag), oneLine(c.ID), oneLine(c.Title), oneLine(cite))
			if c.Reason != "" {
				fmt.Fprintf(&b, "  %*s  %s\n", width, "", clip(oneLine(c.Reason), 200))
			}
		}
	}

	if len(r.Operations) > 0 {
		b.WriteString("\n  Latency      count  errors      p50      p95      p99\n")
		for _, op := range r.Operations {
			fmt.Fprintf(&b, "  %-10s %7d %7d %8s %8s %8s\n", clip(oneLine(op.Operation), 10), op.Count, op.Errors,
				formatDuration(op.P50), formatDuration(op.P95), formatDuration(op.P99))
		}
	}
	if len(r.Differences) > 0 {
		fmt.Fprintf(&b, "\n  %s:\n", plural(len(r.Differences), "end-state difference", "end-state differences"))
		for i, d := range r.Differences {
			if i == TextListLimit {
				fmt.Fprintf(&b, "    …and %d more\n", len(r.Differences)-TextListLimit)
				break
			}
			fmt.Fprintf(&b, "    %s\n", oneLine(differenceText(d)))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  note: %s\n", oneLine(n))
		}
	}
	if orphans := r.OrphanList(); len(orphans) > 0 {
		fmt.Fprintf(&b, "\n  %s left on the target:\n", plural(len(orphans), "resource", "resources"))
		for i, o := range orphans {
			if i == TextOrphanLimit {
				fmt.Fprintf(&b, "    …and %d more (see report.html)\n", len(orphans)-TextOrphanLimit)
				break
			}
			fmt.Fprintf(&b, "    %s\n", oneLine(o.URL))
			if o.Reason != "" {
				fmt.Fprintf(&b, "      %s\n", oneLine(o.Reason))
			}
		}
	}

	b.WriteString("\n")
	if r.Failed() {
		fmt.Fprintf(&b, "%s: %s\n", p.paint(ansiRed+ansiBold, "FAILED"), r.RequiredResult())
	} else {
		fmt.Fprintf(&b, "%s: every MUST and IdP check passed\n", p.paint(ansiGreen+ansiBold, "PASSED"))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

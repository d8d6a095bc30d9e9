package reports

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// MarkdownListLimit is how many checks the Markdown summary lists before it
// says "…and N more".
const MarkdownListLimit = 50

// markdownReasonLimit bounds one reason in the Markdown summary, in runes.
const markdownReasonLimit = 300

// WriteMarkdown writes r, redacted, as a Markdown summary sized for a
// pull-request comment: the verdict, readiness lines, a counts table by
// level, capability mismatches, then the checks that did not plainly pass,
// failures first, each with its reason and RFC clause, capped at
// MarkdownListLimit.
func WriteMarkdown(w io.Writer, r *Run) error {
	r = r.forOutput()
	var b strings.Builder
	fmt.Fprintf(&b, "## %s report\n\n", mdEscape(runTitle(r)))
	result := "✅ **PASSED**: every MUST and IdP check passed"
	if r.Failed() {
		result = "❌ **FAILED**: " + r.RequiredResult()
	}
	b.WriteString(result + "\n\n")
	fmt.Fprintf(&b, "Target %s", codeSpan(r.Target))
	if s := subjectOf(r); s != "" {
		fmt.Fprintf(&b, " (%s)", mdEscape(s))
	}
	fmt.Fprintf(&b, " · %s · %s · took %s\n\n", mdEscape(toolVersion(r.Tool)), formatTime(r.Started), formatDuration(r.Duration))

	if lines := r.Readiness(); len(lines) > 0 {
		for _, l := range lines {
			mark := "✅"
			if !l.Ready() {
				mark = "❌"
			}
			fmt.Fprintf(&b, "- %s %s\n", mark, mdEscape(l.String()))
		}
		b.WriteString("\n")
	}

	writeMarkdownCounts(&b, r)

	var mismatches []string
	for _, row := range r.CapabilityMatrix() {
		if row.Status == DeclaredButBroken || row.Status == WorksUndeclared {
			mismatches = append(mismatches, fmt.Sprintf("- %s: %s", codeSpan(row.Name), row.Status))
		}
	}
	if len(mismatches) > 0 {
		b.WriteString("**/ServiceProviderConfig mismatches**\n\n")
		b.WriteString(strings.Join(mismatches, "\n"))
		b.WriteString("\n\n")
	}

	if att := r.attention(); len(att) > 0 {
		nFail := 0
		for _, c := range att {
			if c.Verdict.Failing() {
				nFail++
			}
		}
		fmt.Fprintf(&b, "### Checks needing attention (%d failing, %d other)\n\n", nFail, len(att)-nFail)
		for i, c := range att {
			if i == MarkdownListLimit {
				fmt.Fprintf(&b, "- …and %d more (see the full report)\n", len(att)-MarkdownListLimit)
				break
			}
			fmt.Fprintf(&b, "- %s **%s** %s: %s", verdictIcon(c.Verdict), mdEscape(string(c.Verdict)), codeSpan(c.ID), mdEscape(clip(oneLine(c.Title), 120)))
			var cite []string
			cite = append(cite, mdEscape(string(c.Level)))
			if c.RFC != "" {
				cite = append(cite, mdEscape(c.RFC))
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(cite, ", "))
			if c.Reason != "" {
				fmt.Fprintf(&b, "  \n  %s", mdEscape(clip(oneLine(c.Reason), markdownReasonLimit)))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}

	if len(r.Operations) > 0 {
		b.WriteString("### Latency by operation\n\n")
		b.WriteString("| Operation | Count | Errors | p50 | p95 | p99 |\n|---|---:|---:|---:|---:|---:|\n")
		for _, op := range r.Operations {
			fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", mdEscape(op.Operation), op.Count, op.Errors,
				formatDuration(op.P50), formatDuration(op.P95), formatDuration(op.P99))
		}
		b.WriteString("\n")
	}
	if len(r.Differences) > 0 {
		fmt.Fprintf(&b, "### End-state differences (%d)\n\n", len(r.Differences))
		for i, d := range r.Differences {
			if i == MarkdownListLimit {
				fmt.Fprintf(&b, "- …and %d more\n", len(r.Differences)-MarkdownListLimit)
				break
			}
			fmt.Fprintf(&b, "- %s\n", mdEscape(clip(differenceText(d), markdownReasonLimit)))
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("### Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", mdEscape(clip(oneLine(n), markdownReasonLimit)))
		}
		b.WriteString("\n")
	}
	if orphans := r.OrphanList(); len(orphans) > 0 {
		fmt.Fprintf(&b, "### %s left on the target\n\n", plural(len(orphans), "resource", "resources"))
		for i, o := range orphans {
			if i == markdownOrphanLimit {
				fmt.Fprintf(&b, "- …and %d more (see report.html)\n", len(orphans)-markdownOrphanLimit)
				break
			}
			b.WriteString("- " + codeSpan(o.URL))
			if o.Reason != "" {
				b.WriteString(": " + mdEscape(clip(o.Reason, markdownReasonLimit)))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	if err != nil {
		return fmt.Errorf("write Markdown report: %w", err)
	}
	return nil
}

// writeMarkdownCounts writes the table of verdicts by level.
func writeMarkdownCounts(b *strings.Builder, r *Run) {
	verdicts := Verdicts()
	b.WriteString("| Level |")
	for _, v := range verdicts {
		fmt.Fprintf(b, " %s |", verdictLabel(v))
	}
	b.WriteString(" total |\n|---|")
	for range verdicts {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	row := func(name string, t Tally) {
		fmt.Fprintf(b, "| %s |", name)
		for _, v := range verdicts {
			fmt.Fprintf(b, " %d%s |", t.Of(v), notRequestedNote(t, v))
		}
		fmt.Fprintf(b, " %d |\n", t.Total())
	}
	for _, g := range r.ByLevel() {
		row(mdEscape(g.Name), g.Tally)
	}
	row("**all**", r.Summary())
	b.WriteString("\n")
}

// verdictIcon marks a verdict in Markdown lists.
func verdictIcon(v Verdict) string {
	switch v {
	case Pass:
		return "✅"
	case Fail:
		return "❌"
	case Error:
		return "💥"
	case UnsupportedButWorks:
		return "⚠️"
	case Waived:
		return "🔕"
	case Skipped:
		return "⏭️"
	}
	return "❔"
}

// mdReplacer escapes the characters that Markdown (GitHub- and GitLab-
// flavoured) would read as markup, including HTML tags and table pipes.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`, `|`, `\|`, `#`, `\#`, `~`, `\~`,
)

// mentionRE finds an @ that GitHub or GitLab would read as a mention of a
// user or team, which a report must not send notifications to.
var mentionRE = regexp.MustCompile(`(^|[^A-Za-z0-9._%+\-])@([A-Za-z0-9])`)

// mdEscape makes s literal text in Markdown, on one line.
// markdownOrphanLimit is how many orphans a Markdown report lists.
const markdownOrphanLimit = 10

func mdEscape(s string) string {
	s = mdReplacer.Replace(oneLine(s))
	return mentionRE.ReplaceAllString(s, "${1}@&#8203;${2}")
}

// codeSpan puts s in a Markdown code span that no backtick in s can close.
func codeSpan(s string) string {
	s = oneLine(s)
	if s == "" {
		return "``"
	}
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

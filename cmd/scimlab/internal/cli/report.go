package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reports"
)

func init() {
	register(command{name: "report", summary: "render or diff reports (report render|diff)", run: runReport})
}

func runReport(ctx context.Context, e *env, args []string) ExitCode {
	const usage = "Usage: scimlab report render RUN.json [--format html|junit|md|json|text] [-o FILE]\n" +
		"       scimlab report diff OLD.json NEW.json [--format text|md|json]   (exit 1 when a passing check now fails, is skipped or is missing)\n"
	if code, done := groupHelp(e, args, "report", usage); done {
		return code
	}
	switch args[0] {
	case "render":
		return runReportRender(e, args[1:])
	case "diff":
		return runReportDiff(e, args[1:])
	}
	if strings.HasPrefix(args[0], "-") {
		return fail(e, "report", usagef("flag %s before the subcommand; want 'report render' or 'report diff'", args[0]), ExitUsage)
	}
	return fail(e, "report", usagef("unknown subcommand %q; want render or diff", args[0]), ExitUsage)
}

func runReportRender(e *env, args []string) ExitCode {
	fs := newFlags("report render", "RUN.json [--format html|junit|md|json|text] [-o FILE]", e)
	format := fs.String("format", "text", "output format: "+strings.Join(reports.Formats(), ", ")+" (default: from -o's extension, else text)")
	out := fs.String("o", "", "write to FILE instead of stdout")
	pos, code, stop := parseInterspersed(fs, args, e)
	if stop {
		return code
	}
	if len(pos) != 1 {
		return fail(e, "report render", usagef("want one report file, got %d arguments", len(pos)), ExitUsage)
	}
	if !setFlags(fs)["format"] && *out != "" {
		*format = formatOfFile(*out)
	}
	if *out != "" && sameFile(pos[0], *out) {
		return fail(e, "report render", usagef("-o %s is the report being read; write the rendering to another file", *out), ExitUsage)
	}
	if !slices.Contains(reports.Formats(), *format) {
		return fail(e, "report render", usagef("unknown --format %q; want one of %s", *format, strings.Join(reports.Formats(), ", ")), ExitUsage)
	}
	run, err := reports.Load(pos[0])
	if err != nil {
		return fail(e, "report render", err, ExitUsage)
	}
	var buf bytes.Buffer
	if *format == "text" {
		err = reports.WriteText(&buf, run, *out == "" && reports.UseColor(e.stdout))
	} else {
		err = reports.Render(&buf, run, *format)
	}
	if err != nil {
		return fail(e, "report render", err, ExitUsage)
	}
	if *out == "" {
		_, _ = e.stdout.Write(buf.Bytes())
		return ExitOK
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fail(e, "report render", err, ExitUsage)
	}
	return ExitOK
}

func runReportDiff(e *env, args []string) ExitCode {
	fs := newFlags("report diff", "OLD.json NEW.json [--format text|md|json]", e)
	format := fs.String("format", "text", "output format: text, md or json")
	pos, code, stop := parseInterspersed(fs, args, e)
	if stop {
		return code
	}
	if len(pos) != 2 {
		return fail(e, "report diff", usagef("want two report files (old, new), got %d arguments", len(pos)), ExitUsage)
	}
	if *format != "text" && *format != "md" && *format != "json" {
		return fail(e, "report diff", usagef("unknown --format %q; want text, md or json", *format), ExitUsage)
	}
	oldRun, err := reports.Load(pos[0])
	if err != nil {
		return fail(e, "report diff", err, ExitUsage)
	}
	newRun, err := reports.Load(pos[1])
	if err != nil {
		return fail(e, "report diff", err, ExitUsage)
	}
	if err := reports.Comparable(oldRun, newRun); err != nil {
		return fail(e, "report diff", usagef("%s and %s: %v", pos[0], pos[1], err), ExitUsage)
	}
	d := reports.Diff(oldRun, newRun)
	if err := reports.RenderDiff(e.stdout, d, *format); err != nil {
		return fail(e, "report diff", err, ExitUsage)
	}
	if d.Regressed() {
		return ExitFailures
	}
	return ExitOK
}

// formatOfFile is the rendering a file name asks for by its extension
// (report.html, junit.xml, report.md, run.json), text for any other.
func formatOfFile(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".html", ".htm":
		return "html"
	case ".xml":
		return "junit"
	case ".md", ".markdown":
		return "md"
	case ".json":
		return "json"
	}
	return "text"
}

// sameFile reports whether two paths name one existing file.
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

package framework

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// CheckInfo is the metadata of one check, read from its spec's text and labels.
type CheckInfo struct {
	ID    string
	Title string
	Area  string
	Level reports.Level
	// RFC is the report form of the references, e.g. "RFC7644 §3.5.2", or
	// "idp-traffic.md §1.2" for a document of facts (lbl.Doc).
	RFC string
	// Capability is the feature that gates the check ("patch"), or "".
	Capability string
	// Labels are the labels beyond area, level and RFC references.
	Labels []string
	// FullText is Ginkgo's full spec name.
	FullText string
	// Location is file:line of the spec.
	Location string
}

// idRE is the form of a check ID: an upper-case area code and three digits.
var idRE = regexp.MustCompile(`^[A-Z]{2,4}-\d{3}$`)

// textRE splits a spec's leaf text into ID and title.
var textRE = regexp.MustCompile(`^\[([A-Z]{2,4}-\d{3})\] (.+)$`)

// It registers a check: a Ginkgo It whose text is "[ID] title" and whose
// labels are the lbl.Label arguments. Other arguments (the body, decorators
// such as SpecTimeout) go to Ginkgo as they are. Give the level and the RFC
// references here; the area usually comes from the enclosing Describe.
//
//	framework.It("USR-001", "creates a minimal user", lbl.MUST, lbl.RFC("7644:3.3"), func(ctx SpecContext) { … })
func It(id, title string, args ...any) bool {
	ginkgo.GinkgoHelper()
	return ginkgo.It(checkText(id, title), splitLabels(args)...)
}

// Entry registers a check as a DescribeTable entry; lbl.Label arguments
// become its labels and the rest are the table's parameters.
func Entry(id, title string, args ...any) ginkgo.TableEntry {
	ginkgo.GinkgoHelper()
	return ginkgo.Entry(checkText(id, title), splitLabels(args)...)
}

func checkText(id, title string) string {
	if !idRE.MatchString(id) {
		panic(fmt.Sprintf("check ID %q: want an upper-case code and three digits, e.g. USR-001", id))
	}
	if strings.TrimSpace(title) == "" {
		panic(fmt.Sprintf("check %s has no title", id))
	}
	return "[" + id + "] " + title
}

// splitLabels gathers lbl.Label arguments into one ginkgo.Labels decorator
// placed first, keeping the other arguments in order.
func splitLabels(args []any) []any {
	var labels ginkgo.Labels
	rest := make([]any, 0, len(args)+1)
	for _, a := range args {
		if l, ok := a.(lbl.Label); ok {
			labels = append(labels, string(l))
			continue
		}
		rest = append(rest, a)
	}
	if len(labels) == 0 {
		return rest
	}
	return append([]any{labels}, rest...)
}

// InfoFromSpec derives a check's metadata from its spec report and says
// what is wrong with it: no ID, an unknown label, not exactly one area or
// one level, no RFC (or document) reference.
func InfoFromSpec(s types.SpecReport) (CheckInfo, []string) {
	var problems []string
	ci := CheckInfo{FullText: s.FullText(), Location: s.LeafNodeLocation.String()}
	m := textRE.FindStringSubmatch(s.LeafNodeText)
	if m == nil {
		problems = append(problems, fmt.Sprintf("%q: text does not start with a check ID ([ABC-123] title); register it with framework.It or framework.Entry", s.FullText()))
		ci.Title = s.LeafNodeText
	} else {
		ci.ID, ci.Title = m[1], m[2]
	}
	var areas, levels, rfcs []string
	for _, l := range s.Labels() {
		switch {
		case !lbl.Valid(l):
			problems = append(problems, fmt.Sprintf("%s: label %q is not in the vocabulary (suites/framework/lbl)", ci.ID, l))
		case lbl.IsArea(l):
			areas = append(areas, l)
		case lbl.IsLevel(l):
			levels = append(levels, l)
		case lbl.IsRFC(l), lbl.IsDoc(l):
			rfcs = append(rfcs, lbl.FormatRFC(l))
		default:
			if c := lbl.Capability(l); c != "" && ci.Capability == "" {
				ci.Capability = c
			}
			ci.Labels = append(ci.Labels, l)
		}
	}
	if len(areas) != 1 {
		problems = append(problems, fmt.Sprintf("%s: want exactly one area label, have %v", ci.ID, areas))
	} else {
		ci.Area = areas[0]
	}
	if len(levels) != 1 {
		problems = append(problems, fmt.Sprintf("%s: want exactly one level label, have %v", ci.ID, levels))
	} else {
		ci.Level = levelOf(levels[0])
	}
	if len(rfcs) == 0 {
		problems = append(problems, fmt.Sprintf("%s: no reference (lbl.RFC, or lbl.Doc for an IdP need no RFC defines)", ci.ID))
	}
	ci.RFC = strings.Join(rfcs, ", ")
	return ci, problems
}

// levelOf maps a level label to a report level.
func levelOf(l string) reports.Level {
	if idp, ok := strings.CutPrefix(l, "idp:"); ok {
		return reports.IdPLevel(idp)
	}
	return reports.Level(l)
}

// InfoFromReport returns the metadata of every check in a Ginkgo report (a
// run or a PreviewSpecs report), sorted by ID, and every problem found,
// including duplicate IDs and duplicate full names.
func InfoFromReport(r types.Report) ([]CheckInfo, []string) {
	var out []CheckInfo
	var problems []string
	ids := map[string]string{}
	names := map[string]bool{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		ci, p := InfoFromSpec(s)
		problems = append(problems, p...)
		if ci.ID != "" {
			if prev, dup := ids[ci.ID]; dup {
				problems = append(problems, fmt.Sprintf("check ID %s is used twice: %s and %s", ci.ID, prev, ci.Location))
			}
			ids[ci.ID] = ci.Location
		}
		if names[ci.FullText] {
			problems = append(problems, fmt.Sprintf("full spec name %q is used twice", ci.FullText))
		}
		names[ci.FullText] = true
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, problems
}

// ChecksMarkdown renders the check table (ID, area, level, RFC, title) and a
// count per area as Markdown, for the README.
func ChecksMarkdown(checks []CheckInfo) string {
	var b strings.Builder
	counts := map[string]int{}
	for _, c := range checks {
		counts[c.Area]++
	}
	fmt.Fprintf(&b, "| Area | Checks |\n|---|---:|\n")
	for _, a := range lbl.Areas() {
		if n := counts[string(a)]; n > 0 {
			fmt.Fprintf(&b, "| %s | %d |\n", a, n)
		}
	}
	fmt.Fprintf(&b, "| **total** | **%d** |\n\n", len(checks))
	fmt.Fprintf(&b, "| ID | Area | Level | RFC | Gate | Check |\n|---|---|---|---|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", c.ID, c.Area, c.Level, c.RFC, c.Capability, strings.ReplaceAll(c.Title, "|", `\|`))
	}
	return b.String()
}

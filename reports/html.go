package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate renders a run as one self-contained page.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// htmlView is what the HTML template reads: everything precomputed, in the
// order the page shows it.
type htmlView struct {
	Title     string
	Run       *Run
	Tool      string
	Started   string
	Duration  string
	Subject   string
	Failed    bool
	RequiredN int
	// RequiredText is Run.RequiredResult: failures and errors apart.
	RequiredText string
	Summary      []htmlCount
	Total        int
	Readiness    []htmlReadiness
	Caps         []htmlCapability
	Levels       []htmlFilter
	Areas        []htmlFilter
	Verdicts     []htmlFilter
	Checks       []htmlCheck
	Operations   []htmlOperation
	Diffs        []Difference
	Orphans      []Orphan
	Schema       int
}

type htmlCount struct {
	Verdict Verdict
	Label   string
	N       int
	// NotRequested is, on the skipped tile, how many of the skips the run
	// was not asked to run.
	NotRequested int
}

type htmlReadiness struct {
	Key   string
	Text  string
	Ready bool
}

type htmlCapability struct {
	CapabilityRow
	ObservedText string
	StatusClass  string
}

type htmlFilter struct {
	Value string
	Label string
	N     int
	Slug  string
}

type htmlCheck struct {
	Check
	Slug      string
	AreaName  string
	Duration  string
	Tags      []string
	Exchanges []htmlExchange
}

type htmlExchange struct {
	Request  string
	Response string
	Status   int
	Latency  string
}

type htmlOperation struct {
	OperationStats
	P50, P95, P99 string
}

// WriteHTML writes r, redacted, as a single self-contained HTML page (inline
// CSS and JavaScript, no network fetches): summary numbers, readiness lines,
// the capability matrix, filters by verdict, area and level, and every
// check with its evidence expandable. Elements carry stable ids, classes and
// data attributes (README.md lists them) for tests and scripts.
func WriteHTML(w io.Writer, r *Run) error {
	if err := htmlTemplate.Execute(w, newHTMLView(r.forOutput())); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

func newHTMLView(r *Run) htmlView {
	v := htmlView{
		Title:    runTitle(r) + " report",
		Run:      r,
		Tool:     toolVersion(r.Tool),
		Started:  formatTime(r.Started),
		Duration: formatDuration(r.Duration),
		Subject:  subjectOf(r),
		Failed:   r.Failed(),
		Schema:   SchemaVersion,
		Orphans:  r.OrphanList(),
	}
	v.RequiredN = len(r.RequiredFailures())
	v.RequiredText = r.RequiredResult()
	sum := r.Summary()
	v.Total = sum.Total()
	for _, vd := range Verdicts() {
		hc := htmlCount{Verdict: vd, Label: verdictLabel(vd), N: sum.Of(vd)}
		if vd == Skipped {
			hc.NotRequested = sum.NotRequested
		}
		v.Summary = append(v.Summary, hc)
		v.Verdicts = append(v.Verdicts, htmlFilter{Value: string(vd), Label: verdictLabel(vd), N: sum.Of(vd), Slug: slug(string(vd))})
	}
	for _, l := range r.Readiness() {
		v.Readiness = append(v.Readiness, htmlReadiness{Key: l.Key, Text: l.String(), Ready: l.Ready()})
	}
	for _, row := range r.CapabilityMatrix() {
		c := htmlCapability{CapabilityRow: row, ObservedText: "unknown", StatusClass: "status-" + slug(string(row.Status))}
		if row.Observed != nil {
			c.ObservedText = yesNo(*row.Observed)
		}
		v.Caps = append(v.Caps, c)
	}
	for _, g := range r.ByLevel() {
		v.Levels = append(v.Levels, htmlFilter{Value: g.Name, Label: g.Name, N: g.Total(), Slug: slug(g.Name)})
	}
	for _, g := range r.ByArea() {
		v.Areas = append(v.Areas, htmlFilter{Value: g.Name, Label: areaName(g.Name), N: g.Total(), Slug: slug(areaName(g.Name))})
	}
	used := map[string]int{}
	for _, c := range sortForPage(r) {
		hc := htmlCheck{Check: c, AreaName: areaName(c.Area), Duration: formatDuration(c.Duration)}
		hc.Slug = slug(c.ID)
		if c.Capability != "" {
			hc.Tags = append(hc.Tags, "capability "+c.Capability)
		}
		if c.NotRequestedSkip() {
			hc.Tags = append(hc.Tags, "not requested")
		}
		hc.Tags = append(hc.Tags, c.Labels...)
		if n := used[hc.Slug]; n > 0 {
			hc.Slug = fmt.Sprintf("%s-%d", hc.Slug, n+1)
		}
		used[slug(c.ID)]++
		for _, e := range c.Evidence {
			he := htmlExchange{Request: safeText(e.Request.String()), Response: safeText(e.Response.String()), Status: e.Response.Status}
			if e.Latency > 0 {
				he.Latency = formatDuration(e.Latency)
			}
			hc.Exchanges = append(hc.Exchanges, he)
		}
		v.Checks = append(v.Checks, hc)
	}
	for _, op := range r.Operations {
		v.Operations = append(v.Operations, htmlOperation{OperationStats: op,
			P50: formatDuration(op.P50), P95: formatDuration(op.P95), P99: formatDuration(op.P99)})
	}
	v.Diffs = r.Differences
	return v
}

// sortForPage orders checks for the page: those needing attention first
// (see Run.attention), then the passes, each in run order.
func sortForPage(r *Run) []Check {
	out := r.attention()
	for _, c := range r.Checks {
		if c.Verdict == Pass {
			out = append(out, c)
		}
	}
	return out
}

// slug makes s usable in an id: lower case, letters and digits kept, runs of
// anything else turned into one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "x"
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

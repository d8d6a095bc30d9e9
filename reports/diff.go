package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// CheckChange is one check as it stood in two runs.
type CheckChange struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Area  string `json:"area,omitempty"`
	Level Level  `json:"level"`
	RFC   string `json:"rfc,omitempty"`
	// Old is the verdict in the old run; empty when the check is new.
	Old Verdict `json:"old,omitempty"`
	// New is the verdict in the new run; empty when the check was removed.
	New Verdict `json:"new,omitempty"`
	// Reason is the new run's reason, or the old one's for a removed check.
	Reason string `json:"reason,omitempty"`
}

// DiffResult is what changed between two runs, each list sorted by check ID.
type DiffResult struct {
	// OldSummary and NewSummary count each run's checks by verdict.
	OldSummary Tally `json:"-"`
	NewSummary Tally `json:"-"`
	// NewFailures are checks that fail or error now and did not before,
	// including added checks that fail.
	NewFailures []CheckChange `json:"newFailures"`
	// Fixed are checks that failed or errored before and pass now.
	Fixed []CheckChange `json:"fixed"`
	// Changed are all checks present in both runs whose verdict changed.
	Changed []CheckChange `json:"changed"`
	// Added are checks only the new run has; Removed, only the old one.
	Added   []CheckChange `json:"added"`
	Removed []CheckChange `json:"removed"`
	// NotSelected are checks of the old run that the new one left out on
	// purpose (its NotSelected list: a narrower --label-filter). They are
	// not in Removed and never a regression: the new run says it did not
	// ask about them.
	NotSelected []CheckChange `json:"notSelected"`
}

// Regressed reports whether a check that passed (pass or
// unsupported-but-works) in the old run fails or errors in the new one, is
// skipped in it (it no longer runs: the target stopped declaring the
// capability, or the run was not given what the check needs), or is
// missing from it (the new run did not run it: a run cut short, a check
// renamed or dropped): the gate for "scimlab report diff", which then exits
// 1. A run with no checks never hides the checks that passed before; a
// check the new run lists as not selected (--label-filter) is not missing.
// A check that passed and is waived now is not a regression (a baseline
// accepts its failure on purpose) but is named on the first line.
func (d DiffResult) Regressed() bool { return len(d.Regressions()) > 0 }

// Regressions returns the changes that make Regressed true: the checks
// that passed and now fail or error, then those that passed and are now
// skipped, then those that passed and are missing (New is empty), each
// group sorted by ID.
func (d DiffResult) Regressions() []CheckChange {
	out := append(d.passedNow(Verdict.Failing), d.passedNow(func(v Verdict) bool { return v == Skipped })...)
	return append(out, d.missing()...)
}

// passedNow returns the checks that passed in the old run and whose new
// verdict is.
func (d DiffResult) passedNow(is func(Verdict) bool) []CheckChange {
	var out []CheckChange
	for _, c := range d.Changed {
		if c.Old.Passing() && is(c.New) {
			out = append(out, c)
		}
	}
	return out
}

// missing returns the checks that passed in the old run and are not in the
// new one.
func (d DiffResult) missing() []CheckChange {
	var out []CheckChange
	for _, c := range d.Removed {
		if c.Old.Passing() {
			out = append(out, c)
		}
	}
	return out
}

// regressionLine says how many checks regressed, and how: "3 checks that
// passed now fail; 2 that passed are now skipped; 395 that passed are
// missing from the new run".
func (d DiffResult) regressionLine() string {
	var parts []string
	for _, k := range []struct {
		n         int
		one, many string
	}{
		{len(d.passedNow(Verdict.Failing)), "now fails", "now fail"},
		{len(d.passedNow(func(v Verdict) bool { return v == Skipped })), "is now skipped (no longer run)", "are now skipped (no longer run)"},
		{len(d.missing()), "is missing from the new run", "are missing from the new run"},
	} {
		if k.n == 0 {
			continue
		}
		what := k.many
		if k.n == 1 {
			what = k.one
		}
		n := plural(k.n, "check", "checks")
		if len(parts) > 0 {
			n = fmt.Sprint(k.n)
		}
		parts = append(parts, n+" that passed "+what)
	}
	return strings.Join(parts, "; ")
}

// waivedLine names the checks that passed and are waived now, which do
// not fail the gate: "2 checks that passed are now waived by the
// baseline"; "" when there are none.
func (d DiffResult) waivedLine() string {
	n := len(d.passedNow(func(v Verdict) bool { return v == Waived }))
	if n == 0 {
		return ""
	}
	verb := "are"
	if n == 1 {
		verb = "is"
	}
	return plural(n, "check", "checks") + " that passed " + verb + " now waived by the baseline"
}

// Comparable returns an error when oldRun and newRun cannot be diffed: runs
// of different kinds (test, simulate, replay), or simulations of different
// IdPs or scenarios, do not run the same checks, so a diff would only say that every
// check changed.
func Comparable(oldRun, newRun *Run) error {
	switch {
	case oldRun.Kind != "" && newRun.Kind != "" && oldRun.Kind != newRun.Kind:
		return fmt.Errorf("the old run is a %s run and the new one a %s run: diff compares two runs of one kind (two test runs, two simulations of one IdP, two replays)", oldRun.Kind, newRun.Kind)
	case oldRun.Kind == "simulate" && oldRun.IdP != "" && newRun.IdP != "" && !strings.EqualFold(oldRun.IdP, newRun.IdP):
		return fmt.Errorf("the old run simulates %s and the new one %s: diff compares two simulations of one IdP", oldRun.IdP, newRun.IdP)
	}
	if oldRun.Kind != "simulate" {
		return nil
	}
	oldName, oldSteps := scenarioOf(oldRun)
	newName, newSteps := scenarioOf(newRun)
	switch {
	case oldName != "" && newName != "" && !strings.EqualFold(oldName, newName):
		return fmt.Errorf("the old run simulates the %s scenario and the new one %s: diff compares two simulations of one scenario", oldName, newName)
	case oldSteps != "" && newSteps != "" && oldSteps != newSteps:
		return fmt.Errorf("the old run's scenario runs the steps %s and the new one's %s: diff compares two simulations of one scenario", oldSteps, newSteps)
	}
	return nil
}

// scenarioOf returns the name and the steps of a simulation's scenario, as
// far as its report says: the scenario field, and the note every simulation
// has written since its first version ("scenario lifecycle: test-connection,
// create-users, …"), which also serves a report older than the field.
func scenarioOf(r *Run) (name, steps string) {
	name = r.Scenario
	for _, n := range r.Notes {
		rest, ok := strings.CutPrefix(n, "scenario ")
		if !ok {
			continue
		}
		if nm, st, ok := strings.Cut(rest, ": "); ok {
			if name == "" {
				name = strings.TrimSpace(nm)
			}
			return name, strings.TrimSpace(st)
		}
	}
	return name, ""
}

// keyedChecks indexes checks by ID; a repeated ID gets "#2", "#3", … so that
// nothing is lost.
func keyedChecks(checks []Check) map[string]Check {
	out := make(map[string]Check, len(checks))
	for _, c := range checks {
		key := c.ID
		for n := 2; ; n++ {
			if _, dup := out[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", c.ID, n)
		}
		out[key] = c
	}
	return out
}

func changeOf(key string, c Check) CheckChange {
	return CheckChange{ID: key, Title: c.Title, Area: c.Area, Level: c.Level, RFC: c.RFC, Reason: oneLine(redactText(c.Reason, Mask))}
}

// Diff compares two runs of the same checks, matching checks by ID.
func Diff(oldRun, newRun *Run) DiffResult {
	d := DiffResult{OldSummary: oldRun.Summary(), NewSummary: newRun.Summary()}
	before, after := keyedChecks(oldRun.Checks), keyedChecks(newRun.Checks)
	for key, n := range after {
		ch := changeOf(key, n)
		ch.New = n.Verdict
		o, ok := before[key]
		if !ok {
			d.Added = append(d.Added, ch)
			if n.Verdict.Failing() {
				d.NewFailures = append(d.NewFailures, ch)
			}
			continue
		}
		ch.Old = o.Verdict
		if o.Verdict == n.Verdict {
			continue
		}
		d.Changed = append(d.Changed, ch)
		if n.Verdict.Failing() && !o.Verdict.Failing() {
			d.NewFailures = append(d.NewFailures, ch)
		}
		if o.Verdict.Failing() && n.Verdict.Passing() {
			d.Fixed = append(d.Fixed, ch)
		}
	}
	deselected := make(map[string]bool, len(newRun.NotSelected))
	for _, id := range newRun.NotSelected {
		deselected[id] = true
	}
	for key, o := range before {
		if _, ok := after[key]; !ok {
			ch := changeOf(key, o)
			ch.Old = o.Verdict
			if deselected[o.ID] {
				d.NotSelected = append(d.NotSelected, ch)
				continue
			}
			d.Removed = append(d.Removed, ch)
		}
	}
	for _, list := range []*[]CheckChange{&d.NewFailures, &d.Fixed, &d.Changed, &d.Added, &d.Removed, &d.NotSelected} {
		sort.Slice(*list, func(i, j int) bool { return (*list)[i].ID < (*list)[j].ID })
	}
	return d
}

// RenderDiff writes d to w as "text", "md" (Markdown, for a pull-request
// comment) or "json".
func RenderDiff(w io.Writer, d DiffResult, format string) error {
	var err error
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text", "txt":
		_, err = io.WriteString(w, diffText(d))
	case "md", "markdown":
		_, err = io.WriteString(w, diffMarkdown(d))
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(diffJSON(d))
	default:
		return fmt.Errorf("unknown diff format %q: use one of text, md, json", format)
	}
	if err != nil {
		return fmt.Errorf("write report diff: %w", err)
	}
	return nil
}

// diffJSON is the JSON form of a diff: never-null lists plus the gate.
func diffJSON(d DiffResult) any {
	nonNil := func(l []CheckChange) []CheckChange {
		if l == nil {
			return []CheckChange{}
		}
		return l
	}
	return struct {
		Regressed   bool          `json:"regressed"`
		NewFailures []CheckChange `json:"newFailures"`
		Fixed       []CheckChange `json:"fixed"`
		Changed     []CheckChange `json:"changed"`
		Added       []CheckChange `json:"added"`
		Removed     []CheckChange `json:"removed"`
		NotSelected []CheckChange `json:"notSelected"`
	}{d.Regressed(), nonNil(d.NewFailures), nonNil(d.Fixed), nonNil(d.Changed), nonNil(d.Added), nonNil(d.Removed), nonNil(d.NotSelected)}
}

// tallyDelta renders the verdict counts of both runs, e.g. "pass 10 → 12".
func tallyDelta(d DiffResult) []string {
	var out []string
	for _, v := range Verdicts() {
		o, n := d.OldSummary.Of(v), d.NewSummary.Of(v)
		if o == 0 && n == 0 {
			continue
		}
		if o == n {
			out = append(out, fmt.Sprintf("%s %d", v, n))
		} else {
			out = append(out, fmt.Sprintf("%s %d → %d", v, o, n))
		}
	}
	return out
}

func changeVerdicts(c CheckChange) string {
	switch {
	case c.Old == "":
		return "new, " + string(c.New)
	case c.New == "":
		return "removed, was " + string(c.Old)
	}
	return string(c.Old) + " → " + string(c.New)
}

func diffText(d DiffResult) string {
	var b strings.Builder
	if d.Regressed() {
		fmt.Fprintf(&b, "REGRESSED: %s\n", d.regressionLine())
	} else if w := d.waivedLine(); w != "" {
		fmt.Fprintf(&b, "No regressions (%s).\n", w)
	} else {
		b.WriteString("No regressions.\n")
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(tallyDelta(d), ", "))
	section := func(title string, list []CheckChange) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d):\n", title, len(list))
		for _, c := range list {
			fmt.Fprintf(&b, "  %s  %s (%s, %s)\n", oneLine(c.ID), oneLine(c.Title), changeVerdicts(c), c.Level)
			if c.Reason != "" && c.New != "" && c.New != Pass {
				fmt.Fprintf(&b, "      %s\n", clip(c.Reason, 200))
			}
		}
	}
	section("New failures", d.NewFailures)
	section("Fixed", d.Fixed)
	section("Changed verdicts", d.Changed)
	section("Added checks", d.Added)
	section("Removed checks", d.Removed)
	if n := len(d.NotSelected); n > 0 {
		fmt.Fprintf(&b, "\n%s of the old run not selected in the new one (--label-filter): not compared.\n", plural(n, "check", "checks"))
	}
	return b.String()
}

func diffMarkdown(d DiffResult) string {
	var b strings.Builder
	b.WriteString("## scimlab report diff\n\n")
	if d.Regressed() {
		fmt.Fprintf(&b, "❌ **REGRESSED**: %s\n\n", mdEscape(d.regressionLine()))
	} else if w := d.waivedLine(); w != "" {
		fmt.Fprintf(&b, "✅ **No regressions** (%s)\n\n", mdEscape(w))
	} else {
		b.WriteString("✅ **No regressions**\n\n")
	}
	fmt.Fprintf(&b, "%s\n", mdEscape(strings.Join(tallyDelta(d), " · ")))
	section := func(title string, list []CheckChange) {
		if len(list) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n### %s (%d)\n\n", title, len(list))
		for i, c := range list {
			if i == MarkdownListLimit {
				fmt.Fprintf(&b, "- …and %d more\n", len(list)-MarkdownListLimit)
				break
			}
			fmt.Fprintf(&b, "- %s %s (%s, %s)", codeSpan(c.ID), mdEscape(clip(c.Title, 120)), mdEscape(changeVerdicts(c)), mdEscape(string(c.Level)))
			if c.Reason != "" && c.New != "" && c.New != Pass {
				fmt.Fprintf(&b, "  \n  %s", mdEscape(clip(c.Reason, markdownReasonLimit)))
			}
			b.WriteString("\n")
		}
	}
	section("New failures", d.NewFailures)
	section("Fixed", d.Fixed)
	section("Changed verdicts", d.Changed)
	section("Added checks", d.Added)
	section("Removed checks", d.Removed)
	if n := len(d.NotSelected); n > 0 {
		fmt.Fprintf(&b, "\n%s of the old run not selected in the new one (`--label-filter`): not compared.\n", plural(n, "check", "checks"))
	}
	return b.String()
}

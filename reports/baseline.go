package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxBaselineSize bounds a baseline file; real ones are a few KiB.
const maxBaselineSize = 1 << 20

// Waiver accepts the failure of one check, for a reason and possibly until a
// date.
type Waiver struct {
	// ID is the check ID the waiver applies to.
	ID string
	// Reason says why the failure is accepted; it is required.
	Reason string
	// Issue optionally links the work that will remove the waiver.
	Issue string
	// Expires is the last day (UTC) on which the waiver holds; zero means it
	// never expires.
	Expires time.Time
	// Line is where the waiver starts in its file.
	Line int
}

// Expired reports whether the waiver no longer holds at now: its Expires day
// (UTC) is over.
func (w Waiver) Expired(now time.Time) bool {
	if w.Expires.IsZero() {
		return false
	}
	return !now.UTC().Before(w.Expires.AddDate(0, 0, 1))
}

// Baseline is the set of accepted failures a team keeps next to its CI
// configuration, in a YAML file:
//
//	waivers:
//	  - id: patch.remove-member
//	    reason: vendor bug, fix promised for 2.4
//	    issue: https://example.test/issues/12   # optional
//	    expires: 2025-06-30                      # optional, YYYY-MM-DD
type Baseline struct {
	// Path is the file the baseline was loaded from, if any.
	Path    string
	Waivers []Waiver
}

// LoadBaseline reads and checks the baseline file at path (see ParseBaseline).
func LoadBaseline(path string) (*Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open baseline: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBaselineSize+1))
	if err != nil {
		return nil, fmt.Errorf("read baseline %s: %w", path, err)
	}
	b, err := ParseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	b.Path = path
	return b, nil
}

// ParseBaseline parses a baseline document. It refuses invalid YAML, keys it
// does not know (a misspelt "expiry" would otherwise silently never expire),
// a waiver without id or reason, a date not written YYYY-MM-DD and an id
// listed twice, naming the line. An empty document is an empty baseline.
func ParseBaseline(data []byte) (b *Baseline, err error) {
	if len(data) > maxBaselineSize {
		return nil, fmt.Errorf("baseline is larger than %d KiB: is this the right file?", maxBaselineSize>>10)
	}
	defer func() {
		// The YAML parser is not ours; a panic there must not take the run down.
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("baseline is not valid YAML (%v): check its syntax", p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Baseline{}, nil
		}
		return nil, fmt.Errorf("baseline is not valid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("baseline holds more than one YAML document: keep one, with a waivers: list")
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &Baseline{}, nil
		}
		root = deref(root.Content[0])
	}
	if isNull(root) {
		return &Baseline{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a baseline is a mapping with a waivers: list, e.g. \"waivers: [{id: x, reason: y}]\"", root.Line)
	}
	out := &Baseline{}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := deref(root.Content[i]), deref(root.Content[i+1])
		if key.Value != "waivers" {
			return nil, fmt.Errorf("line %d: unknown key %q: a baseline has only the key \"waivers\"", key.Line, key.Value)
		}
		if isNull(value) {
			continue
		}
		if value.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: waivers must be a list of {id, reason, issue, expires}", value.Line)
		}
		for _, item := range value.Content {
			w, err := parseWaiver(deref(item))
			if err != nil {
				return nil, err
			}
			if first, dup := seen[w.ID]; dup {
				return nil, fmt.Errorf("line %d: waiver for %q is already listed at line %d: keep one", w.Line, w.ID, first)
			}
			seen[w.ID] = w.Line
			out.Waivers = append(out.Waivers, w)
		}
	}
	return out, nil
}

// deref follows YAML aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// parseWaiver reads one entry of the waivers list.
func parseWaiver(n *yaml.Node) (Waiver, error) {
	w := Waiver{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return w, fmt.Errorf("line %d: each waiver is a mapping with id and reason (and optionally issue, expires)", n.Line)
	}
	var expires string
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := deref(n.Content[i]), deref(n.Content[i+1])
		if value == nil || value.Kind != yaml.ScalarNode {
			return w, fmt.Errorf("line %d: waiver %s must be a single value", key.Line, key.Value)
		}
		text := value.Value
		if isNull(value) {
			text = ""
		}
		switch key.Value {
		case "id":
			w.ID = text
		case "reason":
			w.Reason = text
		case "issue":
			w.Issue = text
		case "expires":
			expires = text
		default:
			return w, fmt.Errorf("line %d: unknown waiver key %q: use id, reason, issue or expires", key.Line, key.Value)
		}
	}
	if w.ID == "" {
		return w, fmt.Errorf("line %d: waiver has no id: name the check ID it waives", n.Line)
	}
	if w.Reason == "" {
		return w, fmt.Errorf("line %d: waiver for %q has no reason: say why the failure is accepted", n.Line, w.ID)
	}
	if expires != "" {
		t, err := time.Parse(time.DateOnly, expires)
		if err != nil {
			return w, fmt.Errorf("line %d: waiver for %q expires %q, which is not a date: write YYYY-MM-DD", n.Line, w.ID, expires)
		}
		w.Expires = t
	}
	return w, nil
}

// Apply waives the run's failures that the baseline lists, as of now, in
// place. A check that fails or errors and has an unexpired waiver becomes
// waived with reason "waived: <reason> (was: <original reason>)". An expired
// waiver does not apply. Notes are added to run.Notes for an expired waiver
// that would have applied, for a waived check that now passes ("waiver for
// X is no longer needed") and for a waiver naming no check in the run. A
// waiver for a check the run's selection left out (Run.NotSelected) is not
// wrong: one note lists those waivers as not applied.
// Applying a baseline twice changes nothing more.
func (b *Baseline) Apply(run *Run, now time.Time) {
	if b == nil || run == nil {
		return
	}
	byID := map[string][]int{}
	for i, c := range run.Checks {
		byID[c.ID] = append(byID[c.ID], i)
	}
	notSelected := map[string]bool{}
	for _, id := range run.NotSelected {
		notSelected[id] = true
	}
	var outside []string
	for _, w := range b.Waivers {
		idx, ok := byID[w.ID]
		if !ok && notSelected[w.ID] {
			outside = append(outside, w.ID)
			continue
		}
		if !ok {
			run.Notes = append(run.Notes, fmt.Sprintf("waiver for %s names no check in this run: remove it from the baseline or correct the id", w.ID))
			continue
		}
		for _, i := range idx {
			c := &run.Checks[i]
			switch {
			case c.Verdict.Passing():
				run.Notes = append(run.Notes, fmt.Sprintf("waiver for %s is no longer needed: the check passes, so remove it from the baseline", w.ID))
			case c.Verdict.Failing() && w.Expired(now):
				run.Notes = append(run.Notes, fmt.Sprintf("waiver for %s expired on %s and no longer applies: fix the check or renew the waiver (%s)",
					w.ID, w.Expires.Format(time.DateOnly), oneLine(w.Reason)))
			case c.Verdict.Failing():
				was := c.Reason
				if was == "" {
					was = string(c.Verdict)
				}
				c.Verdict = Waived
				c.Reason = fmt.Sprintf("waived: %s (was: %s)", oneLine(w.Reason), oneLine(was))
			}
		}
	}
	if len(outside) > 0 {
		run.Notes = append(run.Notes, fmt.Sprintf("%s for checks this run did not select (label filter): not applied: %s",
			plural(len(outside), "waiver", "waivers"), strings.Join(outside, ", ")))
	}
}

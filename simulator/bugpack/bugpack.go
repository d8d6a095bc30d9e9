// Package bugpack is the known-bug pack: one recorded transcript per real
// provisioning bug from docs/idp-traffic.md Part 3 (fixtures/bugs), each the
// minimal request sequence byte-shaped as the IdP sends it, with what a
// correct server answers on the exchanges that decide the bug. Run replays
// every transcript against a target and turns each bug into one check,
// BUG-Bnn, in the bugpack area.
package bugpack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/scimlab/scimlab/fixtures"
	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// Bug is one known provisioning bug and the transcript that reproduces it.
type Bug struct {
	ID      string // "B02"
	IdP     string // the IdP whose traffic the transcript reproduces: "okta", "entra", "onelogin"
	Title   string // the symptom, one line
	Source  string // where the bug was reported, as cited in idp-traffic.md
	RFC     string // the RFC clause that applies, in report form ("RFC7644 §3.5.2"), or ""
	Correct string // what a correct server does
	File    string // the transcript's file name in fixtures/bugs
	// Exchanges is the transcript; exchanges with Expect decide the bug.
	Exchanges []transcript.Exchange
}

// CheckID is the stable check ID of the bug: "BUG-B02".
func (b Bug) CheckID() string { return "BUG-" + b.ID }

// Namespace is the token every name, userName and externalId in the pack
// contains; Run rewrites it with a per-run tag so that runs never collide.
const Namespace = "bugpack"

// Load parses the embedded pack: the metadata table in fixtures/bugs/README.md
// and the transcript each row names. A row without its file, a transcript
// without its row, or a transcript without any expectation is an error.
func Load() ([]Bug, error) { return load(fixtures.Bugs, "bugs") }

func load(fsys fs.FS, dir string) ([]Bug, error) {
	readme, err := fs.ReadFile(fsys, path.Join(dir, "README.md"))
	if err != nil {
		return nil, fmt.Errorf("bugpack: %v", err)
	}
	bugs, err := parseREADME(readme)
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, path.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("bugpack: %v", err)
	}
	listed := map[string]bool{}
	for i := range bugs {
		b := &bugs[i]
		listed[b.File] = true
		raw, err := fs.ReadFile(fsys, path.Join(dir, b.File))
		if err != nil {
			return nil, fmt.Errorf("bugpack: %s names %s: %v", b.ID, b.File, err)
		}
		xs, err := transcript.Read(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("bugpack: %s: %v", b.File, err)
		}
		decides := false
		for _, x := range xs {
			decides = decides || x.Expect != nil
		}
		if len(xs) == 0 || !decides {
			return nil, fmt.Errorf("bugpack: %s has no exchange with an expect: nothing decides %s", b.File, b.ID)
		}
		b.Exchanges = xs
	}
	for _, f := range files {
		if !listed[path.Base(f)] {
			return nil, fmt.Errorf("bugpack: %s has no row in README.md", path.Base(f))
		}
	}
	sort.Slice(bugs, func(i, j int) bool { return bugs[i].ID < bugs[j].ID })
	return bugs, nil
}

// parseREADME reads the bug table: rows of the form
//
//	| B02 | entra | `B02-….jsonl` | symptom | source | RFC7644 §3.5.2 | what a correct server does |
//
// Cells must not contain "|".
func parseREADME(b []byte) ([]Bug, error) {
	var out []Bug
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(s, "| B") {
			continue
		}
		cells := strings.Split(strings.Trim(s, "|"), "|")
		if len(cells) != 7 {
			return nil, fmt.Errorf("bugpack: README.md line %d: want 7 cells (ID, IdP, file, symptom, source, RFC, correct), have %d", line, len(cells))
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		bug := Bug{
			ID:      cells[0],
			IdP:     strings.ToLower(cells[1]),
			File:    strings.Trim(cells[2], "`"),
			Title:   cells[3],
			Source:  cells[4],
			RFC:     cells[5],
			Correct: cells[6],
		}
		if bug.RFC == "-" || bug.RFC == "–" {
			bug.RFC = ""
		}
		if seen[bug.ID] {
			return nil, fmt.Errorf("bugpack: README.md line %d: %s listed twice", line, bug.ID)
		}
		seen[bug.ID] = true
		if !strings.HasPrefix(bug.File, bug.ID+"-") || !strings.HasSuffix(bug.File, ".jsonl") {
			return nil, fmt.Errorf("bugpack: README.md line %d: file %q must be %s-<name>.jsonl", line, bug.File, bug.ID)
		}
		if bug.IdP == "" || bug.Title == "" || bug.Source == "" || bug.Correct == "" {
			return nil, fmt.Errorf("bugpack: README.md line %d: %s needs an IdP, a symptom, a source and what a correct server does", line, bug.ID)
		}
		out = append(out, bug)
	}
	if len(out) == 0 {
		return nil, errors.New("bugpack: README.md lists no bugs")
	}
	return out, nil
}

// Run replays every bug of the pack against target, each in its own
// namespace (names carry the bug ID and a per-run tag), removes what each
// bug created, and returns one check per bug. Conformance failures are not
// errors. When the target cannot be reached Run returns the checks made so
// far and an error wrapping replayer.ErrUnreachable; when ctx ends it
// returns them with the context's error.
func Run(ctx context.Context, target replayer.Target) (*reports.Run, error) {
	bugs, err := Load()
	if err != nil {
		return nil, err
	}
	return RunBugs(ctx, target, bugs)
}

// RunBugs is Run over the given bugs.
func RunBugs(ctx context.Context, target replayer.Target, bugs []Bug) (*reports.Run, error) {
	started := time.Now().UTC()
	tag := newTag()
	run := &reports.Run{
		SchemaVersion: reports.SchemaVersion,
		Tool:          reports.Tool{Name: "scimlab"},
		Kind:          "test",
		Target:        reports.RedactURL(target.BaseURL),
		Started:       started,
		Notes: []string{fmt.Sprintf("known-bug pack: %d provisioning bugs reported against real servers (idp-traffic.md Part 3); names in this run carry %q",
			len(bugs), Namespace+tag)},
	}
	if target.Client == nil {
		target.Client = &http.Client{Timeout: 60 * time.Second}
	}
	finish := func(err error) (*reports.Run, error) {
		run.Duration = time.Since(started)
		return run, err
	}
	for _, b := range bugs {
		xs := b.namespaced(tag)
		results, err := replayer.Replay(ctx, target, xs)
		if errors.Is(err, replayer.ErrUnreachable) {
			run.Notes = append(run.Notes, fmt.Sprintf("stopped at %s: %v", b.CheckID(), err))
			return finish(fmt.Errorf("bugpack: %s: %w", b.CheckID(), err))
		}
		if err != nil {
			// Still remove what the interrupted bug created.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			run.AddOrphans(cleanup(cctx, target, results))
			cancel()
			run.Notes = append(run.Notes, fmt.Sprintf("interrupted at %s (%v): the report covers the bugs before it", b.CheckID(), err))
			return finish(err)
		}
		run.Checks = append(run.Checks, b.check(results))
		run.AddOrphans(cleanup(ctx, target, results))
	}
	return finish(nil)
}

// check turns a bug's replay into its one check.
func (b Bug) check(results []replayer.Result) reports.Check {
	c := reports.Check{
		ID:      b.CheckID(),
		Title:   b.ID + " " + b.Title,
		Area:    "bugpack",
		RFC:     b.RFC,
		Level:   reports.IdPLevel(b.IdP),
		Verdict: reports.Pass,
		Labels:  []string{"bugpack"},
	}
	for _, r := range results {
		c.Duration += time.Duration(r.Sent.LatencyMs * float64(time.Millisecond))
	}
	for i, r := range results {
		if r.Verdict == reports.Pass || r.Verdict == reports.Skipped {
			continue
		}
		c.Verdict = r.Verdict
		if c.Verdict != reports.Error {
			c.Verdict = reports.Fail
		}
		step := r.Reason
		if t := r.Original.Title(); t != r.Sent.Title() {
			step = strings.Replace(step, t, r.Sent.Title(), 1)
		}
		what := "exchange"
		if r.Original.Expect == nil {
			what = "setup exchange"
		}
		c.Reason = fmt.Sprintf("%s (%s): %s %d failed: %s. A correct server: %s", b.ID, b.Title, what, i+1, step, b.Correct)
		// A verification read fails on what the request before it did:
		// show both.
		if i > 0 && strings.HasPrefix(r.Original.Note, "verify") {
			c.Evidence = append(c.Evidence, evidence(results[i-1].Sent))
		}
		c.Evidence = append(c.Evidence, evidence(r.Sent))
		break
	}
	return c
}

func evidence(x transcript.Exchange) reports.Exchange {
	return reports.Exchange{
		Request:  reports.TruncateBody(reports.Redact(reports.HTTPMessage{Method: x.Method, URL: x.Target(), Headers: x.RequestHeaders, Body: x.RequestBody}), reports.DefaultBodyLimit),
		Response: reports.TruncateBody(reports.Redact(reports.HTTPMessage{Status: x.Status, Headers: x.ResponseHeaders, Body: x.ResponseBody}), reports.DefaultBodyLimit),
		Latency:  time.Duration(x.LatencyMs * float64(time.Millisecond)),
	}
}

// namespaced returns the bug's exchanges with every occurrence of Namespace
// in requests, recorded responses and expectations followed by tag. The
// rewrite is the same everywhere, so the replayer's id mapping still lines
// up; the token has letters outside [0-9a-f] and so never occurs inside an id.
func (b Bug) namespaced(tag string) []transcript.Exchange {
	to := Namespace + tag
	rw := func(s string) string { return strings.ReplaceAll(s, Namespace, to) }
	out := make([]transcript.Exchange, len(b.Exchanges))
	for i, x := range b.Exchanges {
		x.Path = rw(x.Path)
		x.Query = rw(x.Query)
		x.RequestBody = rw(x.RequestBody)
		x.ResponseBody = rw(x.ResponseBody)
		if x.Expect != nil {
			e := *x.Expect
			if e.Attributes != nil {
				e.Attributes = make(map[string]any, len(x.Expect.Attributes))
				for k, v := range x.Expect.Attributes {
					e.Attributes[k] = jsondoc.MapStrings(v, rw)
				}
			}
			x.Expect = &e
		}
		out[i] = x
	}
	return out
}

// newTag returns a short random lower-case tag for one run.
func newTag() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "-" + string(b[:])
}

// cleanup deletes what the replayed bug created (groups before users) and
// returns the resources it could not delete.
func cleanup(ctx context.Context, t replayer.Target, results []replayer.Result) []reports.Orphan {
	var groups, users []string
	for _, r := range results {
		if r.Sent.Method != http.MethodPost || r.Sent.Status != http.StatusCreated {
			continue
		}
		var doc struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(r.Sent.ResponseBody), &doc) != nil || doc.ID == "" {
			continue
		}
		switch strings.TrimRight(r.Sent.Path, "/") {
		case "/Groups":
			groups = append(groups, "/Groups/"+doc.ID)
		case "/Users":
			users = append(users, "/Users/"+doc.ID)
		}
	}
	var orphans []reports.Orphan
	for _, p := range append(groups, users...) {
		if err := del(ctx, t, p); err != nil {
			orphans = append(orphans, reports.Orphan{URL: reports.RedactURL(strings.TrimRight(t.BaseURL, "/") + p), Reason: err.Error()})
		}
	}
	return orphans
}

func del(ctx context.Context, t replayer.Target, p string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, strings.TrimRight(t.BaseURL, "/")+p, nil)
	if err != nil {
		return err
	}
	if t.Token != "" {
		req.Header.Set("Authorization", "Bearer "+t.Token)
	}
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotFound {
		return fmt.Errorf("DELETE answered %d", resp.StatusCode)
	}
	return nil
}

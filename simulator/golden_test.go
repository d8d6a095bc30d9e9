package simulator

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in fixtures/transcripts/golden")

// goldenDir holds one directory per IdP profile and one file per operation:
// every request of that operation in a small lifecycle run, byte for byte as
// the target received it.
const goldenDir = "../fixtures/transcripts/golden"

const goldenToken = "golden-token"

// TestGoldenTranscripts runs the lifecycle scenario for each IdP profile
// against a deterministic fake target and compares every request (method,
// path and query, headers, body) with the transcripts written from
// docs/idp-traffic.md. Run with -update to rewrite them, then read the diff.
func TestGoldenTranscripts(t *testing.T) {
	for _, name := range idp.Names() {
		t.Run(name, func(t *testing.T) {
			got := goldenRun(t, name)
			dir := filepath.Join(goldenDir, name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for op, text := range got {
					if err := os.WriteFile(filepath.Join(dir, op+".txt"), []byte(text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no golden transcripts in %s (run go test ./simulator -run TestGoldenTranscripts -update)", dir)
			}
			for _, f := range files {
				op := strings.TrimSuffix(filepath.Base(f), ".txt")
				if _, ok := got[op]; !ok {
					t.Errorf("%s: the run sent no %s request", f, op)
				}
			}
			for op, text := range got {
				want, err := os.ReadFile(filepath.Join(dir, op+".txt"))
				if err != nil {
					t.Errorf("%s/%s.txt is missing: %v", name, op, err)
					continue
				}
				if string(want) != text {
					t.Errorf("%s %s requests differ from %s/%s.txt:\n%s", name, op, dir, op, firstDiff(string(want), text))
				}
			}
		})
	}
}

// goldenRun runs a small lifecycle and the edge cases and returns the
// transcript of each operation (the simulator's own requests excluded: the
// read-back, the clean-up, the edge cases' own probe).
func goldenRun(t *testing.T, name string) map[string]string {
	t.Helper()
	p, err := idp.LoadIdP(name)
	if err != nil {
		t.Fatal(err)
	}
	// Timestamps only where the IdP reads them (SailPoint's delta
	// aggregation): the others' transcripts stay free of them.
	ft := faketarget.New(faketarget.Options{Token: goldenToken, Timestamps: p.Import != nil && p.Import.Delta})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	// The lifecycle, with the edge cases before its read-back: the edge
	// cases come after every other phase, so they change no other
	// operation's transcript.
	life, err := LoadScenario("lifecycle")
	if err != nil {
		t.Fatal(err)
	}
	steps := append(append([]string(nil), life.Steps[:len(life.Steps)-1]...), "edge-cases", "verify")
	var ops []string
	run, err := Run(context.Background(), Config{
		IdP: name, Target: srv.URL + "/scim/v2", Token: goldenToken,
		Users: 6, Groups: 3, Seed: 7, Concurrency: 1, Scenario: writeScenario(t, steps...),
		trace: func(op string) { ops = append(ops, op) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Checks {
		if c.Verdict == reports.Fail {
			t.Errorf("%s failed against the fake target: %s", c.ID, c.Reason)
		}
	}
	reqs := ft.Requests()
	if len(reqs) != len(ops) {
		t.Fatalf("the target saw %d requests, the client sent %d", len(reqs), len(ops))
	}
	out := map[string]*strings.Builder{}
	for k, rq := range reqs {
		op := ops[k]
		if op == string(idp.StepEndState) || ownOp(op) {
			continue
		}
		b := out[op]
		if b == nil {
			b = &strings.Builder{}
			out[op] = b
		} else {
			b.WriteString("\n")
		}
		fmt.Fprintf(b, "%s %s\n", rq.Method, rq.URI)
		names := make([]string, 0, len(rq.Header))
		for h := range rq.Header {
			names = append(names, h)
		}
		sort.Strings(names)
		for _, h := range names {
			fmt.Fprintf(b, "%s: %s\n", h, strings.Join(rq.Header[h], ", "))
		}
		if len(rq.Body) > 0 {
			fmt.Fprintf(b, "\n%s\n", rq.Body)
		}
	}
	texts := map[string]string{}
	for op, b := range out {
		texts[op] = b.String()
	}
	return texts
}

// firstDiff shows the first line where two transcripts differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			var b bytes.Buffer
			fmt.Fprintf(&b, "line %d\nwant: %s\ngot:  %s", i+1, w, g)
			return b.String()
		}
	}
	return "(same lines, different bytes)"
}

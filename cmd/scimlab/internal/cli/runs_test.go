package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// TestInterruptedRunsDoNotPass: a run stopped by Ctrl-C (its context
// cancelled, or SIGINT for test) writes its partial report, never says
// PASSED or ready, and exits 1.
func TestInterruptedRunsDoNotPass(t *testing.T) {
	t.Run("simulate", func(t *testing.T) {
		ctx, target := cancelledAt(t, 40)
		dir := t.TempDir()
		var out, errb bytes.Buffer
		code := run(ctx, []string{"simulate", "--target", target, "--token", "t0ken", "--users", "60", "--groups", "3", "--report-dir", dir}, &out, &errb)
		if code != ExitFailures {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, out.String(), errb.String())
		}
		if s := out.String(); strings.Contains(s, "PASSED") || strings.Contains(s, "-ready: yes") || !strings.Contains(s, "SIM-OKTA-SCENARIO") {
			t.Errorf("an interrupted simulation reads as passed, or does not say it stopped:\n%s", s)
		}
		report := readFile(t, filepath.Join(dir, "report.json"))
		if !strings.Contains(report, `"verdict": "error"`) || !strings.Contains(report, "phases did not run") {
			t.Errorf("the report has no error verdict for the phases that did not run:\n%.3000s", report)
		}
		if !strings.Contains(errb.String(), "interrupted") {
			t.Errorf("stderr does not say the run was interrupted: %s", errb.String())
		}
	})
	t.Run("replay", func(t *testing.T) {
		ctx, target := cancelledAt(t, 2)
		session := filepath.Join(t.TempDir(), "session.jsonl")
		var xs []transcript.Exchange
		for i := 1; i <= 5; i++ {
			xs = append(xs, transcript.Exchange{Seq: i, Method: "GET", Path: "/Users", Query: "count=1", Status: 200,
				ResponseBody: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`})
		}
		if err := transcript.Save(session, xs); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var out, errb bytes.Buffer
		code := run(ctx, []string{"replay", session, "--target", target, "--token", "t0ken", "--report-dir", dir}, &out, &errb)
		if code != ExitFailures || strings.Contains(out.String(), "PASSED") {
			t.Fatalf("exit %d, want 1\n%s\n%s", code, out.String(), errb.String())
		}
		if report := readFile(t, filepath.Join(dir, "report.json")); strings.Count(report, "not replayed: the replay was interrupted") < 3 {
			t.Errorf("the exchanges never sent are not errors:\n%.3000s", report)
		}
	})
	t.Run("test", func(t *testing.T) {
		if testing.Short() {
			t.Skip("runs scimlab in a child process")
		}
		var cmd interface{ Signal(os.Signal) error }
		started := make(chan struct{})
		target := credentialProxy(t, func(n int64) {
			if n == 60 {
				<-started
				_ = cmd.Signal(os.Interrupt)
			}
		})
		dir := t.TempDir()
		c, out, errb := childCommand(t, nil, "test", "--target", target, "--token", "t0ken", "--report-dir", dir)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmd = c.Process
		close(started)
		code := exitCode(t, c.Wait())
		if code != ExitFailures || strings.Contains(out.String(), "PASSED") || !strings.Contains(out.String(), "interrupted") {
			t.Fatalf("exit %d, want 1 and an interrupted note\n%s\n%s", code, out.String(), errb.String())
		}
		// The note says what the report holds: the checks after the stop,
		// each an error.
		run, err := reports.Load(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		notRun := 0
		for _, c := range run.Checks {
			if c.Verdict == reports.Error && strings.HasPrefix(c.Reason, "not run: the run stopped before it") {
				notRun++
			}
		}
		note := ""
		for _, n := range run.Notes {
			if strings.HasPrefix(n, "interrupted (") {
				note = n
			}
		}
		if notRun == 0 || !strings.Contains(note, "the checks after the stop did not run; they are in this report with the verdict error") || strings.Contains(note, "not in this report") {
			t.Errorf("%d checks not run; the note: %q", notRun, note)
		}
	})
}

// cancelledAt returns a context that ends when the target it returns (a
// credentialProxy) receives its nth request: Ctrl-C in the middle of a run.
func cancelledAt(t *testing.T, nth int64) (context.Context, string) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, credentialProxy(t, func(n int64) {
		if n == nth {
			cancel()
		}
	})
}

// TestSimulateTwiceWithTheSameSeed: the same simulate run twice against one
// target passes twice (the first run removes what it created); with --keep
// the target keeps the run's users.
func TestSimulateTwiceWithTheSameSeed(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	args := []string{"simulate", "--idp", "okta-oin", "--target", l.BaseURL, "--token", l.Token, "--users", "30", "--groups", "4", "--seed", "7"}
	for pass := 1; pass <= 2; pass++ {
		if code, out, errs := runCLI(t, args...); code != ExitOK {
			t.Fatalf("pass %d: exit %d\n%s\n%s", pass, code, out, errs)
		}
	}
	if code, out, errs := runCLI(t, append(args, "--keep")...); code != ExitOK {
		t.Fatalf("--keep: exit %d\n%s\n%s", code, out, errs)
	}
	var list struct{ TotalResults int }
	if getJSON(t, l, "/Users?count=0", &list); list.TotalResults != 30 {
		t.Fatalf("after --keep the target holds %d users, want 30", list.TotalResults)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSummaryPointsAtReportsOnlyWhenWritten: the terminal summary sends the
// reader to report.html only when --report-dir wrote one.
func TestSummaryPointsAtReportsOnlyWhenWritten(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	session := filepath.Join(t.TempDir(), "session.jsonl")
	var xs []transcript.Exchange
	for i := 1; i <= 60; i++ { // more failures than the summary lists
		xs = append(xs, transcript.Exchange{Seq: i, Method: "GET", Path: "/Users/no-such-user", Status: 200, ResponseBody: `{"id":"x"}`})
	}
	if err := transcript.Save(session, xs); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "replay", session, "--target", l.BaseURL, "--token", l.Token)
	if code != ExitFailures || strings.Contains(out, "report.html") || !strings.Contains(out, "more (pass --report-dir DIR to write every report)") {
		t.Errorf("without --report-dir: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	code, out, _ = runCLI(t, "replay", session, "--target", l.BaseURL, "--token", l.Token, "--report-dir", dir)
	if code != ExitFailures || !strings.Contains(out, "more (see report.html)") || !strings.Contains(out, filepath.Join(dir, "report.html")) {
		t.Errorf("with --report-dir: exit %d\n%s", code, out)
	}
}

// TestVerboseIsPlainOffATerminal: --verbose streams Ginkgo's output, in
// colour only on a terminal: a redirected stdout gets no ANSI escape.
func TestVerboseIsPlainOffATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scimlab in a child process")
	}
	code, out, errs := runChild(t, nil, "test", "--verbose", "--label-filter", "discovery && MUST")
	if code != ExitOK || !strings.Contains(out, "Random Seed:") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if n := strings.Count(out, "\x1b["); n > 0 {
		i := strings.Index(out, "\x1b[")
		t.Errorf("%d ANSI escapes on a stdout that is no terminal, the first in %q", n, out[max(0, i-40):min(len(out), i+40)])
	}
}

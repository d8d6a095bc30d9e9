package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator"
	"github.com/scimlab/scimlab/suites/all"
)

func init() {
	register(command{name: "demo", summary: "run the main job against an in-process reference server", run: runDemo})
}

// demoPart is one run of the demo and where its reports went.
type demoPart struct {
	name string
	run  *reports.Run
	html string
}

func runDemo(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("demo", "[--profile NAME] [--lenient=false] [--out DIR] [--users N --groups M]", e)
	profileName := fs.String("profile", "rfc", "target profile the in-process reference server emulates")
	lenient := fs.Bool("lenient", true, "the reference server accepts IdP dialects (--lenient=false shows where they depart from the RFC)")
	outDir := fs.String("out", "scimlab-reports", "reports go to a new OUT/<timestamp>/ (OUT/<timestamp>-2/, … when a run started in the same second)")
	users := fs.Int("users", 25, fmt.Sprintf("users in each simulated IdP directory (at most %d; 0 is none: the steps that need a user have nothing to do)", simulator.MaxUsers))
	groups := fs.Int("groups", 5, fmt.Sprintf("groups in each simulated IdP directory (at most %d; 0 is none: the steps that need a group have nothing to do)", simulator.MaxGroups))
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "demo", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	sf := serveFlags{profile: *profileName, lenient: *lenient}
	if _, err := sf.resolve(); err != nil {
		return fail(e, "demo", err, ExitUsage)
	}
	// Separate seeds: each IdP provisions people of its own.
	sims := []simulator.Config{
		{IdP: "okta-oin", Users: *users, Groups: *groups, Seed: 101},
		{IdP: "entra", Users: *users, Groups: *groups, Seed: 102},
	}
	for _, cfg := range sims {
		if err := cfg.Validate(); err != nil {
			return fail(e, "demo", err, ExitUsage)
		}
	}
	dir, err := newRunDir(*outDir, time.Now())
	if err != nil {
		return fail(e, "demo", err, ExitUsage)
	}
	started := time.Now()
	l, err := server.StartLocal(ctx, server.LocalOptions{Profile: sf.profile, Lenient: sf.lenient})
	if err != nil {
		return fail(e, "demo", err, ExitUsage)
	}
	defer l.Close()
	v, c := Version()
	tool := reports.Tool{Name: "scimlab", Version: v, Commit: c}
	fmt.Fprintf(e.stdout, "scimlab demo: reference server (profile %s, lenient %v) at %s\n", sf.profile, sf.lenient, l.BaseURL)

	var parts []demoPart
	fmt.Fprintln(e.stdout, "• conformance suites …")
	suite, err := all.Run(ctx, all.Config{Target: l.BaseURL, Token: l.Token, Out: io.Discard, Profile: sf.profile, Lenient: sf.lenient, Command: "scimlab demo (suites)"})
	if code, bad := suiteError(e, "demo", err); bad {
		return code
	}
	parts = append(parts, demoPart{name: "suites", run: suite})
	for _, cfg := range sims {
		fmt.Fprintf(e.stdout, "• %s provisioning simulation …\n", cfg.IdP)
		cfg.Target, cfg.Token = l.BaseURL, l.Token
		run, err := simulator.Run(ctx, cfg)
		if code, bad := simulateError(e, err, run); bad {
			return code
		}
		run.Command = "scimlab demo (" + cfg.IdP + ")"
		run.Profile = sf.profile // the in-process server's, as simulate names it
		parts = append(parts, demoPart{name: cfg.IdP, run: run})
	}

	failed := false
	interrupted := ctx.Err() != nil // read once: the reports and the exit agree
	fmt.Fprintln(e.stdout)
	for i := range parts {
		p := &parts[i]
		if interrupted {
			markInterrupted(ctx, p.run)
		}
		p.run.Tool = tool
		paths, err := reports.WriteAll(filepath.Join(dir, p.name), p.run)
		if err != nil {
			return fail(e, "demo", fmt.Errorf("writing reports: %w", err), ExitUsage)
		}
		p.html = paths["html"]
		sum := p.run.Summary()
		fmt.Fprintf(e.stdout, "%-9s %d checks: %d pass, %d fail, %d error, %d skipped\n", p.name, sum.Total(), sum.Of(reports.Pass)+sum.Of(reports.UnsupportedButWorks), sum.Of(reports.Fail), sum.Of(reports.Error), sum.Of(reports.Skipped))
		for _, line := range p.run.Readiness() {
			fmt.Fprintf(e.stdout, "          %s\n", line)
		}
		failed = failed || p.run.Failed()
	}
	fmt.Fprintf(e.stdout, "\nreports (JSON, JUnit, HTML, Markdown) in %s  [%s]\n", dir, time.Since(started).Round(100*time.Millisecond))
	for _, p := range parts {
		fmt.Fprintf(e.stdout, "  %-9s %s\n", p.name, p.html)
	}
	if interrupted {
		fmt.Fprintln(e.stderr, "scimlab demo: interrupted: the runs are incomplete, so the demo cannot pass (exit 1)")
		return ExitFailures
	}
	if failed {
		return ExitFailures
	}
	return ExitOK
}

// newRunDir creates the directory of one run under out: out/<UTC timestamp>,
// or <timestamp>-2, -3, … when another run already took the name. os.Mkdir
// fails when the directory exists, so two runs that start in the same second
// never share one, and none writes into an earlier run's reports.
func newRunDir(out string, now time.Time) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	stamp := now.UTC().Format("20060102-150405")
	for n := 1; n <= maxRunDirs; n++ {
		name := stamp
		if n > 1 {
			name = fmt.Sprintf("%s-%d", stamp, n)
		}
		dir := filepath.Join(out, name)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return filepath.Abs(dir)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s already holds %d report directories for %s", out, maxRunDirs, stamp)
}

// maxRunDirs bounds the runs that newRunDir tells apart within one second.
const maxRunDirs = 1000

package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/scimlab/scimlab/reports"
)

// The suite-level nodes. They are registered when this package is imported,
// and run only inside RunSpecs: the configuration is read in BeforeSuite,
// never at package init (STYLE.md practice 10).
var (
	_ = ginkgo.BeforeSuite(func(ctx ginkgo.SpecContext) {
		started = time.Now()
		interrupts.start()
		t, err := setup(ctx, current)
		if err != nil {
			setupErr = err
			ginkgo.AbortSuite(err.Error())
		}
		target = t
		ginkgo.GinkgoWriter.Printf("scimlab: target %s (run id %s, capabilities from %s)\n", t.BaseURL, t.RunID, t.Caps.Source)
	}, ginkgo.NodeTimeout(10*time.Minute)) // discovery, with the waits of a throttled target

	_ = ginkgo.AfterSuite(func(ctx ginkgo.SpecContext) {
		recording = false
		if target != nil {
			// Also after an interrupt: what a create the interrupt cut off
			// left on the target is removed too, and so is what a create
			// answered with an id that no Cleanup took (a 200 for a 201).
			ctx, cancel := cleanupContext(ctx, sweepLimit)
			sweepAdopted(ctx, NewClient())
			sweepUnanswered(ctx, NewClient())
			cancel()
			target.close()
		}
	}, ginkgo.NodeTimeout(sweepLimit), ginkgo.GracePeriod(sweepLimit))

	_ = registerEach()

	_ = ginkgo.ReportAfterSuite("scimlab report", func(r ginkgo.Report) {
		interrupts.stop()
		run := BuildRun(r)
		lastMu.Lock()
		lastRun = run
		lastMu.Unlock()
		if current.ReportDir == "" {
			return
		}
		paths, err := reports.WriteAll(current.ReportDir, run)
		if err != nil {
			fmt.Fprintf(os.Stderr, "scimlab: writing reports: %v\n", err)
			return
		}
		for _, f := range []string{"json", "junit", "md", "html"} {
			if p, ok := paths[f]; ok {
				fmt.Fprintf(ginkgo.GinkgoWriter, "scimlab: wrote %s\n", p)
			}
		}
	})
)

// sweepLimit bounds the sweep of the creates that got no answer
// (sweepUnanswered), which runs in AfterSuite.
const sweepLimit = 10 * time.Minute

// registerEach registers the suite's top-level BeforeEach: evidence
// recording and the capability and destructive gates of every check.
func registerEach() bool {
	return ginkgo.BeforeEach(func(ctx ginkgo.SpecContext) {
		recording = true
		arranging = 0 // an abandoned node of an interrupted spec may have left it
		gate(ctx, ginkgo.CurrentSpecReport().Labels())
	})
}

// PreviewSpecs is ginkgo.PreviewSpecs for a suite that runs afterwards in
// the same process. Ginkgo's preview works on a clone of the suite that
// keeps its containers and suite-level nodes but not its top-level
// BeforeEach (ginkgo v2 internal/suite.go, Suite.Clone), and restores that
// clone, so a RunSpecs after it would run every check without the gates:
// a check of a capability the target declares unsupported would fail
// instead of being skipped, and a destructive one would run unasked. The
// BeforeEach is registered again here.
func PreviewSpecs(description string) types.Report {
	r := ginkgo.PreviewSpecs(description)
	registerEach()
	return r
}

var (
	lastMu  sync.Mutex
	lastRun *reports.Run
)

// LastRun returns the report of the suite that ran in this process, or nil.
func LastRun() *reports.Run {
	lastMu.Lock()
	defer lastMu.Unlock()
	return lastRun
}

// NotRun is the report of a run whose setup failed before the suite could
// start (a target that throttled its discovery past the retries): every
// check that sc selects is an error naming why, the others are listed as
// not selected. preview is a PreviewSpecs report of the suite.
func NotRun(preview types.Report, sc types.SuiteConfig, cfg Config, why error) *reports.Run {
	current, setupErr, target = cfg, why, nil
	r := preview
	r.SuiteConfig, r.StartTime, r.RunTime, r.SpecialSuiteFailureReasons = sc, time.Now(), 0, nil
	r.SpecReports = make(types.SpecReports, 0, len(preview.SpecReports))
	for _, s := range preview.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt {
			s.State, s.Failure, s.RunTime = types.SpecStateSkipped, types.Failure{}, 0
			r.SpecReports = append(r.SpecReports, s)
		}
	}
	return BuildRun(r)
}

// Version is recorded in reports; the CLI may set it.
var Version = "dev"

// BuildRun converts a Ginkgo report into a reports.Run: one check per spec
// that was selected, with the verdict mapped from the spec's state (see
// verdicts.check), the first line of the failure as reason and the recorded
// exchanges as evidence; the IDs of the checks the selection left out in
// NotSelected. The baseline, if configured, is applied.
func BuildRun(r types.Report) *reports.Run {
	run := &reports.Run{
		SchemaVersion: reports.SchemaVersion,
		Tool:          reports.Tool{Name: "scimlab", Version: Version},
		Kind:          "test",
		Command:       current.Command,
		Started:       r.StartTime,
		Duration:      r.RunTime,
	}
	if !started.IsZero() {
		run.Started = started
	}
	if target != nil {
		run.Target = target.BaseURL
		run.Seed = target.Seed
		if target.Local {
			run.Profile = target.Profile
			if target.Lenient {
				run.Profile += "+lenient"
			}
			run.Notes = append(run.Notes, "target: the in-process reference server (profile "+run.Profile+")")
		}
		run.Notes = append(run.Notes, target.Caps.Notes...)
		run.Notes = append(run.Notes, "run id "+target.RunID+": every resource created is named "+target.Prefix()+"…")
	} else {
		run.Target = current.Target
	}
	if setupErr != nil {
		run.Notes = append(run.Notes, "suite setup failed: "+setupErr.Error())
	}
	if lf := r.SuiteConfig.LabelFilter; lf != "" {
		run.Notes = append(run.Notes, "label filter: "+lf)
	}
	v := newVerdicts(r)
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) && s.LeafNodeType != types.NodeTypeBeforeSuite {
				run.Notes = append(run.Notes, fmt.Sprintf("%s failed: %s", s.LeafNodeType, firstLine(s.Failure.Message)))
			}
			continue
		}
		c, ok := v.check(s)
		if ok {
			run.Checks = append(run.Checks, c)
		}
	}
	run.NotSelected = v.notSelected(r.SpecReports)
	if v.stopped != "" {
		run.Notes = append(run.Notes, "the run stopped early: "+v.stopped)
	}
	if target != nil {
		run.Capabilities = capabilityTable(target.Caps, run.Checks)
	}
	for _, o := range Orphans() {
		run.AddOrphan(o.URL, o.Reason)
	}
	run.Notes = append(run.Notes, cleanupChecks.notes()...)
	if target != nil {
		if n := throttling.note(target.Retry); n != "" {
			run.Notes = append(run.Notes, n)
		}
	}
	if current.BaselineFile != "" {
		b, err := reports.LoadBaseline(current.BaselineFile)
		if err != nil {
			run.Notes = append(run.Notes, "baseline not applied: "+err.Error())
		} else {
			b.Apply(run, time.Now())
		}
	}
	return run
}

// firstLine returns the first meaningful line of a failure message. Gomega
// messages that start with a bare "Expected" are folded into one line.
func firstLine(msg string) string {
	msg = strings.TrimSpace(msg)
	line, rest, _ := strings.Cut(msg, "\n")
	line = strings.TrimSpace(line)
	next, _, _ := strings.Cut(rest, "\n")
	next = strings.TrimSpace(next)
	switch {
	case line == "Expected" || line == "":
		line = strings.Join(strings.Fields(msg), " ")
	case matcherLine.MatchString(next):
		// a description given to Expect, then one of our matchers' summaries
		line += ": " + next
	}
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// matcherLine is the first line of a failure from the framework's matchers.
var matcherLine = regexp.MustCompile(`^[A-Z]+ \S+: (want |HTTP |the |schemas |totalResults |Resources |Content-Type )`)

// WriteRunJSON writes run as JSON to path (used by child processes).
func WriteRunJSON(path string, run *reports.Run) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := reports.WriteJSON(f, run); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Setup resolves cfg into a target outside Ginkgo: it validates the
// configuration and checks reachability, then releases what it started.
// The CLI calls it before RunSpecs so that a bad configuration or an
// unreachable target is an error, not a report full of failures.
func Setup(ctx context.Context, cfg Config) error {
	t, err := setup(ctx, cfg)
	if err != nil {
		return err
	}
	t.close()
	return nil
}

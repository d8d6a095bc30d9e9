// Package all aggregates the conformance spec packages into one suite and
// runs it: Run is the entry point of the scimlab CLI, all_test.go the one
// for go test. Both call ginkgo.RunSpecs, which may happen once per process.
package all

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework"

	// The spec packages; each registers its specs at import.
	_ "github.com/scimlab/scimlab/suites/auth"
	_ "github.com/scimlab/scimlab/suites/bugpack"
	_ "github.com/scimlab/scimlab/suites/bulk"
	_ "github.com/scimlab/scimlab/suites/discovery"
	_ "github.com/scimlab/scimlab/suites/errorformat"
	_ "github.com/scimlab/scimlab/suites/etag"
	_ "github.com/scimlab/scimlab/suites/filter"
	_ "github.com/scimlab/scimlab/suites/groups"
	_ "github.com/scimlab/scimlab/suites/idp"
	_ "github.com/scimlab/scimlab/suites/limits"
	_ "github.com/scimlab/scimlab/suites/me"
	_ "github.com/scimlab/scimlab/suites/nested"
	_ "github.com/scimlab/scimlab/suites/paging"
	_ "github.com/scimlab/scimlab/suites/patch"
	_ "github.com/scimlab/scimlab/suites/projection"
	_ "github.com/scimlab/scimlab/suites/search"
	_ "github.com/scimlab/scimlab/suites/sort"
	_ "github.com/scimlab/scimlab/suites/users"
)

// SuiteName is the description given to RunSpecs.
const SuiteName = "SCIM 2.0 conformance"

// Errors Run returns; the CLI maps ErrConfig to exit 2 and ErrUnreachable to 3.
var (
	ErrConfig      = framework.ErrConfig
	ErrUnreachable = framework.ErrUnreachable
	ErrThrottled   = framework.ErrThrottled
	// ErrAlreadyRan: Ginkgo runs one suite per process.
	ErrAlreadyRan = errors.New("the conformance suite already ran in this process: Ginkgo allows one run per process")
)

// Config is what the CLI passes to Run.
type Config struct {
	// Target is the SCIM base URL; empty starts the in-process reference server.
	Target string
	// Token is a bearer token, Basic is "user:password" (at most one).
	Token, Basic string
	// Headers are extra request headers.
	Headers map[string]string
	// Insecure skips TLS verification.
	Insecure bool
	// LabelFilter selects checks with a Ginkgo label filter, e.g. "MUST && !bulk".
	LabelFilter string
	// ReportDir receives report.json, junit.xml, report.md and report.html.
	ReportDir string
	// CapabilitiesFile is a JSON ServiceProviderConfig used instead of the target's.
	CapabilitiesFile string
	// LimitsFile maps attribute paths to maximum lengths (YAML or JSON).
	LimitsFile string
	// BaselineFile lists accepted failures (reports.Baseline).
	BaselineFile string
	// ExpiredToken is an expired bearer token for the auth checks.
	ExpiredToken string
	// AllowDestructive lets checks touch data the run did not create.
	AllowDestructive bool
	// Profile and Lenient configure the in-process reference server.
	Profile string
	Lenient bool
	// Verbose streams every spec and keeps the evidence of passing checks.
	Verbose bool
	// Out receives Ginkgo's progress output (nil: os.Stdout).
	Out io.Writer
	// Seed seeds fake data and the run id (0: from the clock).
	Seed int64
	// Command is recorded (redacted) in the report.
	Command string
	// WrapTransport, when set, wraps the transport of every request the run
	// sends to the target.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

var (
	ranMu sync.Mutex
	ran   bool
)

// Run runs the conformance suite once and returns its report. The error is
// non-nil only for a configuration error (ErrConfig), an unreachable target
// (ErrUnreachable) or a second call; conformance failures are in the report
// (run.Failed()).
func Run(ctx context.Context, cfg Config) (*reports.Run, error) {
	fc := cfg.framework().WithEnv()
	if err := fc.Validate(); err != nil {
		return nil, err
	}
	if cfg.LabelFilter != "" {
		if _, err := ParseLabelFilter(cfg.LabelFilter); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	// A target that throttled its discovery past the retries answers, and
	// the user asked for a report: the suite still runs, every selected
	// check an error that says why, so the report is written (exit 1, as
	// for any run with errors).
	var throttled error
	if fc.Target != "" {
		if err := framework.Setup(ctx, fc); err != nil {
			if !errors.Is(err, ErrThrottled) {
				return nil, err
			}
			throttled = err
		}
	}
	ranMu.Lock()
	if ran {
		ranMu.Unlock()
		return nil, ErrAlreadyRan
	}
	ran = true
	ranMu.Unlock()
	framework.Configure(fc)

	gomega.RegisterFailHandler(ginkgo.Fail)
	sc, rc := ginkgo.GinkgoConfiguration()
	sc.LabelFilter = cfg.LabelFilter
	if cfg.Seed != 0 {
		sc.RandomSeed = cfg.Seed
	}
	rc.Verbose, rc.Succinct = cfg.Verbose, !cfg.Verbose
	if cfg.Out != nil {
		prev := formatter.ColorableStdOut
		formatter.ColorableStdOut = cfg.Out
		defer func() { formatter.ColorableStdOut = prev }()
		// Colour only on a terminal that wants it (NO_COLOR unset, TERM not
		// dumb), as the terminal summary: never in a file or a pipe.
		rc.NoColor = !reports.UseColor(cfg.Out)
	}
	if throttled != nil {
		run := framework.NotRun(framework.PreviewSpecs(SuiteName), sc, fc, throttled)
		return run, throttled
	}
	var rec failRecorder
	ginkgo.RunSpecs(&rec, SuiteName, sc, rc)
	run := framework.LastRun()
	if err := framework.SetupError(); err != nil {
		return run, err
	}
	if run == nil {
		return nil, errors.New("the suite produced no report")
	}
	return run, nil
}

// failRecorder is the GinkgoTestingT that RunSpecs needs outside go test.
type failRecorder struct{ failed bool }

// Fail records that the suite failed.
func (f *failRecorder) Fail() { f.failed = true }

func (c Config) framework() framework.Config {
	return framework.Config{
		Target: c.Target, Token: c.Token, Basic: c.Basic, Headers: c.Headers, Insecure: c.Insecure,
		CapabilitiesFile: c.CapabilitiesFile, LimitsFile: c.LimitsFile, BaselineFile: c.BaselineFile,
		ExpiredToken: c.ExpiredToken, AllowDestructive: c.AllowDestructive,
		Profile: c.Profile, Lenient: c.Lenient, ReportDir: c.ReportDir, Seed: c.Seed, Verbose: c.Verbose,
		Local: LocalStarter, Command: c.Command, LabelFilter: c.LabelFilter, WrapTransport: c.WrapTransport,
	}
}

// LocalStarter starts the in-process reference server (in-memory SQLite).
func LocalStarter(ctx context.Context, profile string, lenient bool) (*framework.LocalServer, error) {
	return startLocal(ctx, server.LocalOptions{Profile: profile, Lenient: lenient})
}

// startLocal starts an in-process reference server with opt.
func startLocal(ctx context.Context, opt server.LocalOptions) (*framework.LocalServer, error) {
	l, err := server.StartLocal(ctx, opt)
	if err != nil {
		return nil, err
	}
	return &framework.LocalServer{BaseURL: l.BaseURL, Token: l.Token, Close: l.Close, Limits: ProfileLimits(l.Server.Profile())}, nil
}

// ProfileLimits returns a profile's attribute length limits in the form the
// limits checks read (--limits): user paths as they are, group paths
// prefixed "Group.".
func ProfileLimits(p *profile.Profile) map[string]int {
	out := map[string]int{}
	for path, n := range p.Users.Limits {
		out[path] = n
	}
	for path, n := range p.Groups.Limits {
		out["Group."+path] = n
	}
	return out
}

// Checks lists every check of the suite (without running any) with its ID,
// area, level, RFC clause and title, sorted by ID. The error lists
// registration problems: duplicate IDs or names, labels outside the
// vocabulary, a spec without exactly one area and one level.
func Checks() ([]framework.CheckInfo, error) {
	gomega.RegisterFailHandler(ginkgo.Fail)
	r := framework.PreviewSpecs(SuiteName)
	checks, problems := framework.InfoFromReport(r)
	if len(problems) > 0 {
		return checks, fmt.Errorf("check registry: %s", strings.Join(problems, "; "))
	}
	return checks, nil
}

// ChecksMarkdown renders Checks as a Markdown table with counts per area.
func ChecksMarkdown() (string, error) {
	checks, err := Checks()
	return framework.ChecksMarkdown(checks), err
}

// ParseLabelFilter parses a Ginkgo label filter. Its error is one plain
// line that names the filter and says what is wrong with it: Ginkgo's
// colour markup ({{red}}, ANSI escapes) removed, and its echo of the filter
// (with the bad character underlined) left out.
func ParseLabelFilter(filter string) (types.LabelFilter, error) {
	match, err := types.ParseLabelFilter(filter)
	if err == nil {
		return match, nil
	}
	plain := formatter.NewWithNoColorBool(true)
	what := err.Error()
	var ge types.GinkgoError
	if errors.As(err, &ge) {
		var lines []string
		for _, l := range strings.Split(plain.F(ge.Message), "\n") {
			if l = strings.TrimSpace(l); l != "" && l != strings.TrimSpace(filter) {
				lines = append(lines, l)
			}
		}
		what = plain.F(ge.Heading) + ": " + strings.Join(lines, " ")
	}
	return nil, fmt.Errorf("--label-filter %q: %s", filter, strings.Join(strings.Fields(stripANSI(plain.F(what))), " "))
}

// stripANSI removes ANSI escape sequences (ESC [ … letter) from s.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z') {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

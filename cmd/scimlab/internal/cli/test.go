package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/all"
	"github.com/scimlab/scimlab/suites/framework"
)

func init() {
	register(command{name: "test", summary: "run the conformance suites against a SCIM server", run: runTest})
}

func runTest(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("test", "--target URL --token T [--label-filter EXPR] [--report-dir DIR] [--baseline FILE] [--bug-pack]", e)
	target := fs.String("target", os.Getenv("SCIM_BASE_URL"), "SCIM base URL (env SCIM_BASE_URL); empty: an in-process reference server")
	token := fs.String("token", os.Getenv("SCIM_TOKEN"), "bearer token (env SCIM_TOKEN)")
	basic := fs.String("basic", os.Getenv("SCIM_BASIC"), "basic credentials user:password instead of a token (env SCIM_BASIC)")
	headers := headerFlag{}
	fs.Var(headers, "header", "extra request header \"Name: value\" (repeatable)")
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification")
	labels := fs.String("label-filter", "", "select checks with a label expression, e.g. 'MUST && !bulk'")
	reportDir := fs.String("report-dir", "", "write JSON, JUnit, HTML and Markdown reports here")
	capsFile := fs.String("capabilities", "", "a JSON ServiceProviderConfig to use instead of the target's")
	limitsFile := fs.String("limits", "", "YAML or JSON map of attribute path to maximum length, for the limits checks")
	baselineFile := fs.String("baseline", "", "YAML file of accepted failures (waivers)")
	expired := fs.String("expired-token", "", "an expired token, for the token-expiry check")
	destructive := fs.Bool("allow-destructive", false, "let checks touch data the run did not create")
	bugPack := fs.Bool("bug-pack", false, "run only the known-bug pack (the bugpack label: fixtures/bugs transcripts and the IdP-tolerance bug checks)")
	verbose := fs.Bool("verbose", false, "stream every spec and keep evidence of passing checks")
	seed := fs.Int64("seed", 0, "seed for fake data and the run id (0: from the clock)")
	var sf serveFlags
	sf.register(fs)
	fs.Lookup("profile").Usage = "profile of the in-process reference server; with --target, the profile the target emulates, whose attribute limits the limits checks use (unless --limits)"
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "test", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	if _, err := sf.resolve(); err != nil {
		return fail(e, "test", err, ExitUsage)
	}
	if *bugPack {
		if *labels == "" {
			*labels = "bugpack"
		} else {
			*labels = "(" + *labels + ") && bugpack"
		}
	}
	if err := selectChecks(*labels); err != nil {
		return fail(e, "test", err, ExitUsage)
	}
	// Every file a flag names is read, and the report directory tried, before
	// the target is: a mistake in one must not cost a whole run.
	var baseline *reports.Baseline
	if *baselineFile != "" {
		b, err := reports.LoadBaseline(*baselineFile)
		if err != nil {
			return fail(e, "test", err, ExitUsage) // it names the file
		}
		baseline = b
	}
	if *limitsFile != "" {
		if _, err := framework.LoadLimits(*limitsFile); err != nil {
			return fail(e, "test", err, ExitUsage)
		}
	}
	if err := checkCapabilities(*capsFile); err != nil {
		return fail(e, "test", err, ExitUsage)
	}
	if err := checkReportDir(*reportDir); err != nil {
		return fail(e, "test", err, ExitUsage)
	}
	if set := setFlags(fs); *target != "" && set["lenient"] {
		return fail(e, "test", usagef("--lenient makes the in-process reference server accept IdP dialects; with --target %s it would change nothing: drop it", *target), ExitUsage)
	} else if *target != "" && set["profile"] && *limitsFile == "" {
		// The target emulates this profile: its limits are the target's.
		path, cleanup, err := profileLimitsFile(sf)
		if err != nil {
			return fail(e, "test", err, ExitUsage)
		}
		defer cleanup()
		if path == "" {
			fmt.Fprintf(e.stderr, "scimlab test: profile %s sets no attribute limits; the limits checks need --limits FILE\n", sf.profile)
		}
		*limitsFile = path
	}
	if *target != "" {
		fc := framework.Config{Target: *target, Token: *token, Basic: *basic, Headers: headers,
			CapabilitiesFile: *capsFile, LimitsFile: *limitsFile, BaselineFile: *baselineFile}
		if err := fc.Validate(); err != nil {
			return fail(e, "test", err, ExitUsage)
		}
		if err := preflight(ctx, newProbe(*target, *token, *basic, headers, *insecure), *capsFile != ""); err != nil {
			code, _ := suiteError(e, "test", err)
			return code
		}
	} else {
		// No target: the reference server in-process, so that the suites and
		// the bug pack see the same server.
		l, err := server.StartLocal(ctx, server.LocalOptions{Profile: sf.profile, Lenient: sf.lenient})
		if err != nil {
			return fail(e, "test", err, ExitUsage)
		}
		defer l.Close()
		*target, *token, *basic = l.BaseURL, l.Token, ""
		fmt.Fprintf(e.stderr, "scimlab test: no --target; testing an in-process reference server (profile %s) at %s\n", sf.profile, l.BaseURL)
	}

	out := io.Discard
	if *verbose {
		out = e.stdout
	}
	watch := watchTarget(newProbe(*target, *token, *basic, headers, *insecure))
	started := time.Now()
	run, err := all.Run(ctx, all.Config{
		Target: *target, Token: *token, Basic: *basic, Headers: headers, Insecure: *insecure,
		LabelFilter: *labels, CapabilitiesFile: *capsFile, LimitsFile: *limitsFile,
		ExpiredToken: *expired, AllowDestructive: *destructive, Verbose: *verbose, Out: out, Seed: *seed,
		Profile: sf.profile, Lenient: sf.lenient, Command: commandLine("test", fs, args), WrapTransport: watch.wrap,
	})
	if errors.Is(err, all.ErrThrottled) {
		// The target answers but throttled its discovery past the retries:
		// no check could run. That is neither a configuration error nor an
		// unreachable target: exit 1, with reports in which every selected
		// check is an error that says so (the run's notes say why).
		fmt.Fprintf(e.stderr, "scimlab test: %s; no check could run (exit 1)\n", e.scrub(firstLine(err.Error())))
		if run == nil {
			return ExitFailures
		}
		err = nil
	}
	if code, bad := suiteError(e, "test", err); bad {
		return code
	}
	if baseline != nil {
		baseline.Apply(run, time.Now())
	}
	run.Duration = time.Since(started)
	if ctx.Err() != nil {
		run.Notes = append(run.Notes, interruptedNote(ctx, "the checks after the stop"))
	}
	return finishRun(ctx, e, "test", run, *reportDir, watch)
}

// checkCapabilities reads a --capabilities file: a JSON object (a
// ServiceProviderConfig, RFC 7643 §5).
func checkCapabilities(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return usagef("--capabilities: %v", err)
	}
	var spc map[string]any
	if err := json.Unmarshal(b, &spc); err != nil {
		return usagef("--capabilities %s is not a JSON ServiceProviderConfig: %v", path, err)
	}
	return nil
}

// suiteError maps an error from the suites to an exit code.
func suiteError(e *env, name string, err error) (ExitCode, bool) {
	switch {
	case err == nil:
		return ExitOK, false
	case errors.Is(err, all.ErrUnreachable):
		return fail(e, name, err, ExitUnreachable), true
	default:
		return fail(e, name, err, ExitUsage), true
	}
}

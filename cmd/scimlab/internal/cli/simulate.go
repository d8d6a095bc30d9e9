package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator"
	"github.com/scimlab/scimlab/simulator/idp"
)

func init() {
	register(command{name: "simulate", summary: "replay Okta, Entra, PingFederate, OneLogin, SailPoint or JumpCloud provisioning against a target", run: runSimulate})
}

func runSimulate(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("simulate", "--idp "+strings.Join(idp.Names(), "|")+" --target URL --token T [--users N --groups M --seed S] [--report-dir DIR]", e)
	idpName := fs.String("idp", "okta-oin", "IdP profile: "+strings.Join(idp.Names(), ", "))
	idpFile := fs.String("idp-file", "", "an IdP profile YAML of your own instead of --idp")
	target := fs.String("target", os.Getenv("SCIM_BASE_URL"), "SCIM base URL (env SCIM_BASE_URL); empty: an in-process reference server")
	token := fs.String("token", os.Getenv("SCIM_TOKEN"), "bearer token (env SCIM_TOKEN)")
	users := fs.Int("users", 150, fmt.Sprintf("users in the IdP's directory (at most %d; 0 is none: the steps that need a user have nothing to do)", simulator.MaxUsers))
	groups := fs.Int("groups", 10, fmt.Sprintf("groups in the IdP's directory (at most %d; 0 is none: the steps that need a group have nothing to do)", simulator.MaxGroups))
	seed := fs.Int64("seed", 42, "seed of the directory (same seed, same users and groups)")
	scenario := fs.String("scenario", "lifecycle", "scenario: "+strings.Join(simulator.Scenarios(), ", ")+", or a YAML file")
	concurrency := fs.Int("concurrency", 0, fmt.Sprintf("requests in flight at once (0: the IdP profile's; at most %d)", simulator.MaxConcurrency))
	rate := fs.Float64("rate", 0, "cap on requests per second (0: none)")
	timeScale := fs.Float64("time-scale", 1, "multiplies the IdP's waits after a 429 (0.001 runs Okta's 5 minutes in 300 ms)")
	reportDir := fs.String("report-dir", "", "write JSON, JUnit, HTML and Markdown reports here")
	keep := fs.Bool("keep", false, "leave the users and groups the run created on the target (by default the run deletes them at the end, so that the next run starts from the same target)")
	insecure := fs.Bool("insecure", false, "skip TLS certificate verification")
	headers := headerFlag{}
	fs.Var(headers, "header", "extra request header \"Name: value\" (repeatable)")
	var sf serveFlags
	sf.register(fs)
	if code, stop := parse(fs, args, e); stop {
		return code
	}
	if fs.NArg() > 0 {
		return fail(e, "simulate", usagef("unexpected argument %q", fs.Arg(0)), ExitUsage)
	}
	cfg := simulator.Config{
		IdP: *idpName, IdPFile: *idpFile, Target: *target, Token: *token,
		Users: *users, Groups: *groups, Seed: *seed, Scenario: *scenario,
		Concurrency: *concurrency, Rate: *rate, TimeScale: *timeScale,
		Progress: e.stderr, TTY: reports.IsTerminal(e.stderr), Insecure: *insecure, Headers: headers, Keep: *keep,
	}
	if err := cfg.Validate(); err != nil {
		return fail(e, "simulate", err, ExitUsage)
	}
	if err := requireCredential(*target, *token, headers); err != nil {
		return fail(e, "simulate", err, ExitUsage)
	}
	if _, err := sf.resolve(); err != nil {
		return fail(e, "simulate", err, ExitUsage)
	}
	if err := refuseServerFlags(fs, *target); err != nil {
		return fail(e, "simulate", err, ExitUsage)
	}
	if err := checkReportDir(*reportDir); err != nil {
		return fail(e, "simulate", err, ExitUsage)
	}
	if *target == "" {
		l, err := server.StartLocal(ctx, server.LocalOptions{Profile: sf.profile, Lenient: sf.lenient})
		if err != nil {
			return fail(e, "simulate", err, ExitUsage)
		}
		defer l.Close()
		cfg.Target, cfg.Token = l.BaseURL, l.Token
		fmt.Fprintf(e.stderr, "scimlab simulate: no --target; simulating IdP %s against an in-process reference server (server profile %s, lenient %v)\n", defaultIdP(*idpName, *idpFile), sf.profile, sf.lenient)
	}
	base, _, _ := strings.Cut(cfg.Target, "?") // the IdP's URL flags (aadOptscim062020) are no part of it
	watch := watchTarget(newProbe(base, cfg.Token, "", headers, *insecure))
	cfg.WrapTransport = watch.wrap
	run, err := simulator.Run(ctx, cfg)
	if code, bad := simulateError(e, err, run); bad {
		return code
	}
	if *target == "" {
		// The report names the IdP as the IdP (run.IdP) and, here, the
		// profile of the in-process server it provisioned.
		run.Profile = sf.profile
	}
	run.Command = commandLine("simulate", fs, args)
	return finishRun(ctx, e, "simulate", run, *reportDir, watch)
}

// simulateError maps a simulator error to an exit code; a cancelled run
// still has its partial report written (its scenario check is an error, so
// it exits 1).
func simulateError(e *env, err error, run *reports.Run) (ExitCode, bool) {
	switch {
	case err == nil:
		return ExitOK, false
	case errors.Is(err, simulator.ErrUnreachable):
		return fail(e, "simulate", err, ExitUnreachable), true
	case errors.Is(err, simulator.ErrConfig):
		return fail(e, "simulate", err, ExitUsage), true
	case errors.Is(err, context.Canceled) && run != nil:
		fmt.Fprintln(e.stderr, "scimlab simulate: interrupted; writing the partial report")
		return ExitOK, false
	default:
		return fail(e, "simulate", err, ExitUsage), true
	}
}

// defaultIdP names the IdP of a run for a message: --idp-file's path, else
// --idp.
func defaultIdP(name, file string) string {
	if file != "" {
		return file
	}
	return name
}

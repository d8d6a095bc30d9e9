package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/simulator/transcript"
	"github.com/scimlab/scimlab/suites/all"
)

func init() {
	register(command{name: "replay", summary: "replay a recorded transcript against a target", run: runReplay})
}

var checkIDRE = regexp.MustCompile(`^RPL-\d+$`)

// minimizeFlag is --minimize [CHECK_ID]: alone it means the first failure.
type minimizeFlag struct {
	set   bool
	check string
}

func (m *minimizeFlag) String() string   { return m.check }
func (m *minimizeFlag) IsBoolFlag() bool { return true }
func (m *minimizeFlag) Set(v string) error {
	m.set = true
	switch {
	case v == "true" || v == "first" || v == "":
		m.check = ""
	case v == "false":
		m.set = false
	case checkIDRE.MatchString(v):
		m.check = v
	default:
		return fmt.Errorf("want a replay check ID such as RPL-0042, or first")
	}
	return nil
}

// checkMinimizeFlags refuses --reset-cmd and --out where they do nothing,
// and --minimize against --target without --reset-cmd: delta debugging runs
// dozens of attempts, each of which must start from the same target state.
// Without a reset, what earlier attempts created decides later ones (a 409
// for a user an attempt before created), and the "minimal" transcript shows
// that leftover, not the recorded failure. A failure that does not depend
// on the target's state can say so with --reset-cmd true.
func checkMinimizeFlags(minimize bool, target, resetCmd, out string) error {
	switch {
	case !minimize && (resetCmd != "" || out != ""):
		return usagef("--reset-cmd and --out go with --minimize")
	case minimize && resetCmd != "" && target == "":
		return usagef("--reset-cmd goes with --target: without --target each attempt runs on a fresh in-process server")
	case minimize && target != "" && resetCmd == "":
		return usagef("--minimize against --target needs --reset-cmd CMD, a command that resets %s before each attempt; "+
			"otherwise what earlier attempts created decides later ones (leave out --target to use a fresh in-process server per attempt, or pass --reset-cmd true if the failure does not depend on the target's state)", target)
	}
	return nil
}

// replayCredential checks the credentials for --target: the recording's are
// redacted and never replayed, so the target's must come from --token,
// --basic, or a --header that carries one (Authorization, X-Api-Key, …: any
// name reports.CredentialHeader matches).
func replayCredential(target, token, basic string, headers headerFlag) error {
	switch {
	case target == "":
		return nil
	case hasUserinfo(target):
		return usagef("--target must not carry credentials: use --token or --basic")
	case token != "" && basic != "":
		return usagef("give either --token or --basic, not both")
	case basic != "" && !strings.Contains(basic, ":"):
		return usagef("--basic must be user:password")
	case basic != "":
		return nil
	}
	for name := range headers {
		if reports.CredentialHeader(name) {
			return nil
		}
	}
	if token != "" {
		return nil
	}
	return usagef("no credential for %s: pass --token (or SCIM_TOKEN), --basic user:password (or SCIM_BASIC), or the target's credential header with --header ('Authorization: …', 'X-Api-Key: …')", reports.RedactURL(target))
}

// hasUserinfo reports whether target is a URL with a user (and password) in
// it, which no request of a run would send.
func hasUserinfo(target string) bool {
	u, err := url.Parse(target)
	return err == nil && u.User != nil
}

// joinMinimize turns "--minimize RPL-0042" into "--minimize=RPL-0042".
func joinMinimize(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--minimize" || a == "-minimize") && i+1 < len(args) && (checkIDRE.MatchString(args[i+1]) || args[i+1] == "first") {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

func runReplay(ctx context.Context, e *env, args []string) ExitCode {
	fs := newFlags("replay", "FILE [--target URL --token T] [--minimize [CHECK_ID]] [--report-dir DIR]", e)
	target := fs.String("target", "", "SCIM base URL to replay against (default: a fresh in-process reference server)")
	token := fs.String("token", os.Getenv("SCIM_TOKEN"), "bearer token for --target (env SCIM_TOKEN)")
	basic := fs.String("basic", os.Getenv("SCIM_BASIC"), "basic credentials user:password for --target, instead of a token (env SCIM_BASIC)")
	headers := headerFlag{}
	fs.Var(headers, "header", "extra request header \"Name: value\" (repeatable); the recording's credential headers are redacted and never replayed, so pass the target's here (e.g. X-Api-Key)")
	reportDir := fs.String("report-dir", "", "write JSON, JUnit, HTML and Markdown reports here")
	var minimize minimizeFlag
	fs.Var(&minimize, "minimize", "shrink the transcript to the fewest exchanges that still show the failure of CHECK_ID (alone: the first failure)")
	out := fs.String("out", "", "with --minimize: where to write the minimal transcript (default FILE.min.jsonl)")
	resetCmd := fs.String("reset-cmd", "", "with --minimize and --target (required there): shell command that resets the target before each attempt ('true' if the failure does not depend on the target's state)")
	sf := serveFlags{profile: "rfc", lenient: true}
	fs.StringVar(&sf.profile, "profile", sf.profile, "profile of the in-process reference server when --target is not given")
	fs.BoolVar(&sf.lenient, "lenient", sf.lenient, "in-process reference server accepts IdP dialects (string booleans, dotted keys, …)")
	pos, code, stop := parseInterspersed(fs, joinMinimize(args), e)
	if stop {
		return code
	}
	if len(pos) != 1 {
		return fail(e, "replay", usagef("want exactly one transcript file, got %d arguments", len(pos)), ExitUsage)
	}
	if err := replayCredential(*target, *token, *basic, headers); err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	if err := checkMinimizeFlags(minimize.set, *target, *resetCmd, *out); err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	if err := checkReportDir(*reportDir); err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	if _, err := sf.resolve(); err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	if err := refuseServerFlags(fs, *target); err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	xs, err := transcript.Load(pos[0])
	if err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	if len(xs) == 0 {
		return fail(e, "replay", fmt.Errorf("%s holds no exchanges", pos[0]), ExitUsage)
	}

	if *target != "" {
		if err := replayPreflight(ctx, *target, *token, *basic, headers); err != nil {
			code, _ := suiteError(e, "replay", err)
			return code
		}
	}

	fresh := func(ctx context.Context) (replayer.Target, func(), error) {
		if *target != "" {
			if *resetCmd != "" {
				c := exec.CommandContext(ctx, "sh", "-c", *resetCmd)
				c.Stdout, c.Stderr = e.stderr, e.stderr
				if err := c.Run(); err != nil {
					return replayer.Target{}, nil, fmt.Errorf("--reset-cmd: %w", err)
				}
			}
			return replayer.Target{BaseURL: *target, Token: *token, Basic: *basic, Headers: headers}, func() {}, nil
		}
		l, err := server.StartLocal(ctx, server.LocalOptions{Profile: sf.profile, Lenient: sf.lenient})
		if err != nil {
			return replayer.Target{}, nil, err
		}
		return replayer.Target{BaseURL: l.BaseURL, Token: l.Token}, func() { l.Close() }, nil
	}

	minOut := *out
	if minOut == "" {
		minOut = strings.TrimSuffix(pos[0], ".jsonl") + ".min.jsonl"
	}
	if minimize.set {
		if err := checkWritableFile("--out", minOut); err != nil {
			return fail(e, "replay", err, ExitUsage)
		}
		min, id, err := replayer.Minimize(ctx, fresh, xs, minimize.check)
		switch {
		case errors.Is(err, replayer.ErrUnreachable):
			return fail(e, "replay", err, ExitUnreachable)
		case errors.Is(err, replayer.ErrNoFailure):
			return fail(e, "replay", lenientNoFailure(err, *target, sf.lenient, setFlags(fs)["lenient"]), ExitUsage)
		case err != nil:
			return fail(e, "replay", err, ExitUsage)
		}
		if err := transcript.Save(minOut, min); err != nil {
			return fail(e, "replay", err, ExitUsage)
		}
		fmt.Fprintf(e.stdout, "%s: %d of %d exchanges still show the failure of %s; written to %s\n", pos[0], len(min), len(xs), id, minOut)
		for _, x := range min {
			fmt.Fprintf(e.stdout, "  %s %s\n", replayer.CheckID(x.Seq), x.Title())
		}
		return ExitOK
	}

	started := time.Now()
	tgt, release, err := fresh(ctx)
	if err != nil {
		return fail(e, "replay", err, ExitUsage)
	}
	defer release()
	watch := watchTarget(replayProbe(tgt.BaseURL, tgt.Token, tgt.Basic, tgt.Headers, "probe"))
	// The transport sends each recorded request with its headers and no
	// others: no Accept-Encoding of Go's own (replayer.Target.Client).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true
	tgt.Client = &http.Client{Timeout: 60 * time.Second, Transport: watch.wrap(tr)}
	results, err := replayer.Replay(ctx, tgt, xs)
	if errors.Is(err, replayer.ErrUnreachable) {
		return fail(e, "replay", err, ExitUnreachable)
	}
	if err != nil && len(results) == 0 {
		return fail(e, "replay", err, ExitUsage)
	}
	replayed := len(results)
	if ctx.Err() != nil {
		// An exchange never sent shows nothing: an error, never a pass.
		for _, x := range xs[replayed:] {
			results = append(results, replayer.Result{Original: x, Verdict: reports.Error, Reason: "not replayed: the replay was interrupted"})
		}
	}
	// Each exchange is labelled by the IdP that sent it, not the first one's.
	run := replayer.ToRun(tgt.BaseURL, "", results, started)
	run.Command = commandLine("replay", fs, args)
	if ctx.Err() != nil {
		run.Notes = append(run.Notes, replayInterruptedNote(ctx, len(xs)-replayed, len(xs)))
	}
	return finishRun(ctx, e, "replay", run, *reportDir, watch)
}

// lenientNoFailure adds to a --minimize that found no failure, when the
// replay ran on the built-in server with its tolerance of IdP dialects on,
// that the server is why: a recorded Entra or Okta session that a strict
// target fails (string booleans, dotted keys, …) replays without a failure
// on a lenient server, so there is nothing to minimise until --lenient=false.
func lenientNoFailure(err error, target string, lenient, lenientSet bool) error {
	if target != "" || !lenient {
		return err
	}
	if lenientSet {
		return fmt.Errorf("%w against the built-in server, which --lenient makes accept IdP dialects; to minimise a failure a strict server shows, use --lenient=false", err)
	}
	return fmt.Errorf("%w against the built-in server, which is lenient by default (accepts IdP dialects); to minimise a failure a strict server shows, add --lenient=false", err)
}

// replayPreflight checks, as test does before its checks, that target serves
// SCIM (see preflight): a wrong --target (a typo, /scim/v1 for /scim/v2, a
// web server) is one line and exit 2, or 3 when nothing answers, not a
// report in which every exchange fails. Its requests (GET
// /ServiceProviderConfig, then GET /Users?count=1 if need be) are the
// replay's own, not the recording's: they carry the User-Agent
// replayer.OwnUserAgent("preflight"), and no report lists them. A target that refuses the
// credential is left to the replay, which refuses it at the first exchange
// (exit 2) in its own words: what the recording answered there, and which
// of its redacted headers to pass. preflight has no sentinel error for a
// refused credential, so its wording tells.
func replayPreflight(ctx context.Context, target, token, basic string, headers headerFlag) error {
	err := preflight(ctx, replayProbe(target, token, basic, headers, "preflight"), false)
	if errors.Is(err, all.ErrConfig) && strings.Contains(err.Error(), "refused the credential") {
		return nil
	}
	return err
}

// replayInterruptedNote is the report note of a replay that ctx cut short
// with notSent of its total exchanges never sent; the report lists them,
// each with the verdict error.
func replayInterruptedNote(ctx context.Context, notSent, total int) string {
	return fmt.Sprintf("interrupted (%v): the last %d of the %d exchanges were not sent; they are in this report with the verdict error, so the run cannot pass", context.Cause(ctx), notSent, total)
}

// replayProbe is newProbe for the replay's own requests of op (the
// preflight, the probe after a run that lost its target): they carry
// replayer.OwnUserAgent(op), so that a target's log, or a recorder in
// front of it, never takes them for the recording's.
func replayProbe(target, token, basic string, headers map[string]string, op string) scimProbe {
	p := newProbe(target, token, basic, headers, false)
	p.client.Transport = userAgentTransport{next: p.client.Transport, ua: replayer.OwnUserAgent(op)}
	return p
}

// userAgentTransport sends each request with the User-Agent ua.
type userAgentTransport struct {
	next http.RoundTripper
	ua   string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.next.RoundTrip(r)
}

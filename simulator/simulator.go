// Package simulator replays the provisioning traffic of a real IdP (Okta OIN
// and AIW, Entra ID with and without aadOptscim062020, PingFederate,
// OneLogin, SailPoint, JumpCloud) against any SCIM
// target, byte-shaped the way that IdP sends it, checks every response
// against what that IdP needs, and reads the target back to report where it
// departs from the directory the IdP pushed.
//
// The IdP profiles are in package idp (data in fixtures/idps), the directory
// in package directory (seeded gofakeit), the scenarios in
// fixtures/scenarios. Run ties them together and returns a reports.Run.
package simulator

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/directory"
	"github.com/scimlab/scimlab/simulator/idp"
)

// Config is one simulation.
type Config struct {
	// IdP names a built-in profile (idp.Names; default "okta-oin"); IdPFile
	// reads a profile of the user's own instead.
	IdP     string
	IdPFile string
	// Target is the SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2. An
	// IdP URL flag in its query (Entra's ?aadOptscim062020) switches profile
	// as the IdP would.
	Target string
	Token  string
	// Users and Groups size the directory; zero is none (an empty
	// directory: the steps that need a user or a group have nothing to do).
	Users, Groups int
	Seed          int64
	// Scenario is a built-in scenario name (Scenarios; default "lifecycle")
	// or a path to a scenario file.
	Scenario string
	// Concurrency is how many requests run at once (0: the profile's value).
	Concurrency int
	// Rate caps requests per second across all workers (0: unlimited).
	Rate float64
	// TimeScale multiplies the IdP's pauses between retries of a 429. 0 or 1
	// is real time; 0.001 runs Okta's 5-minute pause in 300 ms. The request
	// timeout is not scaled: it is the profile's (Okta: 60 s).
	TimeScale float64
	// Progress receives progress output (nil: none); TTY redraws a bar.
	Progress io.Writer
	TTY      bool
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Headers are added to every request, after the IdP's own.
	Headers map[string]string
	// Keep leaves the users and groups the run created on the target. By
	// default the run deletes them at the end (after an interruption too),
	// so that the target ends as it began and a second run with the same
	// seed does not collide with what the first one renamed.
	Keep bool

	// WrapTransport, when set, wraps the transport of every request the run
	// sends to the target.
	WrapTransport func(http.RoundTripper) http.RoundTripper

	// trace, when set (by tests), is told the operation of each request
	// just before it is sent.
	trace func(op string)
}

// ErrUnreachable is returned (wrapped) when the target could not be reached
// at all: the first request got no response. The CLI exits 3 on it.
var ErrUnreachable = errors.New("target unreachable")

// ErrConfig is returned (wrapped) for a configuration the simulator cannot
// run: an unknown IdP or scenario, a bad URL or size. The CLI exits 2 on it.
var ErrConfig = errors.New("invalid simulation config")

// Run simulates cfg.IdP provisioning cfg.Target and returns the report.
//
// When ctx is cancelled (Ctrl-C) the run stops between requests and Run
// returns the partial report, with a note, and the context's error. When the
// target cannot be reached it returns the report so far and an error
// wrapping ErrUnreachable. Conformance failures are not errors: see
// reports.Run.Failed.
func Run(ctx context.Context, cfg Config) (*reports.Run, error) {
	parent := ctx
	if cfg.Target == "" {
		return nil, fmt.Errorf("%w: no target URL", ErrConfig)
	}
	p, base, notes, scen, err := cfg.prepare()
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var once sync.Once
	unreachable := func(err error) {
		hint := ""
		var unknownCA x509.UnknownAuthorityError
		if errors.As(err, &unknownCA) {
			hint = " (for a self-signed certificate, use --insecure)"
		}
		once.Do(func() { cancel(fmt.Errorf("%w: %s: %v%s", ErrUnreachable, reports.RedactURL(base), err, hint)) })
	}

	dir := directory.New(directory.Options{Seed: cfg.Seed, Users: cfg.Users, Groups: cfg.Groups})
	c := newClient(base, p, cfg, unreachable)
	// Progress waits for the first answer: a run it shows to be a config
	// error, or one that never gets an answer, prints no progress at all.
	held := &heldWriter{w: cfg.Progress}
	if cfg.Progress == nil {
		held.w = io.Discard
	}
	c.first = func(ctx context.Context, res *response) {
		err := misconfigured(base, res)
		if err == nil && res.status == http.StatusNotFound {
			err = noCollection(base, res, c.once(ctx, opProbe, idp.Request{Method: http.MethodGet, Path: res.req.Path, Query: "count=1"}))
		}
		if err != nil {
			held.drop()
			once.Do(func() { cancel(err) })
			return
		}
		held.release()
	}
	defer c.close()
	r := &runner{
		idp:            p,
		dir:            dir,
		c:              c,
		rec:            newRecorder(p, c),
		st:             newState(dir),
		conc:           defaultInt(cfg.Concurrency, p.Concurrency),
		deletedUser:    -1,
		deactivatedAll: -1,
		touched:        map[int]bool{},
	}
	r.prog = newProgress(held, cfg.TTY, c.requests.Load)
	run := &reports.Run{
		SchemaVersion: reports.SchemaVersion,
		Tool:          reports.Tool{Name: "scimlab"},
		Kind:          "simulate",
		Target:        reports.RedactURL(base),
		// Profile is the target's server profile, which only the caller
		// knows (the CLI sets it for its in-process server); the IdP
		// profile is IdP, so that the report names it as the IdP.
		IdP:      p.Name,
		Scenario: scen.Name,
		Seed:     cfg.Seed,
		Started:  time.Now().UTC(),
	}
	run.Notes = append(run.Notes, notes...)
	run.Notes = append(run.Notes,
		fmt.Sprintf("IdP profile %s", p.Describe()),
		fmt.Sprintf("scenario %s: %s", scen.Name, strings.Join(scen.Steps, ", ")),
		fmt.Sprintf("directory: %s", dir),
	)

	r.prog.note("IdP %s against %s: scenario %s, %d users, %d groups, seed %d", p.Name, reports.RedactURL(base), scen.Name, cfg.Users, cfg.Groups, cfg.Seed)
	var runErr error
	r.markNever(scen.Steps)
	done := 0 // phases that ended before any stop
	for _, step := range scen.Steps {
		if ctx.Err() != nil {
			break
		}
		c.owned.setPhase(step)
		phases[step](r, ctx)
		if ctx.Err() == nil {
			r.settlePhase(step)
			done++
		}
	}
	if ctx.Err() != nil {
		runErr = context.Cause(ctx)
		if errors.Is(runErr, ErrUnreachable) || errors.Is(runErr, ErrConfig) {
			held.drop()
			run.Notes = append(run.Notes, "stopped: "+runErr.Error())
		} else {
			run.Notes = append(run.Notes, fmt.Sprintf("interrupted (%v): the report covers only the requests sent before the stop", runErr))
			r.rec.abort(idp.StepScenario, interruptedReason(runErr, scen.Steps, done))
		}
		r.markStopped(runErr, scen.Steps[done:])
	}
	held.release()
	run.Duration = time.Since(run.Started)
	run.Operations = c.stats()
	run.Differences = r.diffs
	run.Notes = append(run.Notes, r.notes...)
	if note := seedConflictNote(c.owned, cfg.Seed); note != "" {
		run.Notes = append(run.Notes, note)
	}
	n := c.requests.Load()
	run.Notes = append(run.Notes, fmt.Sprintf("%d requests in %s (%.0f requests/s)", n, run.Duration.Round(time.Millisecond), float64(n)/max(run.Duration.Seconds(), 1e-9)))
	if !cfg.Keep {
		note, orphans := r.cleanup(parent, base, errors.Is(runErr, ErrUnreachable))
		if note != "" {
			run.Notes = append(run.Notes, note)
		}
		run.AddOrphans(orphans)
	}
	if runErr == nil && parent.Err() != nil {
		// Stopped after the last phase (in the clean-up, which goes on to
		// its end): the checks are complete, but the run was stopped, so
		// it reads as the interrupted run it is.
		runErr = context.Cause(parent)
		where := "during the clean-up"
		if cfg.Keep {
			where = "at the end of the run"
		}
		run.Notes = append(run.Notes, fmt.Sprintf("interrupted (%v) %s, after every phase had run: the checks are complete, but the run was stopped, so it cannot pass", runErr, where))
		r.rec.abort(idp.StepScenario, fmt.Sprintf("interrupted (%v) %s, after every phase had run: a stopped run cannot pass", runErr, where))
	}
	run.Checks = r.rec.checks()
	return run, runErr
}

// Limits on the sizes a run takes. A run provisions every user and group
// one request at a time and keeps a few dozen bytes per user, so a million
// users is hours of traffic and well under a GiB; beyond these a value is a
// mistake, refused before anything is allocated or sent.
const (
	MaxUsers       = 1_000_000
	MaxGroups      = 100_000
	MaxConcurrency = 1_000
	// MaxTimeScale stretches Okta's 5-minute pause after a 429 to 8 hours.
	MaxTimeScale = 100
)

// Validate checks cfg without sending a request: the IdP profile, the
// scenario, the target URL when one is set, and the sizes, rate and time
// scale. Every error wraps ErrConfig. Run validates too; a caller that starts
// other work first (a server, the suites) calls Validate before it.
func (cfg Config) Validate() error {
	_, _, _, _, err := cfg.prepare()
	return err
}

// prepare validates cfg and returns its IdP profile (after an IdP URL flag),
// the base URL without its query, notes for the report, and the scenario.
func (cfg Config) prepare() (*idp.IdP, string, []string, *Scenario, error) {
	if err := cfg.checkSizes(); err != nil {
		return nil, "", nil, nil, err
	}
	scen, err := LoadScenario(defaultString(cfg.Scenario, "lifecycle"))
	if err != nil {
		return nil, "", nil, nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	p, base, notes, err := resolve(cfg)
	return p, base, notes, scen, err
}

// checkSizes bounds the numbers of a config (see MaxUsers).
func (cfg Config) checkSizes() error {
	for _, n := range []struct {
		what     string
		val, max int
	}{{"users", cfg.Users, MaxUsers}, {"groups", cfg.Groups, MaxGroups}, {"concurrency", cfg.Concurrency, MaxConcurrency}} {
		if n.val < 0 || n.val > n.max {
			return fmt.Errorf("%w: %s %d is out of range: from 0 to %d", ErrConfig, n.what, n.val, n.max)
		}
	}
	if math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Rate < 0 {
		return fmt.Errorf("%w: rate %v is not a number of requests per second (0 for no cap)", ErrConfig, cfg.Rate)
	}
	if math.IsNaN(cfg.TimeScale) || cfg.TimeScale < 0 || cfg.TimeScale > MaxTimeScale {
		return fmt.Errorf("%w: time scale %v is out of range: from 0 to %d", ErrConfig, cfg.TimeScale, MaxTimeScale)
	}
	return nil
}

// misconfigured returns an error wrapping ErrConfig when the first answer of
// a run shows that no simulation can tell anything about the target: it
// refused the credential (401 or 403), or it is not a SCIM service at all: a
// GET answered with a success, a redirect, 404 or 405 whose body is not a
// JSON object, such as a web server's HTML 404 (a SCIM service answers every
// GET with a resource, a ListResponse or a SCIM error, RFC 7644 §3.4.2,
// §3.12). Every later step would fail for the same reason, and the report
// would blame the target for a wrong --token or --target.
func misconfigured(base string, res *response) error {
	notFound := res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed
	switch {
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		return fmt.Errorf("%w: %s refused the credential (%s answered %d%s): check --token / --header", ErrConfig, reports.RedactURL(base), res.req, res.status, errorDetail(res.body))
	case res.req.Method == http.MethodGet && (res.status < 400 || notFound) && !jsonObject(res.body):
		return notSCIM(fmt.Sprintf("no SCIM service at %s: %s answered %d with %s, not a SCIM JSON document: check --target (the SCIM base URL, e.g. https://host/scim/v2)",
			reports.RedactURL(base), res.req, res.status, describeBody(res)))
	}
	return nil
}

// notSCIM is the error of a target that is no SCIM service (a web page, a
// base URL whose collections answer 404): it wraps ErrConfig (exit 2), but
// reads as what it is, as test's preflight words it, not as an "invalid
// simulation config" that the simulation's own flags could fix.
type notSCIM string

func (e notSCIM) Error() string        { return string(e) }
func (e notSCIM) Is(target error) bool { return target == ErrConfig }

// noCollection tells the two meanings of a SCIM 404 on the first request
// apart by probe, a plain GET of the same collection: when it is a 404 too,
// there is no SCIM collection at that URL (a wrong --target, such as
// /scim/v1 for /scim/v2); when it answers, the 404 was the target's answer
// to the IdP's request, which the run reports (a filter that matches nothing
// must not answer 404, idp-traffic.md §1.2 row 1).
func noCollection(base string, first, probe *response) error {
	if probe.err != nil || probe.status != http.StatusNotFound {
		return nil
	}
	return notSCIM(fmt.Sprintf("no SCIM service at %s: %s and %s both answered 404%s: check --target (the SCIM base URL, e.g. https://host/scim/v2)",
		reports.RedactURL(base), first.req, probe.req, errorDetail(probe.body)))
}

// jsonObject reports whether b is a JSON object.
func jsonObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil
}

// describeBody names what a response carried, for an error message.
func describeBody(res *response) string {
	if len(bytes.TrimSpace(res.body)) == 0 {
		return "an empty body"
	}
	if ct := res.header.Get("Content-Type"); ct != "" {
		return "Content-Type " + ct
	}
	return "a body that is not JSON"
}

// seedConflictNote explains the 409s a run got creating or renaming to a
// name it generated from its seed (ledger.conflict): "" when there were
// none.
func seedConflictNote(l *ledger, seed int64) string {
	n, first := l.seedConflicts()
	if n == 0 {
		return ""
	}
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (%d such 409s in all)", n)
	}
	return fmt.Sprintf("%s answered 409 for the %s %q, a name this run generated from --seed %d%s: a %s of this seed is already on the target (an earlier run with --keep, or one killed before its clean-up): delete it or pass another --seed",
		first.req, first.kind.Attr, first.name, seed, more, first.kind.Noun)
}

// interruptedReason says where a run stopped: in which phase, and which
// phases never ran. A run cut short shows nothing about the steps it did
// not reach, so it must not read as ready.
func interruptedReason(cause error, steps []string, done int) string {
	reason := fmt.Sprintf("interrupted (%v) during %q", cause, steps[min(done, len(steps)-1)])
	if rest := steps[min(done+1, len(steps)):]; len(rest) > 0 {
		reason += fmt.Sprintf("; %d of %d phases did not run (%s)", len(rest), len(steps), strings.Join(rest, ", "))
	}
	return reason + ": the run shows nothing about them, so it cannot pass"
}

// resolve loads the profile, applies an IdP URL flag, and returns the base
// URL without its query. An empty target is left for Run to refuse.
func resolve(cfg Config) (*idp.IdP, string, []string, error) {
	var p *idp.IdP
	var err error
	switch {
	case cfg.IdPFile != "":
		p, err = idp.LoadIdPFile(cfg.IdPFile)
	default:
		p, err = idp.LoadIdP(defaultString(cfg.IdP, "okta-oin"))
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if cfg.Target == "" {
		return p, "", nil, nil
	}
	u, err := url.Parse(cfg.Target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", nil, fmt.Errorf("%w: target %q is not an http(s) URL", ErrConfig, reports.RedactURL(cfg.Target))
	}
	if u.User != nil {
		// An IdP sends its credential as a header, never in the URL; as for
		// `test`, a user:password in --target would be sent by no request.
		return nil, "", nil, fmt.Errorf("%w: --target must not carry credentials: use --token or --header", ErrConfig)
	}
	var notes []string
	q := u.Query()
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		to, ok := p.URLFlags[k]
		if !ok {
			return nil, "", nil, fmt.Errorf("%w: target URL has a query parameter %q that %s does not read; give the SCIM base URL", ErrConfig, k, p.Name)
		}
		if cfg.IdPFile == "" {
			next, err := idp.LoadIdP(to)
			if err != nil {
				return nil, "", nil, fmt.Errorf("%w: %v", ErrConfig, err)
			}
			notes = append(notes, fmt.Sprintf("the target URL carries ?%s, so %s behaves as %s (idp-traffic.md §1.2, feature flag)", k, p.Name, next.Name))
			p = next
		}
	}
	u.RawQuery, u.Fragment = "", ""
	return p, strings.TrimRight(u.String(), "/"), notes, nil
}

// runner holds one simulation's moving parts.
type runner struct {
	idp  *idp.IdP
	dir  *directory.Directory
	c    *client
	rec  *recorder
	st   *state
	prog *progress
	conc int

	// Picks one phase leaves for a later one.
	deactivated    []int        // users deactivated and not reactivated
	deactivatedAll int          // users deactivate picked, or -1 before it ran
	deletedUser    int          // user hard-deleted by user-delete, or -1
	churned        []int        // groups changed by membership-churn
	touched        map[int]bool // users a phase has picked
	// earliestModified is the earliest meta.lastModified the import saw on
	// a user: where a delta aggregation starts (SailPoint).
	earliestModified time.Time

	// What initial sync's lookups found, for the reasons of steps that
	// had nothing to do.
	userLookups, groupLookups lookupCount

	notes []string
	diffs []reports.Difference
}

func (r *runner) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// send sends one request of step.
func (r *runner) send(ctx context.Context, step idp.Step, req idp.Request) *response {
	return r.c.do(ctx, string(step), req)
}

// phase runs fn(0..n-1) on up to conc workers under a progress label,
// counting each finished unit.
func (r *runner) phase(ctx context.Context, label string, n, conc int, fn func(i int)) {
	r.work(ctx, label, n, conc, fn)
	r.prog.end()
}

// work is phase without the progress line that closes it: the caller
// closes it with r.prog.end or r.prog.finish.
func (r *runner) work(ctx context.Context, label string, n, conc int, fn func(i int)) {
	r.workParts(ctx, label, "", n, conc, fn)
}

// workParts is work for n units of more than one kind, which parts names
// (progress.beginParts).
func (r *runner) workParts(ctx context.Context, label, parts string, n, conc int, fn func(i int)) {
	r.prog.beginParts(label, n, parts)
	each(ctx, n, conc, func(i int) {
		fn(i)
		r.prog.tick()
	})
}

// check records one exchange under step, unless the run's stop cut it
// short: then it says nothing about the target.
func (r *runner) check(ctx context.Context, step idp.Step, res *response, reason string) {
	if res == nil && ctx.Err() != nil || res != nil && errors.Is(res.err, errStopped) {
		return
	}
	r.rec.record(step, res, reason)
}

// each runs fn(0..n-1) on up to conc workers and stops handing out work when
// ctx ends.
func each(ctx context.Context, n, conc int, fn func(i int)) {
	if n <= 0 {
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(max(conc, 1), n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func defaultInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

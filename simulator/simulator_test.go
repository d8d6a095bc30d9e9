package simulator

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
	"github.com/scimlab/scimlab/simulator/internal/faketarget"
)

// startReference starts an in-process reference server with the rfc profile.
func startReference(t *testing.T, lenient bool) *server.Local {
	t.Helper()
	l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: "rfc", Lenient: lenient})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func check(run *reports.Run, id string) *reports.Check {
	for i := range run.Checks {
		if run.Checks[i].ID == id {
			return &run.Checks[i]
		}
	}
	return nil
}

// TestEveryProfileAndScenarioPassesTheLenientReferenceServer runs each IdP
// profile through each scenario against the reference server with every
// IdP tolerance on: every check passes and the end state matches.
func TestEveryProfileAndScenarioPassesTheLenientReferenceServer(t *testing.T) {
	for _, name := range idp.Names() {
		for _, scen := range Scenarios() {
			t.Run(name+"/"+scen, func(t *testing.T) {
				t.Parallel()
				l := startReference(t, true)
				run, err := Run(context.Background(), Config{IdP: name, Target: l.BaseURL, Token: l.Token, Users: 25, Groups: 4, Seed: 11, Scenario: scen})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range run.Checks {
					if c.Verdict != reports.Pass && c.Verdict != reports.Skipped {
						t.Errorf("%s %s: %s", c.ID, c.Verdict, c.Reason)
					}
				}
				for _, d := range run.Differences {
					t.Errorf("difference: %+v", d)
				}
				if run.Failed() || run.Kind != "simulate" || run.IdP != name || run.Seed != 11 {
					t.Errorf("run: failed %v kind %q idp %q seed %d", run.Failed(), run.Kind, run.IdP, run.Seed)
				}
				p, err := idp.LoadIdP(name)
				if err != nil {
					t.Fatal(err)
				}
				if c := check(run, p.CheckID(idp.StepEndState)); c == nil || c.Verdict != reports.Pass {
					t.Errorf("no passing end-state check: %+v", c)
				}
				if len(run.Operations) == 0 || run.Operations[0].Count == 0 || run.Operations[0].P50 <= 0 {
					t.Errorf("operation stats missing: %+v", run.Operations)
				}
			})
		}
	}
}

// The lenient reference server takes Entra's group create with the ADSCIM
// schema URN in "schemas" (idp-traffic.md §1.2 row 12).
func TestLenientReferenceServerTakesEntraGroupSchema(t *testing.T) {
	l := startReference(t, true)
	run, err := Run(context.Background(), Config{IdP: "entra", Target: l.BaseURL, Token: l.Token, Users: 2, Groups: 1, Scenario: "initial-sync"})
	if err != nil {
		t.Fatal(err)
	}
	if c := check(run, "SIM-ENTRA-CREATE-GROUP"); c == nil || c.Verdict != reports.Pass {
		t.Fatalf("create group: %+v", c)
	}
}

// TestStrictServerRejectsEntraDeactivation: a strict RFC server cannot take
// Entra's default dialect ("Replace", "False", idp-traffic.md B2 and B3), so
// the deactivate step fails with the 400 as evidence, while Okta passes.
func TestStrictServerRejectsEntraDeactivation(t *testing.T) {
	l := startReference(t, false)
	run, err := Run(context.Background(), Config{IdP: "entra", Target: l.BaseURL, Token: l.Token, Users: 12, Groups: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	c := check(run, "SIM-ENTRA-DEACTIVATE")
	if c == nil || c.Verdict != reports.Fail || len(c.Evidence) != 1 {
		t.Fatalf("deactivate check: %+v", c)
	}
	ev := c.Evidence[0]
	if ev.Response.Status != 400 || ev.Request.Method != "PATCH" || !strings.Contains(ev.Request.Body, `"value":"False"`) {
		t.Fatalf("evidence is not the rejected \"False\" PATCH: %+v", ev)
	}
	if !strings.Contains(c.Reason, "answered 400") || !run.Failed() {
		t.Fatalf("reason %q, failed %v", c.Reason, run.Failed())
	}

	l2 := startReference(t, false)
	run, err = Run(context.Background(), Config{IdP: "okta-oin", Target: l2.BaseURL, Token: l2.Token, Users: 12, Groups: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if run.Failed() {
		t.Fatalf("okta-oin against a strict RFC server: %+v", run.RequiredFailures())
	}
}

// TestStringBooleansAloneFailDeactivation isolates B2: a target that takes
// "Replace" but not "False".
func TestStringBooleansAloneFailDeactivation(t *testing.T) {
	ft := faketarget.New(faketarget.Options{StrictBooleans: true})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2", Users: 8, Groups: 2, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	c := check(run, "SIM-ENTRA-DEACTIVATE")
	if c == nil || c.Verdict != reports.Fail || !strings.Contains(c.Reason, "active must be a boolean") {
		t.Fatalf("deactivate: %+v", c)
	}
	if c := check(run, "SIM-ENTRA-UPDATE-USER"); c.Verdict != reports.Pass {
		t.Fatalf("update-user should pass: %+v", c)
	}
}

// TestLiteralMemberRemoveShowsInEndState: an RFC-literal target empties the
// whole group on Entra's value-list remove (B6) yet answers 204; only the
// read-back catches it.
func TestLiteralMemberRemoveShowsInEndState(t *testing.T) {
	ft := faketarget.New(faketarget.Options{LiteralRemove: true})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2", Users: 20, Groups: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if c := check(run, "SIM-ENTRA-MEMBERS"); c.Verdict != reports.Pass {
		t.Fatalf("members: %+v", c)
	}
	c := check(run, "SIM-ENTRA-END-STATE")
	if c.Verdict != reports.Fail || !strings.Contains(c.Reason, "members") {
		t.Fatalf("end state: %+v", c)
	}
	absent := 0
	for _, d := range run.Differences {
		if d.Attribute == "members" && d.Got == "absent" {
			absent++
		}
	}
	if absent == 0 {
		t.Fatalf("no lost members among the differences: %+v", run.Differences)
	}
	// The flag's filtered remove takes only the named member.
	ft2 := faketarget.New(faketarget.Options{LiteralRemove: true})
	srv2 := httptest.NewServer(ft2)
	defer srv2.Close()
	run, err = Run(context.Background(), Config{IdP: "entra-aadoptscim062020", Target: srv2.URL + "/scim/v2", Users: 20, Groups: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if run.Failed() {
		t.Fatalf("flag run failed: %+v", run.RequiredFailures())
	}
}

// throttle answers 429 to the first n requests, then passes to next.
type throttle struct {
	n          int64
	retryAfter string
	next       http.Handler
	seen       atomic.Int64
}

func (h *throttle) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.seen.Add(1) <= h.n {
		if h.retryAfter != "" {
			w.Header().Set("Retry-After", h.retryAfter)
		}
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	h.next.ServeHTTP(w, r)
}

// retryClient returns a client for profile name whose pauses are recorded
// instead of slept.
func retryClient(t *testing.T, name, base string, scale float64) (*client, *[]time.Duration) {
	t.Helper()
	p, err := idp.LoadIdP(name)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(base, p, Config{TimeScale: scale}, nil)
	var mu sync.Mutex
	var waits []time.Duration
	c.pause = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	}
	return c, &waits
}

func TestOktaHonoursIntegerRetryAfter(t *testing.T) {
	h := &throttle{n: 2, retryAfter: "2", next: faketarget.New(faketarget.Options{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := idp.LoadIdP("okta-oin")
	c, waits := retryClient(t, "okta-oin", srv.URL+"/scim/v2", 0.001)
	res := c.do(context.Background(), "lookup-user", p.LookupUser("a@example.test"))
	if res.err != nil || res.status != 200 || res.attempts != 3 {
		t.Fatalf("status %d after %d attempts, err %v", res.status, res.attempts, res.err)
	}
	want := []time.Duration{2 * time.Millisecond, 2 * time.Millisecond} // 2 s scaled by 0.001
	if len(*waits) != 2 || (*waits)[0] != want[0] || (*waits)[1] != want[1] {
		t.Fatalf("waits %v, want %v", *waits, want)
	}
}

func TestOktaWaitsFiveMinutesDoublingAndGivesUpAfterTenTries(t *testing.T) {
	h := &throttle{n: 1 << 30, next: faketarget.New(faketarget.Options{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := idp.LoadIdP("okta-oin")
	c, waits := retryClient(t, "okta-oin", srv.URL+"/scim/v2", 1e-6)
	res := c.do(context.Background(), "create-user", p.GetUser("u1"))
	if res.status != 429 || res.attempts != 10 || h.seen.Load() != 10 {
		t.Fatalf("status %d, %d attempts, %d requests; want 429 after 10", res.status, res.attempts, h.seen.Load())
	}
	if len(*waits) != 9 {
		t.Fatalf("%d pauses, want 9", len(*waits))
	}
	want := 5 * time.Minute
	for k, w := range *waits {
		if w != scaled(want, 1e-6) {
			t.Fatalf("pause %d is %s, want %s (%s scaled)", k+1, w, scaled(want, 1e-6), want)
		}
		want *= 2
	}
	if res.waited != 5*time.Minute*511 {
		t.Fatalf("waited %s in all, want 5m·(2⁹−1)", res.waited)
	}
	r := &runner{idp: p}
	if reason := r.statusReason(idp.StepCreateUser, res); !strings.Contains(reason, "after 10 tries") {
		t.Fatalf("reason %q", reason)
	}
}

func TestEntraDoesNotRetry429(t *testing.T) {
	h := &throttle{n: 1, retryAfter: "1", next: faketarget.New(faketarget.Options{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p, _ := idp.LoadIdP("entra")
	c, waits := retryClient(t, "entra", srv.URL+"/scim/v2", 1)
	res := c.do(context.Background(), "lookup-user", p.LookupUser("a@example.test"))
	if res.status != 429 || res.attempts != 1 || len(*waits) != 0 {
		t.Fatalf("status %d, %d attempts, waits %v", res.status, res.attempts, *waits)
	}
}

// TestThrottledRunStillPasses runs a whole scenario through a target that
// throttles its first requests, with Okta's pauses scaled to microseconds.
func TestThrottledRunStillPasses(t *testing.T) {
	h := &throttle{n: 3, next: faketarget.New(faketarget.Options{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 6, Groups: 2, Seed: 1, Scenario: "initial-sync", TimeScale: 1e-6, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if run.Failed() {
		t.Fatalf("%+v", run.RequiredFailures())
	}
}

// TestTimeoutIsAnError: a request with no answer within the IdP's timeout
// got no response, so its step could not reach a verdict: an error naming
// the timeout, with the unanswered request as evidence (DESIGN.md: fail is
// for a wrong answer).
func TestTimeoutIsAnError(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	// Okta's profile with a 150 ms timeout instead of 60 s.
	b, err := os.ReadFile("../fixtures/idps/okta-oin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "okta-quick.yaml")
	if err := os.WriteFile(file, bytes.Replace(b, []byte("timeout: 60s"), []byte("timeout: 150ms"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	run, err := Run(context.Background(), Config{IdPFile: file, Target: srv.URL + "/scim/v2", Users: 1, Groups: 1, Seed: 1, Scenario: "initial-sync"})
	if err != nil {
		t.Fatal(err)
	}
	c := check(run, "SIM-OKTA-TEST-CONNECTION")
	if c == nil || c.Verdict != reports.Error || !strings.Contains(c.Reason, "timeout (150ms)") {
		t.Fatalf("test connection: %+v", c)
	}
	if len(c.Evidence) != 1 || c.Evidence[0].Request.Method != "GET" || c.Evidence[0].Response.Status != 0 {
		t.Fatalf("evidence: %+v", c.Evidence)
	}
}

func TestUnreachableTarget(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	run, err := Run(context.Background(), Config{IdP: "entra", Target: "http://" + addr + "/scim/v2", Token: "secret-token-value", Users: 50, Groups: 5})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err %v, want ErrUnreachable", err)
	}
	if run == nil || len(run.Notes) == 0 || !strings.Contains(strings.Join(run.Notes, "\n"), "stopped: target unreachable") {
		t.Fatalf("run %+v", run)
	}
	if n := run.Operations[0].Count; n > 5 {
		t.Fatalf("%d requests after the target proved unreachable", n)
	}
}

func TestCancelReturnsPartialReport(t *testing.T) {
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent atomic.Int64
	run, err := Run(ctx, Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 200, Groups: 5, Seed: 1, Concurrency: 2,
		trace: func(op string) {
			if !ownOp(op) && sent.Add(1) == 30 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if run == nil || !strings.Contains(strings.Join(run.Notes, "\n"), "interrupted") {
		t.Fatalf("no partial report: %+v", run)
	}
	if c := check(run, "SIM-OKTA-CREATE-USER"); c == nil || c.Verdict != reports.Pass {
		t.Fatalf("the requests before the stop are reported: %+v", c)
	}
	// The phases that never ran are not passes: the run is an error and
	// the IdP is not ready.
	if c := check(run, "SIM-OKTA-SCENARIO"); c == nil || c.Verdict != reports.Error || !strings.Contains(c.Reason, `during "initial-sync"`) || !strings.Contains(c.Reason, "verify") {
		t.Fatalf("scenario check: %+v", c)
	}
	if !run.Failed() {
		t.Fatal("an interrupted run does not fail")
	}
	for _, l := range run.Readiness() {
		if l.IdP && l.Ready() {
			t.Errorf("an interrupted run reads %q", l.String())
		}
	}
	if sent.Load() > 40 {
		t.Fatalf("%d requests sent; the run did not stop", sent.Load())
	}
	// What the run created before the stop is removed after it.
	if n := countOn(t, srv.URL+"/scim/v2", "", "Users"); n != 0 || len(run.Orphans) > 0 {
		t.Fatalf("the interrupted run left %d users, orphans %v", n, run.Orphans)
	}
}

func TestURLFlagSwitchesEntraProfile(t *testing.T) {
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2/?aadOptscim062020", Users: 3, Groups: 1, Scenario: "initial-sync"})
	if err != nil {
		t.Fatal(err)
	}
	if run.IdP != "entra-aadoptscim062020" || !strings.Contains(strings.Join(run.Notes, "\n"), "?aadOptscim062020") {
		t.Fatalf("idp %q, notes %v", run.IdP, run.Notes)
	}
	for _, rq := range ft.Requests() {
		if strings.Contains(rq.URI, "aadOptscim062020") || strings.Contains(rq.URI, "//") {
			t.Fatalf("the flag leaked into a request: %s", rq.URI)
		}
	}
	// B8: the misspelt flag is not read; the simulator refuses it rather than guess.
	if _, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2?AzureAdScimPatch062020"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("err %v, want ErrConfig", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"unknown idp":      {IdP: "google", Target: "http://127.0.0.1:1/scim/v2"},
		"no target":        {IdP: "okta"},
		"not http":         {IdP: "okta", Target: "ftp://x/scim"},
		"credentials":      {IdP: "okta", Target: "http://svc:pw@127.0.0.1:1/scim/v2"},
		"unknown scenario": {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Scenario: "nope"},
		"negative":         {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Users: -1},
		// Sizes beyond the bounds are refused before anything is allocated
		// for them (2e9 users once needed 32 GB up front).
		"huge users":       {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Users: 2_000_000_000},
		"too many users":   {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Users: MaxUsers + 1},
		"huge groups":      {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Users: 1, Groups: 2_000_000_000},
		"huge concurrency": {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Concurrency: 1 << 30},
		"rate NaN":         {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Rate: math.NaN()},
		"rate infinite":    {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", Rate: math.Inf(1)},
		"time scale NaN":   {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", TimeScale: math.NaN()},
		"time scale huge":  {IdP: "okta", Target: "http://127.0.0.1:1/scim/v2", TimeScale: 1e300},
	} {
		if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
		if name != "no target" {
			if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
				t.Errorf("%s: Validate: err %v, want ErrConfig", name, err)
			}
		}
	}
	// The largest sizes are valid, and Validate needs no target.
	if err := (Config{IdP: "entra", Users: MaxUsers, Groups: MaxGroups, Concurrency: MaxConcurrency, TimeScale: MaxTimeScale}).Validate(); err != nil {
		t.Errorf("the largest sizes: %v", err)
	}
}

func TestProgressOutput(t *testing.T) {
	ft := faketarget.New(faketarget.Options{})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	for _, tty := range []bool{false, true} {
		var out bytes.Buffer
		if _, err := Run(context.Background(), Config{IdP: "okta", Target: srv.URL + "/scim/v2", Users: 40, Groups: 2, Seed: int64(len(out.String())) + 100, Scenario: "initial-sync", Progress: &out, TTY: tty}); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		if tty != strings.Contains(s, "\r\033[K[") || !strings.Contains(s, "initial sync: users") {
			t.Fatalf("tty %v: %q", tty, s)
		}
	}
}

func TestEvidenceIsRedacted(t *testing.T) {
	ft := faketarget.New(faketarget.Options{StrictBooleans: true})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Token: "tok-abcdefghijklmnopqrstuvwxyz", Users: 4, Groups: 1, Scenario: "initial-sync"})
	if err != nil {
		t.Fatal(err)
	}
	c := check(run, "SIM-OKTA-CREATE-USER")
	ev := c.Evidence[0]
	if got := ev.Request.Headers["Authorization"]; len(got) != 1 || got[0] != "Bearer "+reports.Mask {
		t.Fatalf("authorization %v", got)
	}
	if strings.Contains(ev.Request.Body, `"password":"`) && !strings.Contains(ev.Request.Body, `"password":"`+reports.Mask) {
		t.Fatalf("the placeholder password is not redacted: %s", ev.Request.Body)
	}
}

func TestSelfSignedTargetNeedsInsecure(t *testing.T) {
	srv := httptest.NewTLSServer(faketarget.New(faketarget.Options{}))
	defer srv.Close()
	cfg := Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 2, Groups: 1, Scenario: "initial-sync"}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("err %v, want ErrUnreachable with a hint", err)
	}
	cfg.Insecure = true
	run, err := Run(context.Background(), cfg)
	if err != nil || run.Failed() {
		t.Fatalf("insecure run: %v, %+v", err, run.RequiredFailures())
	}
}

// compressing answers with the encoding the client asks for first.
type compressing struct {
	encoding string
	next     http.Handler
}

func (h compressing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.Contains(r.Header.Get("Accept-Encoding"), h.encoding) {
		h.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, r)
	var b bytes.Buffer
	var zw io.WriteCloser
	if h.encoding == "gzip" {
		zw = gzip.NewWriter(&b)
	} else {
		zw = zlib.NewWriter(&b)
	}
	zw.Write(rec.Body.Bytes())
	zw.Close()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Encoding", h.encoding)
	w.WriteHeader(rec.Code)
	w.Write(b.Bytes())
}

// TestCompressedResponses: Okta asks for gzip or deflate (idp-traffic.md
// §1.1) and reads either.
func TestCompressedResponses(t *testing.T) {
	for _, enc := range []string{"gzip", "deflate"} {
		srv := httptest.NewServer(compressing{enc, faketarget.New(faketarget.Options{})})
		run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: srv.URL + "/scim/v2", Users: 5, Groups: 2, Seed: 3})
		srv.Close()
		if err != nil || run.Failed() {
			t.Fatalf("%s: %v %+v", enc, err, run.RequiredFailures())
		}
	}
}

// TestReportRenders writes a simulation's report in every format.
func TestReportRenders(t *testing.T) {
	ft := faketarget.New(faketarget.Options{StrictBooleans: true})
	srv := httptest.NewServer(ft)
	defer srv.Close()
	run, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2", Users: 10, Groups: 2, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := reports.WriteAll(t.TempDir(), run)
	if err != nil || len(paths) < 4 {
		t.Fatalf("WriteAll: %v %v", paths, err)
	}
	md, err := os.ReadFile(paths["md"])
	if err != nil || !strings.Contains(string(md), "SIM-ENTRA-DEACTIVATE") {
		t.Fatalf("markdown report lacks the failing check: %v", err)
	}
}

func TestRateLimiterSpacesRequests(t *testing.T) {
	l := newLimiter(4) // 4 requests/s: one every 250 ms
	t0 := time.Unix(1000, 0)
	for k, want := range []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond} {
		if got := l.reserve(t0).Sub(t0); got != want {
			t.Fatalf("request %d starts after %s, want %s", k+1, got, want)
		}
	}
	// After a quiet second the next request goes at once.
	if got := l.reserve(t0.Add(2 * time.Second)); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("after a pause the request waits until %s", got)
	}
	if newLimiter(0) != nil {
		t.Fatal("rate 0 means unlimited")
	}
}

// TestFirstAnswerShowsAConfigError: when the first answer of a run shows a
// refused credential or no SCIM service, the run stops with ErrConfig
// instead of reporting every step as the target's failure; a SCIM error on
// the first answer, or a refusal later on, is the target's to answer for.
func TestFirstAnswerShowsAConfigError(t *testing.T) {
	answer := func(w http.ResponseWriter, status int, ctype, body string) bool {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
		return true
	}
	scimError := func(w http.ResponseWriter, status int) bool {
		return answer(w, status, "application/scim+json", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"`+strconv.Itoa(status)+`","detail":"no"}`)
	}
	tests := []struct {
		name string
		// first answers the nth request (from 1), or returns false to let
		// the fake target answer it.
		first   func(w http.ResponseWriter, n int64) bool
		wantErr string // "" when the run must complete
	}{
		{"401", func(w http.ResponseWriter, n int64) bool { return scimError(w, 401) }, "refused the credential (GET /Users?"},
		{"403", func(w http.ResponseWriter, n int64) bool { return answer(w, 403, "", "") }, "refused the credential"},
		{"web server 404", func(w http.ResponseWriter, n int64) bool {
			return answer(w, 404, "text/html", "<html>Not Found</html>")
		}, "no SCIM service at http://"},
		{"web page 200", func(w http.ResponseWriter, n int64) bool {
			return answer(w, 200, "text/html; charset=utf-8", "<!doctype html><title>app</title>")
		}, "answered 200 with Content-Type text/html; charset=utf-8, not a SCIM JSON document"},
		{"SCIM 404 everywhere", func(w http.ResponseWriter, n int64) bool { return scimError(w, 404) }, "GET /Users?count=1 both answered 404: scim 404"},
		{"SCIM 404 on test connection", func(w http.ResponseWriter, n int64) bool { return n == 1 && scimError(w, 404) }, ""},
		{"401 after the first answer", func(w http.ResponseWriter, n int64) bool { return n >= 5 && answer(w, 401, "", "") }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := faketarget.New(faketarget.Options{})
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tc.first(w, n.Add(1)) {
					ft.ServeHTTP(w, r)
				}
			}))
			defer srv.Close()
			run, err := Run(context.Background(), Config{IdP: "entra", Target: srv.URL + "/scim/v2", Token: "t", Users: 6, Groups: 1, Scenario: "initial-sync", Concurrency: 1})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err %v, want a completed run", err)
				}
				if !run.Failed() {
					t.Error("the target's failure is not reported")
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want ErrConfig with %q", err, tc.wantErr)
			}
			if n.Load() > 2 {
				t.Errorf("%d requests after the first answer showed a config error", n.Load()-1)
			}
		})
	}
}

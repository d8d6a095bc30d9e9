package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reports"
)

// faultMode is what a faultyTarget does from its nth request on.
type faultMode int

const (
	// targetDies closes the listener and drops every connection, the nth
	// request's too: later connections are refused.
	targetDies faultMode = iota
	// targetAnswers500 answers every request with a SCIM error 500.
	targetAnswers500
	// targetBlips drops the connections of blipRequests requests without
	// an answer, then answers again.
	targetBlips
)

// blipRequests is how many requests a targetBlips target drops.
const blipRequests = 3

// faultyTarget is a SCIM target on loopback that takes any credential (a
// front for credentialProxy) and misbehaves as mode says from its nth
// request on; atFault, when set, is called at that request. It returns the
// SCIM base URL.
func faultyTarget(t *testing.T, nth int64, mode faultMode, atFault func()) string {
	t.Helper()
	up, err := url.Parse(credentialProxy(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	rp.ErrorLog = log.New(io.Discard, "", 0)
	var n atomic.Int64
	var fault sync.Once
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		if i >= nth && atFault != nil {
			fault.Do(atFault)
		}
		switch {
		case i < nth:
		case mode == targetDies:
			srv.Listener.Close()
			go srv.CloseClientConnections()
			panic(http.ErrAbortHandler)
		case mode == targetAnswers500:
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"internal error"}`)
			return
		case mode == targetBlips && i < nth+blipRequests:
			panic(http.ErrAbortHandler)
		}
		rp.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + up.Path
}

// Credentials the runs below are given; no message may show them.
const (
	lostToken  = "t0ken-never-shown"
	lostAPIKey = "k3y-never-shown"
)

// lostTargetRun is one command run against a faultyTarget.
type lostTargetRun struct {
	name string
	// args runs the command against target, writing reports to dir.
	args func(target, dir string) []string
	// nth is the request at which the target misbehaves.
	nth int64
	// child runs the command in a process of its own (the suites run once
	// per process).
	child bool
	// oneCheck is a run of one check, which the fault cuts short: no check
	// passes before it.
	oneCheck bool
}

// The tests' targets that stop answering stay stopped: a run waits for one
// a fifth of a second (not the 30 s a real run gives a restart) before it
// takes it as gone. Child processes run this binary, so they wait as long.
// TestRestartIsRiddenOut sets its own.
func init() { goneAfter = 200 * time.Millisecond }

func lostTargetRuns(t *testing.T) []lostTargetRun {
	session := listSession(t, 8)
	return []lostTargetRun{
		{name: "simulate", nth: 40, args: func(target, dir string) []string {
			return []string{"simulate", "--target", target, "--token", lostToken, "--header", "X-Api-Key: " + lostAPIKey, "--users", "60", "--groups", "3", "--report-dir", dir}
		}},
		{name: "replay", nth: 4, args: func(target, dir string) []string {
			return []string{"replay", session, "--target", target, "--token", lostToken, "--header", "X-Api-Key: " + lostAPIKey, "--report-dir", dir}
		}},
		{name: "test", nth: 60, child: true, args: func(target, dir string) []string {
			return []string{"test", "--target", target, "--token", lostToken, "--header", "X-Api-Key: " + lostAPIKey, "--report-dir", dir}
		}},
		// One known-bug transcript (B22, five exchanges) and nothing after
		// it: the replay's own client is watched too.
		{name: "test --bug-pack", nth: 8, child: true, oneCheck: true, args: func(target, dir string) []string {
			return []string{"test", "--bug-pack", "--label-filter", "idp:onelogin", "--target", target, "--token", lostToken, "--header", "X-Api-Key: " + lostAPIKey, "--report-dir", dir}
		}},
	}
}

// runAgainst runs r against target and returns its exit code, stdout,
// stderr and report directory.
func (r lostTargetRun) runAgainst(t *testing.T, target string) (ExitCode, string, string, string) {
	t.Helper()
	dir := t.TempDir()
	if r.child {
		if testing.Short() {
			t.Skip("runs scimlab in a child process")
		}
		code, out, errs := runChild(t, nil, r.args(target, dir)...)
		return code, out, errs, dir
	}
	code, out, errs := runCLI(t, r.args(target, dir)...)
	return code, out, errs, dir
}

// lastLine returns the last line of s (a simulation prints its progress on
// stderr before any error line).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestTargetLostMidRunIsExit3: test, simulate and replay against a target
// that goes away after some checks ran write their reports in full, never
// say PASSED, and exit 3 with one line naming the cause and no credential.
func TestTargetLostMidRunIsExit3(t *testing.T) {
	for _, r := range lostTargetRuns(t) {
		t.Run(r.name, func(t *testing.T) {
			target := faultyTarget(t, r.nth, targetDies, nil)
			code, out, errs, dir := r.runAgainst(t, target)
			if code != ExitUnreachable {
				t.Fatalf("exit %d, want 3\n%s\n%s", code, out, errs)
			}
			line := lastLine(errs)
			host := strings.TrimPrefix(strings.Split(target, "/scim")[0], "http://")
			if !strings.HasPrefix(line, "scimlab "+strings.Fields(r.name)[0]+": the target stopped answering during the run (after ") ||
				!strings.Contains(line, "dial tcp "+host+": connect: connection refused") || !strings.HasSuffix(line, "(exit 3)") {
				t.Errorf("stderr does not end with the line naming the cause: %q", line)
			}
			if strings.Count(errs, "stopped answering") != 1 {
				t.Errorf("the cause is not said once on stderr:\n%s", errs)
			}
			for _, secret := range []string{lostToken, lostAPIKey} {
				if strings.Contains(errs, secret) || strings.Contains(out, secret) {
					t.Errorf("a credential reached the terminal:\n%s\n%s", out, errs)
				}
			}
			if strings.Contains(out, "PASSED") || !strings.Contains(out, "FAILED") {
				t.Errorf("the summary does not say FAILED:\n%s", out)
			}
			report := readFile(t, filepath.Join(dir, "report.json"))
			wants := []string{`"verdict": "error"`, "connection refused", "the target stopped answering during the run"}
			if !r.oneCheck {
				wants = append(wants, `"verdict": "pass"`)
			}
			for _, want := range wants {
				if !strings.Contains(report, want) {
					t.Errorf("report.json lacks %q:\n%.3000s", want, report)
				}
			}
			for _, name := range []string{"junit.xml", "report.html", "report.md"} {
				if s := readFile(t, filepath.Join(dir, name)); strings.Contains(s, lostToken) || strings.Contains(s, lostAPIKey) {
					t.Errorf("%s shows a credential", name)
				}
			}
		})
	}
}

// TestTargetAnswering500sIsExit1: a target that answers 500 from some
// request on still answers: its failures are conformance failures (exit 1),
// not an unreachable target.
func TestTargetAnswering500sIsExit1(t *testing.T) {
	for _, r := range lostTargetRuns(t) {
		t.Run(r.name, func(t *testing.T) {
			code, out, errs, dir := r.runAgainst(t, faultyTarget(t, r.nth, targetAnswers500, nil))
			if code != ExitFailures || strings.Contains(errs, "stopped answering") || strings.Contains(out, "PASSED") {
				t.Fatalf("exit %d, want 1 and no word of an unreachable target\n%s\n%s", code, out, errs)
			}
			if report := readFile(t, filepath.Join(dir, "report.json")); strings.Contains(report, checkTargetLost) || strings.Contains(report, "stopped answering") {
				t.Errorf("the report says the target was lost:\n%.3000s", report)
			}
		})
	}
}

// TestTargetBlipIsNotExit3: requests that got no answer while the target
// answers again after the run (the probe) leave the exit code as it was: the
// checks they cut short are errors, exit 1.
func TestTargetBlipIsNotExit3(t *testing.T) {
	dir := t.TempDir()
	target := faultyTarget(t, 3, targetBlips, nil)
	code, out, errs := runCLI(t, "replay", listSession(t, 8), "--target", target, "--token", lostToken, "--report-dir", dir)
	if code != ExitFailures || strings.Contains(errs, "stopped answering") {
		t.Fatalf("exit %d, want 1 and no word of an unreachable target\n%s\n%s", code, out, errs)
	}
	if report := readFile(t, filepath.Join(dir, "report.json")); !strings.Contains(report, `"verdict": "error"`) || strings.Contains(report, checkTargetLost) {
		t.Errorf("the dropped requests are not errors, or the report says the target was lost:\n%.3000s", report)
	}
}

// TestInterruptedWhileTargetDiesIsExit1: a run interrupted (Ctrl-C) when its
// target went away too exits 1, as every interrupted run does.
func TestInterruptedWhileTargetDiesIsExit1(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := faultyTarget(t, 4, targetDies, cancel)
	var out, errb bytes.Buffer
	code := run(ctx, []string{"replay", listSession(t, 8), "--target", target, "--token", lostToken}, &out, &errb)
	if code != ExitFailures || strings.Contains(errb.String(), "stopped answering") || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d, want 1 and the interrupted line\n%s\n%s", code, out.String(), errb.String())
	}
}

// TestWatchCountsOnlyTransportFailures: the watch counts a refused
// connection, not an HTTP 500 nor a request its own context ended; its
// probe finds the target lost only when it gets no answer either.
func TestWatchCountsOnlyTransportFailures(t *testing.T) {
	answers500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer answers500.Close()
	closed := "http://" + closedAddr(t)

	send := func(w *targetWatch, ctx context.Context, u string) {
		t.Helper()
		c := &http.Client{Transport: w.wrap(http.DefaultTransport.(*http.Transport).Clone())}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	w := watchTarget(newProbe(answers500.URL, "", "", nil, false))
	send(w, context.Background(), answers500.URL)
	send(w, cancelled, closed)
	if w.failures != 0 || w.lost(context.Background()) != nil {
		t.Fatalf("a 500 or a cancelled request was counted: %d failures", w.failures)
	}
	send(w, context.Background(), closed)
	if w.failures != 1 || !strings.Contains(transportCause(w.first), "connection refused") {
		t.Fatalf("a refused connection was not counted: %d failures, %v", w.failures, w.first)
	}
	if lost := w.lost(context.Background()); lost != nil {
		t.Errorf("a target that answers the probe (500) is lost: %+v", lost)
	}

	w = watchTarget(newProbe(closed, "", "", nil, false))
	send(w, context.Background(), closed)
	lost := w.lost(context.Background())
	if lost == nil || !strings.Contains(lost.cause, "connection refused") || strings.Contains(lost.cause, closed) {
		t.Errorf("a target that does not answer the probe: %+v", lost)
	}
	if got := transportCause(&url.Error{Op: "Get", URL: closed, Err: io.EOF}); got != "the target closed the connection before answering" {
		t.Errorf("EOF reads %q", got)
	}
}

// TestLostTargetNeverPasses: a run whose target went away after its last
// check (every check passed) still reads FAILED and exits 3: the report
// gets an error check that says why.
func TestLostTargetNeverPasses(t *testing.T) {
	closed := "http://" + closedAddr(t) + "/scim/v2"
	w := watchTarget(newProbe(closed, lostToken, "", nil, false))
	w.failures, w.first = 1, io.EOF
	run := &reports.Run{Kind: "simulate", Target: closed, Checks: []reports.Check{
		{ID: "SIM-OKTA-CREATE-USER", Title: "create", Area: "users", Level: reports.IdPLevel("okta"), Verdict: reports.Pass},
	}}
	var out, errb bytes.Buffer
	code := finishRun(context.Background(), &env{stdout: &out, stderr: &errb, secrets: []string{lostToken}}, "simulate", run, "", w)
	if code != ExitUnreachable || strings.Contains(out.String(), "PASSED") {
		t.Fatalf("exit %d, want 3 and no PASSED\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), checkTargetLost) || !strings.Contains(errb.String(), "(after 1 check): dial tcp") {
		t.Errorf("no %s check in the summary, or no cause on stderr\n%s\n%s", checkTargetLost, out.String(), errb.String())
	}
	for _, c := range run.Checks {
		if c.ID == checkTargetLost && (c.Level != reports.IdPLevel("okta") || c.Verdict != reports.Error) {
			t.Errorf("%s is %s at level %s, want error at the run's own required level", c.ID, c.Verdict, c.Level)
		}
	}
}

// TestBenchUnreachableTargetIsExit3: bench against a --target that refuses
// connections is exit 3, as for test, simulate and replay.
func TestBenchUnreachableTargetIsExit3(t *testing.T) {
	target := "http://" + closedAddr(t) + "/scim/v2"
	code, _, errs := runCLI(t, "bench", "--target", target, "--token", "t0ken", "--users", "5", "--concurrency", "1")
	if code != ExitUnreachable || !strings.Contains(lastLine(errs), "scimlab bench: target unreachable: ") {
		t.Errorf("exit %d, stderr %q; want 3 and target unreachable", code, errs)
	}
	// Found before any workload runs: one line, no progress.
	if strings.Count(errs, "\n") != 1 {
		t.Errorf("stderr %q; want the one line, before the trivial handlers run", errs)
	}
	// No token: one line, exit 2, before any request.
	t.Setenv("SCIM_TOKEN", "")
	if code, out, errs := runCLI(t, "bench", "--target", target, "--users", "5"); code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "--target needs --token") {
		t.Errorf("no token: exit %d, stdout %q, stderr %q; want 2 and one line", code, out, errs)
	}
	// A target that answers, badly, is not unreachable.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer srv.Close()
	if code, _, errs := runCLI(t, "bench", "--target", srv.URL+"/scim/v2", "--token", "t0ken", "--users", "5", "--concurrency", "1"); code != ExitUsage {
		t.Errorf("a target that answers 401: exit %d, stderr %q; want 2", code, errs)
	}
}

// stubRT answers with err, or with 200 when err is nil, and counts calls.
type stubRT struct {
	err   error
	calls int
}

func (s *stubRT) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestHungTargetIsTakenAsGone: requests that time out with no answer count
// as unanswered; once enough of them in a row have gone on long enough, the
// rest of the run fails at once instead of each waiting out its timeout. An
// answer in between starts the count again, and the run's own stop
// (Ctrl-C) is never counted.
func TestHungTargetIsTakenAsGone(t *testing.T) {
	defer func(a time.Duration, n int) { goneAfter, goneRequests = a, n }(goneAfter, goneRequests)
	goneAfter, goneRequests = 0, 3
	w := watchTarget(scimProbe{base: "http://127.0.0.1:1/scim/v2"})
	stub := &stubRT{err: errors.New("net/http: request canceled (Client.Timeout exceeded while awaiting headers)")}
	rt := w.wrap(stub)
	send := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1/scim/v2/Users", nil)
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		return err
	}
	timedOut := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 0)
		t.Cleanup(cancel)
		return ctx
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()

	for range 5 {
		send(stopped) // the run's own stop: never counted
	}
	send(timedOut())
	send(timedOut())
	stub.err = nil
	if err := send(context.Background()); err != nil { // an answer: the count starts again
		t.Fatal(err)
	}
	stub.err = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	for range 3 {
		send(timedOut())
	}
	calls := stub.calls
	err := send(context.Background())
	if !errors.Is(err, errTargetGone) || stub.calls != calls {
		t.Fatalf("after 3 unanswered requests in a row: %v (calls %d → %d), want errTargetGone without sending", err, calls, stub.calls)
	}
	if !strings.Contains(err.Error(), "3 requests in a row") {
		t.Errorf("error %q", err)
	}
	w.mu.Lock()
	failures := w.failures
	w.mu.Unlock()
	if failures != 5 {
		t.Errorf("%d failures counted, want 5 (the stopped requests are not)", failures)
	}
}

// TestRestartIsRiddenOut: a target that refuses connections for a moment (a
// restart) is waited for: the request, a POST with its body, is sent again
// once the target listens and reaches it exactly once, and nothing counts
// as unanswered. A body that cannot be read twice is sent once; and a target
// that keeps refusing past goneAfter gets the refusal.
func TestRestartIsRiddenOut(t *testing.T) {
	defer func(a time.Duration) { goneAfter = a }(goneAfter)
	goneAfter = time.Minute
	addr := closedAddr(t)
	var got []string
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})}
	restarted := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond) // down for a moment; no assertion rests on it
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			close(restarted)
			return
		}
		close(restarted)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() { <-restarted; srv.Close() })

	w := watchTarget(scimProbe{base: "http://" + addr + "/scim/v2"})
	c := &http.Client{Transport: w.wrap(http.DefaultTransport.(*http.Transport).Clone())}
	resp, err := c.Post("http://"+addr+"/scim/v2/Users", "application/scim+json", strings.NewReader(`{"userName":"a"}`))
	if err != nil {
		t.Fatalf("the restart was not ridden out: %v", err)
	}
	resp.Body.Close()
	mu.Lock()
	if resp.StatusCode != http.StatusCreated || len(got) != 1 || got[0] != `POST {"userName":"a"}` {
		t.Errorf("status %d, the target got %q; want the POST once, with its body", resp.StatusCode, got)
	}
	mu.Unlock()
	if w.failures != 0 {
		t.Errorf("%d requests counted as unanswered", w.failures)
	}

	// A body that cannot be read again: sent once, and the refusal counts.
	w = watchTarget(scimProbe{base: "http://127.0.0.1:1"})
	closed := "http://" + closedAddr(t)
	req, _ := http.NewRequest(http.MethodPost, closed+"/Users", io.MultiReader(strings.NewReader("{}")))
	stub := &refusingRT{}
	if _, err := w.wrap(stub).RoundTrip(req); !notSent(err) || stub.calls != 1 || w.failures != 1 {
		t.Errorf("one-shot body: %v, %d sends, %d failures; want the refusal after one send", err, stub.calls, w.failures)
	}
	// A target that refuses for longer than goneAfter.
	goneAfter = 0
	stub = &refusingRT{}
	req, _ = http.NewRequest(http.MethodGet, closed+"/Users", nil)
	if _, err := w.wrap(stub).RoundTrip(req); !notSent(err) || stub.calls != 1 {
		t.Errorf("past goneAfter: %v after %d sends; want the refusal at once", err, stub.calls)
	}
}

// refusingRT refuses every connection, as a stopped target does.
type refusingRT struct{ calls int }

func (r *refusingRT) RoundTrip(*http.Request) (*http.Response, error) {
	r.calls++
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
}

// TestLongSilenceTakesTheTargetAsGone: a client that sends one request at a
// time with a long timeout (replay, 60 s) needs not wait for five of them:
// two in a row with no answer over goneSilent are enough; less silence than
// that is not.
func TestLongSilenceTakesTheTargetAsGone(t *testing.T) {
	defer func(a time.Duration, n int) { goneAfter, goneRequests = a, n }(goneAfter, goneRequests)
	goneAfter, goneRequests = time.Hour, 5
	for _, tc := range []struct {
		back time.Duration
		gone bool
	}{{goneSilent - time.Minute, false}, {goneSilent, true}} {
		w := watchTarget(scimProbe{base: "http://127.0.0.1:1/scim/v2"})
		stub := &stubRT{err: errors.New("net/http: request canceled (Client.Timeout exceeded while awaiting headers)")}
		rt := w.wrap(stub)
		send := func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 0)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:1/scim/v2/Users", nil)
			_, err := rt.RoundTrip(req)
			return err
		}
		send()
		w.mu.Lock()
		w.since = w.since.Add(-tc.back) // the first timeout began that long ago
		w.mu.Unlock()
		send()
		calls := stub.calls
		err := send()
		if gone := errors.Is(err, errTargetGone) && stub.calls == calls; gone != tc.gone {
			t.Errorf("silent for %s over 2 requests: gone %v (%v), want %v", tc.back, gone, err, tc.gone)
		}
	}
}

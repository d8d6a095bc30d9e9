// Package recordreplay proves record and replay end to end: a simulated
// Okta provisioning run is recorded through the recorder in front of one
// reference server and replayed against a second, fresh one.
package recordreplay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator"
	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/simulator/transcript"
)

func start(t *testing.T) *server.Local {
	t.Helper()
	l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: "rfc", Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// passwordTap sits in front of the recorder and keeps every password value
// the IdP sent, before the recorder redacts anything.
type passwordTap struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]bool
}

func (p *passwordTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	var doc any
	if json.Unmarshal(body, &doc) == nil {
		p.mu.Lock()
		collectPasswords(doc, p.seen)
		p.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.next.ServeHTTP(w, r)
}

// collectPasswords finds "password" members at any depth, including in a
// PATCH value.
func collectPasswords(v any, into map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && (k == "password" || k == "Password") && s != "" {
				into[s] = true
			}
			collectPasswords(e, into)
		}
	case []any:
		for _, e := range t {
			collectPasswords(e, into)
		}
	}
}

func TestRecordedOktaRunReplaysOnAFreshServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, second := start(t), start(t)

	var jsonl bytes.Buffer
	rec, err := recorder.New(first.BaseURL, &jsonl, recorder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tap := &passwordTap{next: rec, seen: map[string]bool{}}
	proxy := httptest.NewServer(tap)
	defer proxy.Close()

	// One request at a time, so the transcript's order is the order in
	// which the IdP depended on earlier answers.
	sim, err := simulator.Run(ctx, simulator.Config{
		IdP: "okta-oin", Target: proxy.URL + server.BasePath, Token: first.Token,
		Users: 20, Groups: 4, Seed: 1, Concurrency: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	proxy.Close() // every exchange is written once the proxy has drained
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range sim.Checks {
		if c.Verdict.Failing() {
			t.Logf("simulator check against the first server: %s %s: %s", c.ID, c.Verdict, c.Reason)
		}
	}

	raw := jsonl.Bytes()
	xs, err := transcript.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != rec.Count() || len(xs) < 50 {
		t.Fatalf("transcript has %d exchanges, the recorder counted %d; a 20-user run sends more than 50", len(xs), rec.Count())
	}
	if got := transcript.IdP(xs); got != "okta" {
		t.Errorf("transcript.IdP = %q, want okta (Okta's User-Agent)", got)
	}

	// No secret reaches the transcript.
	if len(tap.seen) == 0 {
		t.Fatal("the simulator sent no password; Okta sends one on every create (idp-traffic.md §1.1 row 3)")
	}
	secrets := map[string]string{"first server's token": first.Token, "second server's token": second.Token}
	for pw := range tap.seen {
		secrets["password "+pw] = pw
	}
	for what, s := range secrets {
		if s != "" && bytes.Contains(raw, []byte(s)) {
			t.Errorf("the transcript contains the %s", what)
		}
	}

	// Replay against the second, fresh server: every exchange gets the
	// answer it got when recorded.
	started := time.Now()
	results, err := replayer.Replay(ctx, replayer.Target{BaseURL: second.BaseURL, Token: second.Token}, xs)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(xs) {
		t.Fatalf("%d results for %d exchanges", len(results), len(xs))
	}
	for _, r := range results {
		if r.Verdict != reports.Pass || r.Sent.Status != r.Original.Status {
			t.Errorf("#%d %s: %s (recorded %d, replayed %d): %s", r.Original.Seq, r.Original.Title(), r.Verdict, r.Original.Status, r.Sent.Status, r.Reason)
		}
	}
	run := replayer.ToRun(second.BaseURL, transcript.IdP(xs), results, started)
	if run.Failed() {
		t.Errorf("the replay report fails: %+v", run.Readiness())
	}
	t.Logf("%d exchanges recorded and replayed; %d passwords checked", len(xs), len(tap.seen))
}

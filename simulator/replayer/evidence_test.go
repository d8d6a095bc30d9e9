package replayer

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// recordedLatency is the latency the transcript holds for every exchange:
// no replay against a loopback fake takes that long to the nanosecond, so a
// check or an evidence with this latency copied it from the recording.
const recordedLatency = 22.771 // ms

// recordedBody is the body the recording holds for the create; it must
// never show up as the new target's answer.
const recordedBody = `{"id":"recorded-id-77","userName":"ana@example.test"}`

// evidenceTranscript is a discovery read the fake always answers, then a
// create whose answer each case varies.
func evidenceTranscript() []transcript.Exchange {
	return []transcript.Exchange{
		{Seq: 1, Method: "GET", Path: "/ServiceProviderConfig", Status: 200, LatencyMs: recordedLatency,
			ResponseBody: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`},
		{Seq: 2, Method: "POST", Path: "/Users", Status: 201, LatencyMs: recordedLatency,
			RequestBody:     `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.test"}`,
			ResponseHeaders: map[string][]string{"Location": {"http://recorded.example/scim/v2/Users/recorded-id-77"}, "Content-Type": {"application/scim+json"}},
			ResponseBody:    recordedBody},
	}
}

// refuseAfter is a transport that sends its first n requests and fails the
// rest at once without asking for a connection, as the CLI's watch does once
// it takes the target as gone.
type refuseAfter struct {
	mu   sync.Mutex
	n    int
	next http.RoundTripper
}

var errGone = errors.New("not sent: the target stopped answering earlier in the run")

func (r *refuseAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.n--
	refuse := r.n < 0
	r.mu.Unlock()
	if refuse {
		return nil, errGone
	}
	return r.next.RoundTrip(req)
}

// TestEvidenceIsWhatTheTargetDid: a replayed exchange's evidence and
// duration describe this replay, never the recording: a request that got no
// answer (a timeout, a hang-up) shows the request as sent, no response and
// the time it waited; one never sent has no evidence and no duration; a real
// answer, even a cut one, shows that answer and its own latency.
func TestEvidenceIsWhatTheTargetDid(t *testing.T) {
	cases := []struct {
		name    string
		create  http.HandlerFunc // answers the POST
		refuse  bool             // the transport refuses the POST unsent
		verdict reports.Verdict
		reason  string // in the check's reason
		status  int    // the evidence's response status; -1: no evidence
		body    string // the evidence's response body
	}{
		{name: "timeout", verdict: reports.Error, reason: "Client.Timeout exceeded", status: 0,
			create: func(w http.ResponseWriter, r *http.Request) {
				// The server notices the client's hang-up once the body is read.
				io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
			}},
		{name: "hang-up", verdict: reports.Error, reason: "EOF", status: 0,
			create: func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
			}},
		{name: "not sent", refuse: true, verdict: reports.Error, reason: errGone.Error(), status: -1},
		{name: "cut answer", verdict: reports.Error, reason: "reading the response to POST /Users", status: 201, body: `{"id":"ne`,
			create: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(201)
				io.WriteString(w, `{"id":"ne`)
			}},
		{name: "refused", verdict: reports.Fail, reason: "status 400", status: 400, body: `{"detail":"no"}`,
			create: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(400)
				io.WriteString(w, `{"detail":"no"}`)
			}},
		{name: "created", verdict: reports.Pass, status: -1,
			create: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(201)
				io.WriteString(w, `{"id":"new-1","userName":"ana@example.test"}`)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/scim+json")
				if r.Method == "GET" {
					io.WriteString(w, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]}`)
					return
				}
				tc.create(w, r)
			}))
			defer srv.Close()
			c := &http.Client{Transport: srv.Client().Transport, Timeout: 200 * time.Millisecond}
			if tc.refuse {
				c.Transport = &refuseAfter{n: 1, next: c.Transport}
			}
			res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Token: "good", Client: c}, evidenceTranscript())
			if err != nil {
				t.Fatal(err)
			}
			r := res[1]
			if r.Verdict != tc.verdict || !strings.Contains(r.Reason, tc.reason) {
				t.Fatalf("verdict %s (%q), want %s with %q", r.Verdict, r.Reason, tc.verdict, tc.reason)
			}
			if r.Unsent != tc.refuse {
				t.Errorf("Unsent = %v, want %v", r.Unsent, tc.refuse)
			}
			run := ToRun(srv.URL, "okta", res, time.Now())
			c0 := run.Checks[1]
			recorded := time.Duration(recordedLatency * float64(time.Millisecond))
			switch {
			case tc.refuse:
				if c0.Duration != 0 {
					t.Errorf("a request never sent took %s", c0.Duration)
				}
			case c0.Duration <= 0 || c0.Duration == recorded:
				t.Errorf("duration %s: want the time this replay took, not 0 or the recorded %s", c0.Duration, recorded)
			}
			if tc.status < 0 {
				if len(c0.Evidence) != 0 {
					t.Errorf("evidence %+v; want none", c0.Evidence)
				}
				return
			}
			if len(c0.Evidence) != 1 {
				t.Fatalf("evidence %+v; want one exchange", c0.Evidence)
			}
			ev := c0.Evidence[0]
			if ev.Request.Method != "POST" || ev.Request.URL != "/Users" || len(ev.Request.Headers["Authorization"]) == 0 {
				t.Errorf("evidence request %+v; want the POST as sent, with its (redacted) Authorization", ev.Request)
			}
			if ev.Response.Status != tc.status || ev.Response.Body != tc.body {
				t.Errorf("evidence response %d %q; want %d %q", ev.Response.Status, ev.Response.Body, tc.status, tc.body)
			}
			if tc.status == 0 && len(ev.Response.Headers) != 0 {
				t.Errorf("no answer came, yet the evidence has response headers %v", ev.Response.Headers)
			}
			if ev.Latency != c0.Duration {
				t.Errorf("evidence latency %s, check duration %s; want the same, this replay's", ev.Latency, c0.Duration)
			}
			js, _ := json.Marshal(c0)
			if strings.Contains(string(js), "recorded-id-77") {
				t.Errorf("the check shows the recorded response as the target's: %s", js)
			}
		})
	}
}

// pairedLater is a target on which a create answers 500 yet creates the
// user, a list shows it, and a read of an existing user never answers.
type pairedLater struct {
	mu    sync.Mutex
	users []string
}

func (p *pairedLater) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/scim+json")
	switch {
	case r.Method == "POST":
		io.Copy(io.Discard, r.Body)
		p.users = append(p.users, "new-1")
		w.WriteHeader(500)
	case r.URL.Path == "/Users":
		if len(p.users) == 0 {
			io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
			return
		}
		io.WriteString(w, `{"totalResults":1,"Resources":[{"id":"new-1","userName":"ana"}]}`)
	case len(p.users) > 0 && r.URL.Path == "/Users/new-1":
		p.mu.Unlock()
		<-r.Context().Done()
		p.mu.Lock()
	default:
		w.WriteHeader(404)
	}
}

// TestMinimizeKeepsANoAnswerFailureSent: the failure to minimise got no
// answer (status 0); an attempt in which the exchange is not sent (its id
// lost with the list that paired it) has status 0 too, but does not show
// that failure, so the list stays in the minimal transcript.
func TestMinimizeKeepsANoAnswerFailureSent(t *testing.T) {
	xs := []transcript.Exchange{
		{Seq: 1, Method: "POST", Path: "/Users", RequestBody: `{"userName":"ana"}`, Status: 201, ResponseBody: `{"id":"orig-A","userName":"ana"}`},
		{Seq: 2, Method: "GET", Path: "/Users", Query: "filter=userName+eq+%22ana%22", Status: 200, ResponseBody: `{"totalResults":1,"Resources":[{"id":"orig-A","userName":"ana"}]}`},
		{Seq: 3, Method: "GET", Path: "/Users/orig-A", Status: 200, ResponseBody: `{"id":"orig-A","userName":"ana"}`},
	}
	fresh := func(ctx context.Context) (Target, func(), error) {
		srv := httptest.NewServer(&pairedLater{})
		c := &http.Client{Transport: srv.Client().Transport, Timeout: 100 * time.Millisecond}
		return Target{BaseURL: srv.URL, Token: "t", Client: c}, srv.Close, nil
	}
	got, id, err := Minimize(context.Background(), fresh, xs, "RPL-0003")
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int
	for _, x := range got {
		seqs = append(seqs, x.Seq)
	}
	if id != "RPL-0003" || len(seqs) != 3 {
		t.Errorf("minimised %s to %v; want RPL-0003 with all of [1 2 3]: without 2 exchange 3 is not sent at all", id, seqs)
	}
}

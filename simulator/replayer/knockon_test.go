package replayer

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// groupRefuser is a target that creates users but refuses every group (a
// strict server and Entra's extension schema URN), and logs each request
// it receives.
type groupRefuser struct {
	mu   sync.Mutex
	next int
	seen []string
}

func (g *groupRefuser) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen = append(g.seen, r.Method+" "+strings.TrimPrefix(r.URL.Path, "/scim/v2"))
	w.Header().Set("Content-Type", "application/scim+json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/scim/v2/Users":
		g.next++
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"id":"new-%d","userName":"u"}`, g.next)
	case r.Method == "POST" && r.URL.Path == "/scim/v2/Groups":
		w.WriteHeader(400)
		io.WriteString(w, `{"status":"400","scimType":"invalidValue","detail":"unknown schema"}`)
	case strings.HasPrefix(r.URL.Path, "/scim/v2/Users/new-"):
		w.WriteHeader(204)
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"status":"404"}`)
	}
}

func (g *groupRefuser) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}

// knockOnTranscript: a group is created, then used three times (one of them
// by a create that refers to it); a user is created and deleted.
func knockOnTranscript() []transcript.Exchange {
	return []transcript.Exchange{
		{Seq: 1, Method: "POST", Path: "/Groups", RequestBody: `{"displayName":"Ops"}`, Status: 201, ResponseBody: `{"id":"g-old-1","displayName":"Ops"}`},
		{Seq: 2, Method: "POST", Path: "/Users", RequestBody: `{"userName":"u"}`, Status: 201, ResponseBody: `{"id":"u-old-1","userName":"u"}`},
		{Seq: 3, Method: "PATCH", Path: "/Groups/g-old-1", RequestBody: `{"Operations":[{"op":"add","path":"members","value":[{"value":"u-old-1"}]}]}`, Status: 204},
		{Seq: 4, Method: "POST", Path: "/Groups", RequestBody: `{"displayName":"Ops child","members":[{"value":"g-old-1"}]}`, Status: 201, ResponseBody: `{"id":"g-old-2"}`},
		{Seq: 5, Method: "DELETE", Path: "/Groups/g-old-2", Status: 204},
		{Seq: 6, Method: "GET", Path: "/Groups", Query: "filter=id+eq+%22g-old-1%22", Status: 200, ResponseBody: `{"totalResults":1,"Resources":[]}`},
		{Seq: 7, Method: "DELETE", Path: "/Users/u-old-1", Status: 204},
		// An id that merely starts like a lost one is not it.
		{Seq: 8, Method: "DELETE", Path: "/Groups/g-old-10", Status: 404},
	}
}

// TestKnockOnExchangesAreErrorsNotFailures: an exchange that uses an id
// whose creating exchange failed is not sent, and is an error naming that
// exchange (transitively through a create that used it), not a failure of
// its own.
func TestKnockOnExchangesAreErrorsNotFailures(t *testing.T) {
	g := &groupRefuser{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	res, err := Replay(context.Background(), Target{BaseURL: srv.URL + "/scim/v2", Token: "t"}, knockOnTranscript())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]struct {
		verdict   reports.Verdict
		blockedBy int
	}{
		1: {reports.Fail, 0}, 2: {reports.Pass, 0}, 3: {reports.Error, 1}, 4: {reports.Error, 1},
		5: {reports.Error, 1}, 6: {reports.Error, 1}, 7: {reports.Pass, 0}, 8: {reports.Pass, 0},
	}
	for _, r := range res {
		w := want[r.Original.Seq]
		if r.Verdict != w.verdict || r.BlockedBy != w.blockedBy {
			t.Errorf("%s: %s (blocked by %d) %q, want %s (blocked by %d)", CheckID(r.Original.Seq), r.Verdict, r.BlockedBy, r.Reason, w.verdict, w.blockedBy)
		}
		if r.Verdict == reports.Error && (!strings.Contains(r.Reason, "RPL-0001 (POST /Groups)") || !strings.HasPrefix(r.Reason, "not sent: ") || r.Sent.Method != "") {
			t.Errorf("%s: reason %q, sent %q", CheckID(r.Original.Seq), r.Reason, r.Sent.Method)
		}
	}
	got := strings.Join(g.requests(), ", ")
	if got != "POST /Groups, POST /Users, DELETE /Users/new-1, DELETE /Groups/g-old-10" {
		t.Errorf("the target received %s", got)
	}
	run := ToRun(srv.URL, "entra", res, res[0].Sent.Time)
	for _, c := range run.Checks {
		if c.Verdict == reports.Error && len(c.Evidence) != 0 {
			t.Errorf("%s has evidence of a request never sent", c.ID)
		}
	}
}

// TestSameIDOnBothTargetsIsNotLost: a target that returns the very id the
// recording has (sequential ids on a fresh server) pairs it with itself.
func TestSameIDOnBothTargetsIsNotLost(t *testing.T) {
	g := &groupRefuser{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	xs := []transcript.Exchange{
		{Seq: 1, Method: "POST", Path: "/Users", RequestBody: `{"userName":"u"}`, Status: 201, ResponseBody: `{"id":"new-1"}`},
		{Seq: 2, Method: "DELETE", Path: "/Users/new-1", Status: 204},
	}
	res, err := Replay(context.Background(), Target{BaseURL: srv.URL + "/scim/v2", Token: "t"}, xs)
	if err != nil {
		t.Fatal(err)
	}
	if res[1].Verdict != reports.Pass {
		t.Errorf("DELETE: %s %q", res[1].Verdict, res[1].Reason)
	}
}

// TestMinimizeRefusesAKnockOn: minimising an exchange that was never sent
// would "reproduce" a request for an id that never existed on the target;
// it is refused, naming the exchange to minimise instead.
func TestMinimizeRefusesAKnockOn(t *testing.T) {
	fresh := func(ctx context.Context) (Target, func(), error) {
		srv := httptest.NewServer(&groupRefuser{})
		return Target{BaseURL: srv.URL + "/scim/v2", Token: "t"}, srv.Close, nil
	}
	_, _, err := Minimize(context.Background(), fresh, knockOnTranscript(), CheckID(5))
	if !errors.Is(err, ErrBlocked) || !strings.Contains(err.Error(), "RPL-0005 uses id g-old-2") || !strings.HasSuffix(err.Error(), "minimise RPL-0001 instead") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Minimize(RPL-0005) = %v", err)
	}
	min, id, err := Minimize(context.Background(), fresh, knockOnTranscript(), "")
	if err != nil || id != "RPL-0001" || len(min) != 1 {
		t.Fatalf("Minimize(first) = %d exchanges, %s, %v", len(min), id, err)
	}
}

// TestRedactedCredentialsAreNeverReplayed: a recorded credential header
// (any name reports.CredentialHeader matches, or any value the recorder
// redacted) is left out; the target's come from the Target.
func TestRedactedCredentialsAreNeverReplayed(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		if r.Header.Get("X-Api-Key") != "live-key" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
	}))
	defer srv.Close()
	x := transcript.Exchange{Seq: 1, Method: "GET", Path: "/Users", Status: 200, ResponseBody: `{"totalResults":0,"Resources":[]}`,
		RequestHeaders: map[string][]string{
			"Authorization":   {"Bearer " + reports.Mask},
			"X-Api-Key":       {reports.Mask},
			"Cookie":          {reports.Mask},
			"X-Session-Id":    {"abc"},
			"X-Forwarded-Tag": {"run " + reports.Mask},
			"User-Agent":      {"Okta SCIM Client 1.0.0"},
		}}
	x = x.Redacted()
	res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Headers: map[string]string{"X-Api-Key": "live-key"}}, []transcript.Exchange{x})
	if err != nil || res[0].Verdict != reports.Pass {
		t.Fatalf("replay: %v %+v", err, res)
	}
	for name, vs := range got {
		for _, v := range vs {
			if strings.Contains(v, "REDACTED") {
				t.Errorf("sent %s: %s", name, v)
			}
		}
	}
	for _, name := range []string{"Authorization", "Cookie", "X-Session-Id", "X-Forwarded-Tag"} {
		if got.Get(name) != "" {
			t.Errorf("sent the recorded %s: %q", name, got.Get(name))
		}
	}
	if got.Get("User-Agent") != "Okta SCIM Client 1.0.0" {
		t.Errorf("User-Agent = %q, want the recorded one", got.Get("User-Agent"))
	}

	// Without the key, the refusal says which header to pass.
	_, err = Replay(context.Background(), Target{BaseURL: srv.URL, Token: "t"}, []transcript.Exchange{x})
	if !errors.Is(err, ErrCredential) || !strings.Contains(err.Error(), "the recording's Cookie, X-Api-Key, X-Forwarded-Tag, X-Session-Id headers were redacted and are not replayed") || strings.Contains(err.Error(), "Authorization") {
		t.Errorf("refusal = %v", err)
	}
}

// TestReplaySendsAndJudgesCodedBodies: a recorded gzip request body goes out
// gzip again; a response recorded decoded from gzip is compared as the JSON
// it is; a binary response recorded as base64 is judged by status alone.
func TestReplaySendsAndJudgesCodedBodies(t *testing.T) {
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
				w.WriteHeader(400)
				return
			}
			b, _ := io.ReadAll(zr)
			gotBody = string(b)
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(201)
			io.WriteString(w, `{"id":"new-1","userName":"u"}`)
			return
		}
		if r.URL.Path == "/logo" {
			w.Write([]byte{0xff, 0xfe, 0})
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"id":"new-1","userName":"u"}`)
	}))
	defer srv.Close()
	gz := gzipBytes(t, `{"userName":"u"}`)
	respGz := gzipBytes(t, `{"id":"old-1","userName":"u","active":true}`)

	post := transcript.Exchange{Seq: 1, Method: "POST", Path: "/Users", Status: 201,
		RequestHeaders:  map[string][]string{"Content-Encoding": {"gzip"}, "Content-Type": {"application/scim+json"}},
		ResponseHeaders: map[string][]string{"Content-Encoding": {"gzip"}}}
	post.RequestBody, post.RequestBodyCoding = transcript.RecordBody(post.RequestHeaders, gz, len(gz))
	post.ResponseBody, post.ResponseBodyCoding = transcript.RecordBody(post.ResponseHeaders, respGz, len(respGz))
	get := transcript.Exchange{Seq: 2, Method: "GET", Path: "/Users/old-1", Status: 200, ResponseHeaders: map[string][]string{"Content-Encoding": {"gzip"}}}
	get.ResponseBody, get.ResponseBodyCoding = transcript.RecordBody(get.ResponseHeaders, respGz, len(respGz))
	logo := transcript.Exchange{Seq: 3, Method: "GET", Path: "/logo", Status: 200}
	logo.ResponseBody, logo.ResponseBodyCoding = transcript.RecordBody(nil, []byte{1, 0xff}, 2)

	res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Token: "t"}, []transcript.Exchange{post, get, logo})
	if err != nil {
		t.Fatal(err)
	}
	if gotBody != `{"userName":"u"}` {
		t.Errorf("the target received %q", gotBody)
	}
	if res[0].Verdict != reports.Pass || res[1].Verdict != reports.Pass || res[2].Verdict != reports.Pass {
		t.Fatalf("verdicts %s %s %s: %q %q %q", res[0].Verdict, res[1].Verdict, res[2].Verdict, res[0].Reason, res[1].Reason, res[2].Reason)
	}
	if res[1].Sent.Path != "/Users/new-1" || strings.Join(res[1].Missing, ",") != "active" {
		t.Errorf("GET sent to %s, missing %v: the recorded JSON was not read", res[1].Sent.Path, res[1].Missing)
	}
	if c := res[2].Sent.ResponseBodyCoding; c == nil || c.Encoding != "base64" {
		t.Errorf("the binary answer was kept as %q (%+v)", res[2].Sent.ResponseBody, c)
	}
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, s)
	zw.Close()
	return buf.Bytes()
}

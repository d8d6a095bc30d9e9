package replayer

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/recorder"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// headerTarget answers every request 200 with a SCIM list, gzip-compressed
// when the request asks for gzip, and keeps the headers each request came
// with.
type headerTarget struct {
	mu   sync.Mutex
	seen []http.Header
}

func (h *headerTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Clone())
	h.mu.Unlock()
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`
	w.Header().Set("Content-Type", "application/scim+json")
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, body)
		zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(b.Bytes())
		return
	}
	io.WriteString(w, body)
}

// TestReplaySendsTheRecordedHeadersAndNoOthers: a replayed request carries
// the headers its recording has, the credential excepted, and none of Go's:
// no Accept-Encoding: gzip where the IdP sent none (Entra), Okta's
// "gzip,deflate" as Okta sent it (and the gzip answer decoded for judging),
// no Go-http-client User-Agent where the recording has none. So with the
// default client, and with a client whose transport is Go's default.
func TestReplaySendsTheRecordedHeadersAndNoOthers(t *testing.T) {
	list := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`
	xs := []transcript.Exchange{
		{Seq: 1, Method: "GET", Path: "/Users", Query: "filter=userName%20eq%20%22a%22", Status: 200, ResponseBody: list,
			RequestHeaders: map[string][]string{"Accept": {"application/scim+json"}, "Authorization": {"Bearer [REDACTED]"},
				"User-Agent": {"scimlab-simulator (Entra ID provisioning; real User-Agent undocumented)"}}},
		{Seq: 2, Method: "GET", Path: "/Users", Query: "startIndex=1&count=2", Status: 200, ResponseBody: list,
			RequestHeaders: map[string][]string{"Accept": {"application/scim+json"}, "Accept-Encoding": {"gzip,deflate"},
				"Authorization": {"Bearer [REDACTED]"}, "User-Agent": {"Okta SCIM Client 1.0.0"}}},
		{Seq: 3, Method: "GET", Path: "/Groups", Status: 200, ResponseBody: list,
			RequestHeaders: map[string][]string{"Accept": {"*/*"}}},
	}
	for _, tc := range []struct {
		name   string
		client *http.Client
	}{
		{"the default client", nil},
		{"a client with Go's default transport", &http.Client{}},
		{"a client with a transport that compresses", &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &headerTarget{}
			srv := httptest.NewServer(h)
			defer srv.Close()
			res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Token: "tok", Client: tc.client}, xs)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Verdict != reports.Pass {
					t.Errorf("%s: %s (%s)", CheckID(r.Original.Seq), r.Verdict, r.Reason)
				}
			}
			if len(h.seen) != len(xs) {
				t.Fatalf("the target got %d requests, want %d", len(h.seen), len(xs))
			}
			for i, x := range xs {
				want := http.Header{}
				for k, v := range x.RequestHeaders {
					want[k] = v
				}
				want.Set("Authorization", "Bearer tok")
				got := h.seen[i]
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the target got headers\n%v\nwant (the recording's, with the target's token)\n%v", x.Title(), got, want)
				}
				if sent := http.Header(res[i].Sent.RequestHeaders); !reflect.DeepEqual(sent, want) {
					t.Errorf("%s: the result says it sent\n%v\nwant\n%v", x.Title(), sent, want)
				}
			}
		})
	}
}

// TestReplayDoesNotJudgeTheRecordersOwnAnswer: an exchange the recorder
// answered itself (502, the upstream unreachable) is neither sent nor
// judged: the recorded target never saw it. Its verdict is skipped, the run
// does not fail on it, and the exchanges after it are replayed as usual.
// So for a recording made before the recorder marked its answers, told by
// the recorder's own error detail.
func TestReplayDoesNotJudgeTheRecordersOwnAnswer(t *testing.T) {
	list := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`
	own := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"502","detail":"scimlab record: upstream unreachable: dial tcp 127.0.0.1:1: connect: connection refused"}`
	okta := map[string][]string{"User-Agent": {"Okta SCIM Client 1.0.0"}, "Accept": {"application/scim+json"}}
	for _, tc := range []struct {
		name string
		hdrs map[string][]string
	}{
		{"marked by the recorder", map[string][]string{"Content-Type": {"application/scim+json"}, recorder.NoAnswerHeader: {recorder.NoAnswerValue}}},
		{"an older recording", map[string][]string{"Content-Type": {"application/scim+json"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &headerTarget{}
			srv := httptest.NewServer(h)
			defer srv.Close()
			xs := []transcript.Exchange{
				{Seq: 1, Method: "GET", Path: "/Users", Query: "filter=userName%20eq%20%22a%22", RequestHeaders: okta, Status: 502, ResponseHeaders: tc.hdrs, ResponseBody: own},
				{Seq: 2, Method: "GET", Path: "/Users", Query: "filter=userName%20eq%20%22a%22", RequestHeaders: okta, Status: 200, ResponseBody: list},
			}
			res, err := Replay(context.Background(), Target{BaseURL: srv.URL, Token: "tok"}, xs)
			if err != nil {
				t.Fatal(err)
			}
			if len(h.seen) != 1 {
				t.Errorf("the target got %d requests, want 1 (the exchange the recorder answered is not sent)", len(h.seen))
			}
			if r := res[0]; r.Verdict != reports.Skipped || !r.Unsent || !strings.Contains(r.Reason, "no answer from the target") {
				t.Errorf("RPL-0001: %s unsent=%v (%s), want skipped and not sent, saying the recording has no target's answer", r.Verdict, r.Unsent, r.Reason)
			}
			if r := res[1]; r.Verdict != reports.Pass {
				t.Errorf("RPL-0002: %s (%s), want pass", r.Verdict, r.Reason)
			}
			run := ToRun(srv.URL, "", res, res[1].Sent.Time)
			if run.Failed() {
				t.Errorf("the run fails: %v", run.RequiredFailures())
			}
			if len(run.Notes) != 1 || !strings.Contains(run.Notes[0], "1 exchange of the recording got no answer") {
				t.Errorf("notes %q", run.Notes)
			}
		})
	}
}

// TestToRunLabelsEachExchangeByItsIdP: a recording of an Okta session and
// then an Entra one labels each check by the IdP whose User-Agent its
// exchange carries, not all by the first one's; the run names both IdPs,
// says in a note that it holds more than one, and readiness has a line for
// each. An exchange whose User-Agent names no IdP (the simulator's own
// read-back) is IDP:recorded in a mixed recording, and the one IdP's in a
// recording of one.
func TestToRunLabelsEachExchangeByItsIdP(t *testing.T) {
	ua := func(s string) map[string][]string { return map[string][]string{"User-Agent": {s}} }
	results := []Result{
		{Original: transcript.Exchange{Seq: 1, Method: "POST", Path: "/Groups", RequestHeaders: ua("Okta SCIM Client 1.0.0"), Status: 201}, Verdict: reports.Pass},
		{Original: transcript.Exchange{Seq: 2, Method: "GET", Path: "/Groups/1", RequestHeaders: ua("scimlab-simulator/verify"), Status: 200}, Verdict: reports.Pass},
		{Original: transcript.Exchange{Seq: 3, Method: "POST", Path: "/Groups", RequestHeaders: ua("scimlab-simulator (Entra ID provisioning; real User-Agent undocumented)"), Status: 201}, Verdict: reports.Fail, Reason: "refused"},
	}
	run := ToRun("http://127.0.0.1:1/scim/v2", "", results, results[0].Sent.Time)
	want := []reports.Level{reports.IdPLevel("okta"), reports.IdPLevel("recorded"), reports.IdPLevel("entra")}
	for i, c := range run.Checks {
		if c.Level != want[i] {
			t.Errorf("%s %s: level %s, want %s", c.ID, c.Title, c.Level, want[i])
		}
	}
	if run.IdP != "okta, entra" {
		t.Errorf("run IdP %q, want \"okta, entra\"", run.IdP)
	}
	if len(run.Notes) != 1 || !strings.Contains(run.Notes[0], "more than one IdP: okta (1 exchange), entra (1 exchange)") {
		t.Errorf("notes %q", run.Notes)
	}
	var lines []string
	for _, l := range run.Readiness() {
		lines = append(lines, l.String())
	}
	if got := strings.Join(lines, "; "); !strings.Contains(got, "Entra-ready: no (1 failure)") || !strings.Contains(got, "Okta-ready: yes") {
		t.Errorf("readiness %q: want Entra not ready (its POST /Groups failed) and Okta ready", got)
	}

	one := ToRun("http://127.0.0.1:1/scim/v2", "", results[:2], results[0].Sent.Time)
	if one.IdP != "okta" || one.Checks[1].Level != reports.IdPLevel("okta") || len(one.Notes) != 0 {
		t.Errorf("one IdP: run IdP %q, the read-back %s, notes %q; want okta, IDP:okta, none", one.IdP, one.Checks[1].Level, one.Notes)
	}
}

// TestSenderIdPOfEachProfile: the User-Agent of each IdP the simulator
// imitates, and of scimlab's own requests, names the right IdP or none.
func TestSenderIdPOfEachProfile(t *testing.T) {
	for ua, want := range map[string]string{
		"Okta SCIM Client 1.0.0": "okta",
		"scimlab-simulator (Entra ID provisioning; real User-Agent undocumented)":         "entra",
		"scimlab-simulator (PingFederate SCIM Provisioner; real User-Agent undocumented)": "pingfederate",
		"scimlab-simulator (OneLogin SCIM provisioning; real User-Agent undocumented)":    "onelogin",
		"scimlab-simulator (SailPoint SCIM 2.0 connector; real User-Agent undocumented)":  "sailpoint",
		"scimlab-simulator (JumpCloud SCIM integration; real User-Agent undocumented)":    "jumpcloud",
		"scimlab-simulator/verify": "",
		OwnUserAgent("preflight"):  "",
		"":                         "",
	} {
		if got := SenderIdP(transcript.Exchange{RequestHeaders: map[string][]string{"User-Agent": {ua}}}); got != want {
			t.Errorf("SenderIdP(%q) = %q, want %q", ua, got, want)
		}
	}
}

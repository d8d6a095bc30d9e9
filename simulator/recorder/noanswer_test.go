package recorder

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/simulator/transcript"
)

// TestRecorderMarksItsOwnAnswer: when the upstream cannot be reached, the
// IdP gets the recorder's own 502, which says so in a header, and the
// transcript records the exchange as one with no upstream answer (the
// header, and a note), which NoUpstreamAnswer tells from a target's 502.
func TestRecorderMarksItsOwnAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/scim/v2"
	ln.Close() // nothing listens there now
	var out bytes.Buffer
	rec, err := New(down, &out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	req, _ := http.NewRequest("GET", proxy.URL+"/scim/v2/Users?count=1", nil)
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get(NoAnswerHeader) != NoAnswerValue {
		t.Errorf("the IdP got %d with %s %q, want 502 with %q", resp.StatusCode, NoAnswerHeader, resp.Header.Get(NoAnswerHeader), NoAnswerValue)
	}
	xs, err := transcript.Read(&out)
	if err != nil || len(xs) != 1 {
		t.Fatalf("transcript: %d exchanges, %v", len(xs), err)
	}
	x := xs[0]
	if !strings.HasPrefix(x.Note, NoAnswerNote+": ") || !strings.Contains(x.Note, "connection refused") {
		t.Errorf("note %q, want it to say the upstream gave no answer, and why", x.Note)
	}
	if why, ok := NoUpstreamAnswer(x); !ok || !strings.Contains(why, "scimlab record answered 502 itself") {
		t.Errorf("NoUpstreamAnswer = %q, %v", why, ok)
	}

	// A 502 the target itself sent is its answer.
	target := transcript.Exchange{Status: 502, ResponseHeaders: map[string][]string{"Content-Type": {"application/scim+json"}},
		ResponseBody: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"502","detail":"bad gateway"}`}
	if why, ok := NoUpstreamAnswer(target); ok {
		t.Errorf("a target's 502 taken for the recorder's: %q", why)
	}
}

// TestRecorderForwardsTheIdPsForwardedHeaders: an IdP behind a gateway
// sends X-Forwarded-For and Forwarded; the recorder forwards them as sent
// (ReverseProxy would drop them) and adds none of its own.
func TestRecorderForwardsTheIdPsForwardedHeaders(t *testing.T) {
	var got http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", "application/scim+json")
		io.WriteString(w, `{"totalResults":0,"Resources":[]}`)
	}))
	defer upstream.Close()
	rec, err := New(upstream.URL+"/scim/v2", io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	sent := map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "idp.example.test", "Forwarded": "for=203.0.113.9"}
	req, _ := http.NewRequest("GET", proxy.URL+"/scim/v2/Users", nil)
	for k, v := range sent {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, v := range sent {
		if got.Get(k) != v {
			t.Errorf("upstream got %s %q, want %q as the IdP sent it", k, got.Get(k), v)
		}
	}

	req, _ = http.NewRequest("GET", proxy.URL+"/scim/v2/Users", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k := range sent {
		if v, ok := got[k]; ok {
			t.Errorf("upstream got %s %q, which the IdP did not send", k, v)
		}
	}
}

package recorder

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/simulator/transcript"
)

const secret = "scimlab_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg"

func TestRecorderForwardsUnchangedAndRedacts(t *testing.T) {
	var gotPath, gotAuth, gotBody, gotUA string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth, gotUA = r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("Set-Cookie", "session=abc123")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":"u1","userName":"ana@example.test"}`)
	}))
	defer upstream.Close()

	var out bytes.Buffer
	rec, err := New(upstream.URL+"/scim/v2", &out, Options{KeepExchanges: true})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.test","password":"hunter2-Secret!"}`
	req, _ := http.NewRequest("POST", proxy.URL+"/scim/v2/Users?x=1", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	// The proxy never alters traffic.
	if gotPath != "/scim/v2/Users?x=1" || gotAuth != "Bearer "+secret || gotBody != body || gotUA != "Okta SCIM Client 1.0.0" {
		t.Errorf("upstream saw path %q auth %q ua %q body %q", gotPath, gotAuth, gotUA, gotBody)
	}
	if resp.StatusCode != 201 || string(respBody) != `{"id":"u1","userName":"ana@example.test"}` || resp.Header.Get("Set-Cookie") != "session=abc123" {
		t.Errorf("IdP got %d %q %v", resp.StatusCode, respBody, resp.Header)
	}

	// The transcript has the exchange, relative to the base path, with secrets gone.
	text := out.String()
	for _, s := range []string{secret, "hunter2", "abc123"} {
		if strings.Contains(text, s) {
			t.Errorf("transcript contains secret %q: %s", s, text)
		}
	}
	xs, err := transcript.Read(strings.NewReader(text))
	if err != nil || len(xs) != 1 {
		t.Fatalf("read back: %v, %d exchanges", err, len(xs))
	}
	x := xs[0]
	if x.Seq != 1 || x.Method != "POST" || x.Path != "/Users" || x.Query != "x=1" || x.Status != 201 || !strings.Contains(x.ResponseBody, `"u1"`) {
		t.Errorf("exchange = %+v", x)
	}
	if transcript.IdP(xs) != "okta" {
		t.Errorf("IdP = %q", transcript.IdP(xs))
	}

	var har bytes.Buffer
	if err := transcript.WriteHAR(&har, upstream.URL+"/scim/v2", "test", rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Version string
			Entries []struct {
				Request  struct{ Method, URL string }
				Response struct{ Status int }
			}
		}
	}
	if err := json.Unmarshal(har.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	if h.Log.Version != "1.2" || len(h.Log.Entries) != 1 || h.Log.Entries[0].Request.URL != upstream.URL+"/scim/v2/Users?x=1" || h.Log.Entries[0].Response.Status != 201 {
		t.Errorf("HAR = %s", har.String())
	}
	if strings.Contains(har.String(), secret) || strings.Contains(har.String(), "hunter2") {
		t.Error("HAR contains a secret")
	}
}

func TestUpstreamUnreachableIsA502SCIMError(t *testing.T) {
	var out bytes.Buffer
	rec, _ := New("http://127.0.0.1:1/scim/v2", &out, Options{})
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, httptest.NewRequest("GET", "/scim/v2/Users", nil))
	if w.Code != 502 || !strings.Contains(w.Body.String(), `"status":"502"`) {
		t.Errorf("got %d %s", w.Code, w.Body.String())
	}
}

func TestNewRejectsBadUpstream(t *testing.T) {
	for _, u := range []string{"", "ftp://x", "not a url", "http://"} {
		if _, err := New(u, io.Discard, Options{}); err == nil {
			t.Errorf("New(%q) should fail", u)
		}
	}
}

// TestUpstreamPasswordIsNeverShown: a password in the upstream's userinfo
// is redacted in Upstream and in ParseUpstream's error.
func TestUpstreamPasswordIsNeverShown(t *testing.T) {
	rec, err := New("http://svc:Sup3rSecret@127.0.0.1:1/scim/v2/", io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Upstream(); got != "http://REDACTED@127.0.0.1:1/scim/v2" {
		t.Errorf("Upstream() = %q", got)
	}
	if _, err := ParseUpstream("ftp://svc:Sup3rSecret@127.0.0.1/scim/v2"); err == nil || strings.Contains(err.Error(), "Sup3rSecret") {
		t.Errorf("ParseUpstream: %v", err)
	}
}

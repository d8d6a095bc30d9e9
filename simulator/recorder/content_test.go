package recorder

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/simulator/transcript"
)

const userDoc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"zoë@example.test"}`

// compressingUpstream is a loopback SCIM target behind a compressing front
// (nginx, a CDN): it answers gzip to a client that accepts it, and serves a
// binary body at /logo.
func compressingUpstream(t *testing.T, sawAcceptEncoding *atomic.Value) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAcceptEncoding.Store(r.Header.Values("Accept-Encoding"))
		if r.URL.Path == "/scim/v2/logo" {
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte{0x89, 'P', 'N', 'G', 0xff, 0x00, 0xfe})
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, userDoc)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, userDoc)
		zw.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// rawClient sees the bytes on the wire: it neither asks for nor decodes
// compression on its own.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// TestRecordsGzipDecodedAndForwardsItIntact: Okta asks for gzip,deflate; the
// IdP gets the upstream's gzip bytes untouched, while the transcript and
// the HAR hold the JSON they decode to, with Content-Encoding kept and the
// body marked decoded.
func TestRecordsGzipDecodedAndForwardsItIntact(t *testing.T) {
	var saw atomic.Value
	up := compressingUpstream(t, &saw)
	var out bytes.Buffer
	rec, err := New(up.URL+"/scim/v2", &out, Options{KeepExchanges: true})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(rec)
	defer proxy.Close()

	req, _ := http.NewRequest("GET", proxy.URL+"/scim/v2/Users/u1", nil)
	req.Header.Set("Accept-Encoding", "gzip,deflate")
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wire, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the IdP got Content-Encoding %q, want the upstream's gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		t.Fatalf("the IdP did not get gzip bytes: %v", err)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != userDoc {
		t.Fatalf("the IdP's body decodes to %q", plain)
	}

	xs, err := transcript.Read(strings.NewReader(out.String()))
	if err != nil || len(xs) != 1 {
		t.Fatalf("transcript: %v, %d exchanges", err, len(xs))
	}
	x := xs[0]
	if x.ResponseBody != userDoc {
		t.Errorf("recorded body = %q, want the decoded JSON", x.ResponseBody)
	}
	if strings.ContainsRune(out.String(), '\uFFFD') {
		t.Errorf("the transcript holds U+FFFD: %s", out.String())
	}
	if c := x.ResponseBodyCoding; c == nil || c.Decoded != "gzip" || c.Encoding != "" || c.WireSize != len(wire) {
		t.Errorf("responseBodyCoding = %+v, want gzip decoded from %d bytes", c, len(wire))
	}
	if h := http.Header(x.ResponseHeaders); h.Get("Content-Encoding") != "gzip" {
		t.Errorf("recorded headers lost Content-Encoding: %v", h)
	}

	var har bytes.Buffer
	if err := transcript.WriteHAR(&har, up.URL+"/scim/v2", "test", rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Entries []struct {
				Response struct {
					BodySize int
					Content  map[string]any
				}
			}
		}
	}
	if err := json.Unmarshal(har.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	r := h.Log.Entries[0].Response
	if r.Content["text"] != userDoc || r.Content["encoding"] != nil || r.BodySize != len(wire) || r.Content["size"] != float64(len(userDoc)) {
		t.Errorf("HAR response = %+v", r)
	}
}

// TestRecordsBinaryAsBase64: a body that is not UTF-8 is kept losslessly.
func TestRecordsBinaryAsBase64(t *testing.T) {
	var saw atomic.Value
	up := compressingUpstream(t, &saw)
	var out bytes.Buffer
	rec, _ := New(up.URL+"/scim/v2", &out, Options{KeepExchanges: true})
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, httptest.NewRequest("GET", "/scim/v2/logo", nil))
	want := []byte{0x89, 'P', 'N', 'G', 0xff, 0x00, 0xfe}
	if !bytes.Equal(w.Body.Bytes(), want) {
		t.Fatalf("the IdP got %v", w.Body.Bytes())
	}
	xs, err := transcript.Read(strings.NewReader(out.String()))
	if err != nil || len(xs) != 1 {
		t.Fatalf("transcript: %v", err)
	}
	if b, err := xs[0].ResponseBytes(); err != nil || !bytes.Equal(b, want) || xs[0].ResponseBodyCoding == nil || xs[0].ResponseBodyCoding.Encoding != "base64" {
		t.Errorf("recorded %q (%+v), want base64 of the bytes", xs[0].ResponseBody, xs[0].ResponseBodyCoding)
	}
	var har bytes.Buffer
	if err := transcript.WriteHAR(&har, up.URL+"/scim/v2", "test", rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(har.String(), `"text": "`+base64.StdEncoding.EncodeToString(want)+`"`) || !strings.Contains(har.String(), `"encoding": "base64"`) {
		t.Errorf("HAR = %s", har.String())
	}
}

// TestRecorderAddsNoAcceptEncoding: an IdP that asks for no compression
// gets none; the proxy does not ask the upstream for gzip on its behalf.
func TestRecorderAddsNoAcceptEncoding(t *testing.T) {
	var saw atomic.Value
	up := compressingUpstream(t, &saw)
	rec, _ := New(up.URL+"/scim/v2", io.Discard, Options{})
	proxy := httptest.NewServer(rec)
	defer proxy.Close()
	resp, err := rawClient.Get(proxy.URL + "/scim/v2/Users/u1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, _ := saw.Load().([]string); len(got) != 0 {
		t.Errorf("the upstream saw Accept-Encoding %q the IdP never sent", got)
	}
	if string(body) != userDoc || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("the IdP got %q with Content-Encoding %q", body, resp.Header.Get("Content-Encoding"))
	}
}

// TestHealthzIsTheRecordersOwn: GET /healthz on the recorder's address is
// answered by the recorder, never forwarded or recorded.
func TestHealthzIsTheRecordersOwn(t *testing.T) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer up.Close()
	var out bytes.Buffer
	rec, _ := New(up.URL+"/scim/v2", &out, Options{KeepExchanges: true})
	for _, method := range []string{"GET", "HEAD"} {
		w := httptest.NewRecorder()
		rec.ServeHTTP(w, httptest.NewRequest(method, "/healthz", nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s /healthz = %d, want 200", method, w.Code)
		}
	}
	w := httptest.NewRecorder()
	rec.ServeHTTP(w, httptest.NewRequest("POST", "/healthz", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz = %d, want 405", w.Code)
	}
	if hits.Load() != 0 || rec.Count() != 0 || out.Len() != 0 {
		t.Errorf("/healthz reached the upstream %d times and the transcript %d times: %s", hits.Load(), rec.Count(), out.String())
	}
	// SCIM traffic is still forwarded and recorded.
	rec.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/scim/v2/Users", nil))
	if hits.Load() != 1 || rec.Count() != 1 {
		t.Errorf("GET /Users: %d upstream hits, %d recorded", hits.Load(), rec.Count())
	}
}

// Package recorder is a reverse proxy that an IdP is pointed at instead of the
// real SCIM target. It forwards every request unchanged, returns the target's
// response unchanged, and writes each exchange, redacted, to a transcript.
// What it writes is the decoded body: a gzip or deflate response is recorded
// as the text it decodes to (the recorded headers keep Content-Encoding as
// sent, and the exchange's BodyCoding says what was decoded), and a body that
// is not UTF-8 text is recorded as base64. Its own /healthz is answered by
// the recorder, never forwarded or recorded.
package recorder

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/transcript"
)

// MaxRecordedBody caps how much of one body is kept in the transcript; the
// proxied traffic itself is never cut.
const MaxRecordedBody = transcript.MaxBody

// NoAnswerHeader is the response header on an answer the recorder made
// itself because the upstream gave none (it could not be reached, or the
// connection failed before a response): a 502 with a SCIM Error body. Its
// value is NoAnswerValue. The exchange is recorded with this header and a
// Note starting with NoAnswerNote, so that the transcript never passes the
// recorder's 502 off as the target's answer (see NoUpstreamAnswer).
const (
	NoAnswerHeader = "Scimlab-Recorder"
	NoAnswerValue  = "no upstream answer"
	NoAnswerNote   = "no upstream answer"
)

// noAnswerDetail starts the detail of the recorder's own 502; a recording
// made before NoAnswerHeader existed is told by it.
const noAnswerDetail = "scimlab record: upstream unreachable"

// NoUpstreamAnswer reports whether the recorded response of x is the
// recorder's own (the upstream gave no answer), and says so in a line for
// a report.
func NoUpstreamAnswer(x transcript.Exchange) (string, bool) {
	h := http.Header(x.ResponseHeaders)
	own := strings.EqualFold(h.Get(NoAnswerHeader), NoAnswerValue) ||
		x.Status == http.StatusBadGateway && strings.Contains(x.ResponseBody, `"detail":"`+noAnswerDetail)
	if !own {
		return "", false
	}
	why := "the recording has no answer from the target to it: scimlab record answered 502 itself"
	if d := errorDetail(x.ResponseBody); d != "" {
		why += " (" + d + ")"
	}
	return why, true
}

// errorDetail is the detail of a SCIM Error body, or "".
func errorDetail(body string) string {
	var e struct {
		Detail string `json:"detail"`
	}
	if json.Unmarshal([]byte(body), &e) != nil {
		return ""
	}
	return e.Detail
}

// HealthPath is the recorder's own health check: GET answers 200 "ok", and
// the request is neither forwarded nor recorded.
const HealthPath = "/healthz"

// Recorder is an http.Handler that proxies to Upstream and records.
type Recorder struct {
	upstream *url.URL
	proxy    *httputil.ReverseProxy
	now      func() time.Time

	mu   sync.Mutex
	seq  int
	out  *transcript.Writer
	all  []transcript.Exchange // kept for HAR, redacted
	keep bool
	err  error
}

// Options configure a Recorder.
type Options struct {
	// KeepExchanges keeps every exchange in memory (for HAR output at Close).
	KeepExchanges bool
	// Transport is the upstream transport (default: http.DefaultTransport's
	// settings without its own compression, so that the upstream sees the
	// IdP's Accept-Encoding or none, and the IdP gets the bytes the upstream
	// sent).
	Transport http.RoundTripper
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New returns a recorder forwarding to upstream (a SCIM base URL such as
// https://app.example/scim/v2) and writing JSONL to out. The IdP is pointed
// at the recorder with the same path it would use on the upstream; a request
// whose path does not start with the upstream's base path is forwarded under it.
func New(upstream string, out io.Writer, opt Options) (*Recorder, error) {
	u, err := ParseUpstream(upstream)
	if err != nil {
		return nil, err
	}
	r := &Recorder{upstream: u, out: transcript.NewWriter(out), keep: opt.KeepExchanges, now: opt.Now}
	if r.now == nil {
		r.now = time.Now
	}
	tr := opt.Transport
	if tr == nil {
		// Go's transport would otherwise ask for gzip when the IdP did not
		// and hand the IdP the body decompressed, altering the traffic.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DisableCompression = true
		tr = t
	}
	r.proxy = &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = u.Scheme
			pr.Out.URL.Host = u.Host
			pr.Out.URL.Path = r.upstreamPath(pr.In.URL.Path)
			pr.Out.URL.RawPath = ""
			pr.Out.Host = u.Host
			// The proxy must not alter traffic: keep the IdP's headers as
			// sent, without X-Forwarded-* additions. ReverseProxy removes
			// the IdP's own Forwarded and X-Forwarded-* (an IdP behind a
			// gateway sends them) before Rewrite: put them back.
			for _, h := range forwardedHeaders {
				if v, ok := pr.In.Header[h]; ok {
					pr.Out.Header[h] = v
				}
			}
		},
		ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
			w.Header().Set("Content-Type", "application/scim+json")
			w.Header().Set(NoAnswerHeader, NoAnswerValue)
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"502","detail":%q}`, noAnswerDetail+": "+err.Error())
		},
	}
	return r, nil
}

// forwardedHeaders are the request headers ReverseProxy removes before
// Rewrite (net/http/httputil), which the recorder forwards as the IdP sent
// them.
var forwardedHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// ParseUpstream checks that upstream is an http(s) URL with a host and
// returns it without a trailing slash on its path; New calls it, and a
// caller can call it before any other start step. Its error shows the URL
// with any credential in it redacted.
func ParseUpstream(upstream string) (*url.URL, error) {
	u, err := url.Parse(upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("upstream %q is not an http(s) URL", reports.RedactURL(upstream))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// upstreamPath maps an incoming path onto the upstream base path.
func (r *Recorder) upstreamPath(p string) string {
	base := r.upstream.Path
	if base == "" || p == base || strings.HasPrefix(p, base+"/") {
		return p
	}
	return base + "/" + strings.TrimLeft(p, "/")
}

// relative returns the path relative to the upstream base path.
func (r *Recorder) relative(p string) string {
	rel := strings.TrimPrefix(r.upstreamPath(p), r.upstream.Path)
	if rel == "" {
		rel = "/"
	}
	return rel
}

// ServeHTTP proxies one request and records it; HealthPath it answers itself.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == HealthPath {
		serveHealth(w, req)
		return
	}
	start := r.now()
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			http.Error(w, "reading request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	reqHeaders := req.Header.Clone()
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	r.proxy.ServeHTTP(cw, req)
	lat := r.now().Sub(start)

	respHeaders := w.Header().Clone()
	x := transcript.Exchange{
		Time:            start.UTC(),
		Method:          req.Method,
		Path:            r.relative(req.URL.Path),
		Query:           req.URL.RawQuery,
		RequestHeaders:  reqHeaders,
		Status:          cw.status,
		ResponseHeaders: respHeaders,
		LatencyMs:       float64(lat.Microseconds()) / 1000,
	}
	x.RequestBody, x.RequestBodyCoding = transcript.RecordBody(reqHeaders, capBody(reqBody), len(reqBody))
	x.ResponseBody, x.ResponseBodyCoding = transcript.RecordBody(respHeaders, capBody(cw.body.Bytes()), cw.size)
	if why, ok := NoUpstreamAnswer(x); ok && respHeaders.Get(NoAnswerHeader) != "" {
		x.Note = NoAnswerNote + ": " + strings.TrimPrefix(why, "the recording has no answer from the target to it: ")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	x.Seq = r.seq
	if err := r.out.Write(x); err != nil && r.err == nil {
		r.err = err
	}
	if r.keep {
		r.all = append(r.all, x.Redacted())
	}
}

// Exchanges returns what was recorded (redacted) when KeepExchanges is set.
func (r *Recorder) Exchanges() []transcript.Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transcript.Exchange(nil), r.all...)
}

// Count returns how many exchanges were recorded.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// Err returns the first error writing the transcript, if any.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Upstream returns the upstream base URL as a user may see it: a password
// or other credential in it is redacted (reports.RedactURL).
func (r *Recorder) Upstream() string { return reports.RedactURL(r.upstream.String()) }

// serveHealth answers the recorder's own health check: the address an IdP
// or a script polls is the recorder's, and what it says is that the recorder
// is up, not the upstream.
func serveHealth(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func capBody(b []byte) []byte {
	if len(b) > MaxRecordedBody {
		b = b[:MaxRecordedBody]
	}
	return b
}

// captureWriter passes the response through and keeps a copy.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	size   int // bytes passed through, which body may hold only the start of
	wrote  bool
}

func (c *captureWriter) WriteHeader(code int) {
	if !c.wrote {
		c.status, c.wrote = code, true
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.wrote = true
	c.size += len(b)
	if c.body.Len() < MaxRecordedBody {
		c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

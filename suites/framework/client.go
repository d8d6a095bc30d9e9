package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/onsi/ginkgo/v2"

	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
)

// Request is one HTTP request a spec sends.
type Request struct {
	Method string
	// Path is relative to the base URL ("/Users/123") or absolute.
	Path string
	// Query is encoded with %20 for spaces, as Okta and Entra send it.
	Query url.Values
	// RawQuery, when set, is sent as is instead of Query.
	RawQuery string
	Header   http.Header
	// Body is sent as JSON unless it is []byte or string, which go as is.
	Body any
	// ContentType defaults to application/scim+json when there is a body.
	ContentType string
	// NoAuth sends no Authorization header.
	NoAuth bool
	// Authorization replaces the run's Authorization header value.
	Authorization string
	// UserAgent replaces the suite's User-Agent (IdP imitation).
	UserAgent string
	// Quiet keeps the exchange out of the spec's evidence (cleanup).
	Quiet bool
	// NoRetry sends the request once even when the answer is 429 or 503
	// with Retry-After: for a check whose purpose is to see that answer.
	NoRetry bool
}

// Response is what came back, with the exchange recorded as evidence.
type Response struct {
	Method  string
	URL     string
	Status  int
	Header  http.Header
	Body    []byte
	Latency time.Duration
	// Err is set when no response arrived.
	Err      error
	Exchange reports.Exchange
	doc      map[string]any
	docErr   error
	parsed   bool
}

// Client sends requests to the target and records each exchange.
type Client struct {
	t  *Target
	rc *resty.Client
}

// NewClient returns a client for the current target.
func NewClient() *Client {
	t := Current()
	rc := resty.New().
		SetTimeout(t.RequestTimeout).
		SetRedirectPolicy(resty.NoRedirectPolicy()).
		SetDisableWarn(true).
		SetLogger(quietLogger{})
	if t.httpClient != nil && t.httpClient.Transport != nil {
		rc.SetTransport(t.httpClient.Transport) // the run's one pool of connections
	}
	return &Client{t: t, rc: rc}
}

// URL returns the absolute URL of a path below the base URL.
func (c *Client) URL(path string) string {
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return path
	}
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return c.t.BaseURL + path
}

// EncodeQuery encodes q with %20 for spaces.
func EncodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// Do sends r and returns the response; it never fails the spec itself.
// A throttled answer (429, or 503 with Retry-After) is retried as a careful
// IdP does (retry.Policy: wait what Retry-After asks, a bounded number of
// times), each throttled try kept as evidence; a request still throttled at
// the end has Err set to a *retry.GaveUpError (errors.Is ErrRateLimited)
// and Status 0, so the check's verdict is error, not fail. NoRetry sends
// once and returns what came back.
func (c *Client) Do(ctx context.Context, r Request) *Response {
	u := c.URL(r.Path)
	switch {
	case r.RawQuery != "":
		u += "?" + r.RawQuery
	case len(r.Query) > 0:
		u += "?" + EncodeQuery(r.Query)
	}
	var body []byte
	if r.Body != nil {
		switch b := r.Body.(type) {
		case []byte:
			body = b
		case string:
			body = []byte(b)
		default:
			var err error
			if body, err = json.Marshal(b); err != nil {
				return &Response{Method: r.Method, URL: u, Err: fmt.Errorf("encoding the request body: %w", err)}
			}
		}
	}
	var out *Response
	if r.NoRetry {
		out = c.once(ctx, r, u, body)
	} else {
		res := c.t.retryPolicy().Do(ctx, func(attempt int) (int, http.Header, error) {
			if out != nil && !r.Quiet {
				record(out) // a throttled try: the evidence shows the wait was asked for
			}
			out = c.once(ctx, r, u, body)
			return out.Status, out.Header, out.Err
		})
		throttling.add(res)
		if res.Err != nil && out.Err == nil {
			out.Err, out.Status = res.Err, 0
		}
	}
	if !r.Quiet {
		record(out)
	}
	observeName(out)
	noteCreated(r.Method, u, body, out)
	return out
}

// once sends r to u one time; an idempotent request (GET, HEAD, PUT,
// DELETE) whose connection was closed before any answer is sent once more.
// That happens when a server closes a keep-alive connection just as the
// client reuses it; RFC 9112 §9.3.1 lets a client retry such a request
// automatically when it is idempotent. The lost try stays in the evidence.
// A POST or PATCH is never sent again: the server may have acted on it.
func (c *Client) once(ctx context.Context, r Request, u string, body []byte) *Response {
	out := c.send(ctx, r, u, body)
	if out.Status == 0 && closedBeforeAnswer(out.Err) && idempotent(r.Method) && ctx.Err() == nil {
		if !r.Quiet {
			record(out)
		}
		out = c.send(ctx, r, u, body)
	}
	return out
}

// idempotent reports whether RFC 9110 §9.2.2 makes method idempotent.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// closedBeforeAnswer reports whether err says the connection ended before
// any byte of an answer: EOF, or a reset.
func closedBeforeAnswer(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// send sends r to u one time.
func (c *Client) send(ctx context.Context, r Request, u string, body []byte) *Response {
	req := c.rc.R().SetContext(ctx).SetHeader("Accept", "application/scim+json")
	ua := UserAgent
	if r.UserAgent != "" {
		ua = r.UserAgent
	}
	req.SetHeader("User-Agent", ua)
	if !r.NoAuth {
		auth := c.t.Authorization
		if r.Authorization != "" {
			auth = r.Authorization
		}
		if auth != "" {
			req.SetHeader("Authorization", auth)
		}
	}
	for k, v := range c.t.Headers {
		if r.NoAuth && strings.EqualFold(k, "Authorization") {
			continue
		}
		req.SetHeader(k, v)
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = scim.MediaType
		}
		req.SetHeader("Content-Type", ct).SetBody(body)
	}
	for k, vs := range r.Header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	start := time.Now()
	rr, err := req.Execute(r.Method, u)
	out := &Response{Method: r.Method, URL: u, Latency: time.Since(start)}
	var httpReq *http.Request
	var httpResp *http.Response
	if rr != nil {
		if rr.Request != nil {
			httpReq = rr.Request.RawRequest
		}
		httpResp = rr.RawResponse
	}
	if httpReq == nil {
		httpReq, _ = http.NewRequest(r.Method, u, nil)
		if httpReq != nil {
			httpReq.Header = req.Header.Clone()
		}
	}
	if err != nil || httpResp == nil {
		out.Err = err
		if out.Err == nil {
			out.Err = fmt.Errorf("no response")
		}
	} else {
		out.Status = rr.StatusCode()
		out.Header = rr.Header()
		out.Body = rr.Body()
	}
	out.Exchange = reports.NewExchange(httpReq, body, httpResp, out.Body, out.Latency)
	noteUnanswered(r.Method, u, body, out.Err)
	return out
}

// Get sends GET path with optional query parameters as name, value pairs.
func (c *Client) Get(ctx context.Context, path string, query ...string) *Response {
	return c.Do(ctx, Request{Method: http.MethodGet, Path: path, Query: pairs(query)})
}

// Post sends POST path with a JSON body.
func (c *Client) Post(ctx context.Context, path string, body any) *Response {
	return c.Do(ctx, Request{Method: http.MethodPost, Path: path, Body: body})
}

// Put sends PUT path with a JSON body.
func (c *Client) Put(ctx context.Context, path string, body any) *Response {
	return c.Do(ctx, Request{Method: http.MethodPut, Path: path, Body: body})
}

// Patch sends PATCH path with a PatchOp body.
func (c *Client) Patch(ctx context.Context, path string, body any) *Response {
	return c.Do(ctx, Request{Method: http.MethodPatch, Path: path, Body: body})
}

// Delete sends DELETE path.
func (c *Client) Delete(ctx context.Context, path string) *Response {
	return c.Do(ctx, Request{Method: http.MethodDelete, Path: path})
}

// pairs turns name, value, name, value … into url.Values.
func pairs(kv []string) url.Values {
	if len(kv) == 0 {
		return nil
	}
	if len(kv)%2 != 0 {
		panic("framework: query parameters must come in name, value pairs")
	}
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return q
}

// JSON returns the body decoded as a JSON object, or nil when it is not one.
func (r *Response) JSON() map[string]any {
	r.parse()
	return r.doc
}

// JSONError says why the body is not a JSON object, or nil.
func (r *Response) JSONError() error {
	r.parse()
	return r.docErr
}

func (r *Response) parse() {
	if r.parsed {
		return
	}
	r.parsed = true
	if len(bytes.TrimSpace(r.Body)) == 0 {
		r.docErr = fmt.Errorf("the body is empty")
		return
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		r.docErr = fmt.Errorf("the body is not a JSON object: %v", err)
		return
	}
	r.doc = normalizeNumbers(m).(map[string]any)
}

// normalizeNumbers turns json.Number into int64 when integral, else float64,
// so that documents compare naturally and the filter oracle sees numbers.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// Doc returns the body as a Doc (nil when not a JSON object).
func (r *Response) Doc() Doc { return Doc(r.JSON()) }

// Decode unmarshals the body into v.
func (r *Response) Decode(v any) error {
	if r.Err != nil {
		return r.Err
	}
	return json.Unmarshal(r.Body, v)
}

// Location returns the Location header.
func (r *Response) Location() string { return r.Header.Get("Location") }

// ContentType returns the media type of the response, without parameters.
func (r *Response) ContentType() string {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// String renders the exchange for failure messages.
func (r *Response) String() string {
	if r == nil {
		return "<no response>"
	}
	return Transcript(r.Exchange, r.Err)
}

// Transcript renders an exchange as a short HTTP transcript.
func Transcript(ex reports.Exchange, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", ex.Request.Method, ex.Request.URL)
	for _, k := range []string{"Authorization", "Content-Type", "If-Match", "If-None-Match"} {
		if v := ex.Request.Headers[k]; len(v) > 0 {
			fmt.Fprintf(&b, "> %s: %s\n", k, strings.Join(v, ", "))
		}
	}
	if ex.Request.Body != "" {
		fmt.Fprintf(&b, "> %s\n", clip(ex.Request.Body, 1500))
	}
	if err != nil && ex.Response.Status == 0 {
		fmt.Fprintf(&b, "< (no response: %v)\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "< %d %s (%s)\n", ex.Response.Status, http.StatusText(ex.Response.Status), ex.Latency.Round(time.Microsecond))
	for _, k := range []string{"Content-Type", "Location", "Etag", "Www-Authenticate", "Retry-After"} {
		if v := ex.Response.Headers[k]; len(v) > 0 {
			fmt.Fprintf(&b, "< %s: %s\n", k, strings.Join(v, ", "))
		}
	}
	if ex.Response.Body != "" {
		fmt.Fprintf(&b, "< %s\n", clip(ex.Response.Body, 2500))
	}
	if err != nil {
		fmt.Fprintf(&b, "< (%v)\n", err) // an answer that could not be used (rate limited)
	}
	return b.String()
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d bytes)", len(s))
}

// Evidence is the report entry value that carries one exchange.
type Evidence struct {
	Exchange reports.Exchange
	Err      string
	// RateLimited is true when Err says the target was still throttling
	// the request after the retries (retry.ErrRateLimited).
	RateLimited bool
}

// String renders the evidence when Ginkgo prints a failed spec.
func (e Evidence) String() string {
	var err error
	if e.Err != "" {
		err = fmt.Errorf("%s", e.Err)
	}
	return Transcript(e.Exchange, err)
}

// evidenceEntry is the report entry name of an exchange.
const evidenceEntry = "http"

// recording is true while a spec runs (set by the suite's BeforeEach).
var recording bool

// record attaches the exchange to the running spec.
func record(r *Response) {
	if !recording {
		return
	}
	e := Evidence{Exchange: r.Exchange}
	if r.Err != nil {
		e.Err = r.Err.Error()
		e.RateLimited = errors.Is(r.Err, retry.ErrRateLimited)
	}
	ginkgo.AddReportEntry(evidenceEntry, e, ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// Attach adds an exchange another tool made (the bug pack's replayer) to
// the running check's evidence, as if the check's client had sent it. A URL
// relative to the SCIM base URL is made absolute.
func Attach(ex reports.Exchange) {
	if u := ex.Request.URL; u != "" && !strings.Contains(u, "://") {
		ex.Request.URL = Current().BaseURL + "/" + strings.TrimLeft(u, "/")
	}
	ginkgo.AddReportEntry(evidenceEntry, Evidence{Exchange: ex}, ginkgo.ReportEntryVisibilityFailureOrVerbose)
}

// quietLogger drops resty's own log lines; evidence carries what matters.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

// Package transcript is the on-disk form of recorded SCIM traffic: one JSON
// object per line (JSONL), one line per exchange, secrets redacted before a
// line is written. The recorder writes it, the replayer and the known-bug pack
// read it, and HAR 1.2 can be written from it for browser and proxy tools.
package transcript

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reports"
)

// Exchange is one recorded request and response. Path is relative to the
// SCIM base URL ("/Users/2819c223…"), so a transcript recorded against one
// server replays against another.
type Exchange struct {
	Seq            int                 `json:"seq"`
	Time           time.Time           `json:"time"`
	Method         string              `json:"method"`
	Path           string              `json:"path"`
	Query          string              `json:"query,omitempty"`
	RequestHeaders map[string][]string `json:"requestHeaders,omitempty"`
	RequestBody    string              `json:"requestBody,omitempty"`
	// RequestBodyCoding, when set, says how RequestBody relates to the bytes
	// sent: base64, decoded from a Content-Encoding, cut short.
	RequestBodyCoding *BodyCoding         `json:"requestBodyCoding,omitempty"`
	Status            int                 `json:"status"`
	ResponseHeaders   map[string][]string `json:"responseHeaders,omitempty"`
	ResponseBody      string              `json:"responseBody,omitempty"`
	// ResponseBodyCoding, when set, says how ResponseBody relates to the
	// bytes received (see BodyCoding).
	ResponseBodyCoding *BodyCoding `json:"responseBodyCoding,omitempty"`
	LatencyMs          float64     `json:"latencyMs"`
	// Note says why the exchange is there (bug-pack transcripts).
	Note string `json:"note,omitempty"`
	// Expect, when set, overrides what the replayer learns from the recorded
	// response: the bug pack states what a correct server answers.
	Expect *Expect `json:"expect,omitempty"`
}

// Expect is what a correct server answers to an exchange.
type Expect struct {
	// Status lists acceptable status codes; empty means "same class as recorded".
	Status []int `json:"status,omitempty"`
	// Attributes are "path=value" checks on the response body, or on a
	// follow-up GET of the resource when the response has no body (204).
	// Paths are dotted ("name.givenName", "active", "members.length").
	Attributes map[string]any `json:"attributes,omitempty"`
}

// Redacted returns a copy of x with secrets replaced (reports.Redact rules:
// Authorization and cookie headers, password/token/secret fields, bearer and
// scimlab_ tokens anywhere). A body kept as base64 (bytes that are not
// UTF-8, such as JSON in Windows-1252) is redacted byte for byte, read as
// Latin-1; a body still in a content coding scimlab cannot decode (br,
// zstd) cannot be read and is kept as received.
func (x Exchange) Redacted() Exchange {
	req := reports.Redact(reports.HTTPMessage{Method: x.Method, URL: x.Path + querySuffix(x.Query), Headers: x.RequestHeaders, Body: textOf(x.RequestBody, x.RequestBodyCoding)})
	resp := reports.Redact(reports.HTTPMessage{Status: x.Status, Headers: x.ResponseHeaders, Body: textOf(x.ResponseBody, x.ResponseBodyCoding)})
	out := x
	out.RequestHeaders = req.Headers
	out.Path, out.Query, _ = strings.Cut(req.URL, "?")
	out.ResponseHeaders = resp.Headers
	out.RequestBody = fromText(req.Body, x.RequestBody, x.RequestBodyCoding)
	out.ResponseBody = fromText(resp.Body, x.ResponseBody, x.ResponseBodyCoding)
	return out
}

// textOf returns body as text: itself, or for a base64 body its bytes read
// as Latin-1 (one rune per byte), so that redaction, which looks only at
// ASCII, sees every byte.
func textOf(body string, c *BodyCoding) string {
	if !c.isBase64() {
		return body
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return ""
	}
	rs := make([]rune, len(raw))
	for i, b := range raw {
		rs[i] = rune(b)
	}
	return string(rs)
}

// fromText turns a redacted text back into the body's own form: for a base64
// body, the Latin-1 text back into bytes (the redaction mask is ASCII) and
// base64; orig is kept when nothing was redacted.
func fromText(text, orig string, c *BodyCoding) string {
	if !c.isBase64() {
		return text
	}
	if text == textOf(orig, c) {
		return orig
	}
	raw := make([]byte, 0, len(text))
	for _, r := range text {
		if r < 0x100 {
			raw = append(raw, byte(r))
		} else {
			raw = utf8.AppendRune(raw, r)
		}
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func querySuffix(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// Target returns the request URI of the exchange (path and query).
func (x Exchange) Target() string { return x.Path + querySuffix(x.Query) }

// Title is a one-line name for the exchange: "POST /Users".
func (x Exchange) Title() string { return x.Method + " " + x.Target() }

// Writer appends exchanges to a JSONL stream, redacting each one.
type Writer struct {
	w   *bufio.Writer
	enc *json.Encoder
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{w: bw, enc: enc}
}

// Write redacts x and writes it as one line, flushing so that a crash loses
// at most the exchange in flight.
func (w *Writer) Write(x Exchange) error {
	if err := w.enc.Encode(x.Redacted()); err != nil {
		return err
	}
	return w.w.Flush()
}

// Read parses a JSONL transcript. Blank lines are skipped; a bad line is
// reported with its line number.
func Read(r io.Reader) ([]Exchange, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Exchange
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var x Exchange
		if err := json.Unmarshal(b, &x); err != nil {
			return nil, fmt.Errorf("transcript line %d: %v", line, err)
		}
		if x.Method == "" || !strings.HasPrefix(x.Path, "/") {
			return nil, fmt.Errorf("transcript line %d: an exchange needs a method and a path starting with /", line)
		}
		if err := x.RequestBodyCoding.check(x.RequestBody); err != nil {
			return nil, fmt.Errorf("transcript line %d: requestBodyCoding: %v", line, err)
		}
		if err := x.ResponseBodyCoding.check(x.ResponseBody); err != nil {
			return nil, fmt.Errorf("transcript line %d: responseBodyCoding: %v", line, err)
		}
		out = append(out, x)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("transcript: %v", err)
	}
	return out, nil
}

// Load reads the transcript file at path.
func Load(path string) ([]Exchange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Save writes exchanges to path as JSONL, redacted.
func Save(path string, xs []Exchange) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := NewWriter(f)
	for _, x := range xs {
		if err := w.Write(x); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// IdP guesses which IdP sent the traffic from its User-Agent header: "okta",
// "entra", or "" when unknown (idp-traffic.md §1.1: Okta sends
// "Okta SCIM Client 1.0.0").
func IdP(xs []Exchange) string {
	for _, x := range xs {
		ua := strings.ToLower(http.Header(x.RequestHeaders).Get("User-Agent"))
		switch {
		case strings.Contains(ua, "okta"):
			return "okta"
		case strings.Contains(ua, "azure") || strings.Contains(ua, "entra") || strings.Contains(ua, "microsoft"):
			return "entra"
		}
	}
	return ""
}

package transcript

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reports"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) types, the
// subset a transcript fills.
type harLog struct {
	Log harBody `json:"log"`
}

type harBody struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

type harPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
	// Encoding is a custom field (HAR 1.2 allows those with a leading
	// underscore): postData has no encoding of its own, and "base64" here
	// says what content.encoding says of a response.
	Encoding string `json:"_encoding,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

type harResponse struct {
	Status      int        `json:"status"`
	StatusText  string     `json:"statusText"`
	HTTPVersion string     `json:"httpVersion"`
	Cookies     []harNV    `json:"cookies"`
	Headers     []harNV    `json:"headers"`
	Content     harContent `json:"content"`
	RedirectURL string     `json:"redirectURL"`
	HeadersSize int        `json:"headersSize"`
	BodySize    int        `json:"bodySize"`
}

// harContent is a response body. HAR 1.2: text is the body decoded
// (decompressed); size is its length in bytes; compression is how many bytes
// the content coding saved (size minus the response's bodySize); encoding is
// "base64" when text is base64 of bytes that are not UTF-8.
type harContent struct {
	Size        int    `json:"size"`
	Compression int    `json:"compression,omitempty"`
	MimeType    string `json:"mimeType"`
	Text        string `json:"text,omitempty"`
	Encoding    string `json:"encoding,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

type harTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// WriteHAR writes xs (redacted) as a HAR 1.2 log; base is the URL prefix the
// paths are relative to (the upstream's SCIM base URL), written with any
// credential in it (a password in its userinfo) redacted.
func WriteHAR(w io.Writer, base string, toolVersion string, xs []Exchange) error {
	h := harLog{Log: harBody{Version: "1.2", Creator: harCreator{Name: "scimlab", Version: toolVersion}, Entries: []harEntry{}}}
	base = strings.TrimRight(reports.RedactURL(base), "/")
	for _, x := range xs {
		x = x.Redacted()
		reqSize, _ := sizes(x.RequestBody, x.RequestBodyCoding)
		req := harRequest{
			Method: x.Method, URL: base + x.Target(), HTTPVersion: "HTTP/1.1",
			Cookies: []harNV{}, Headers: harHeaders(x.RequestHeaders), QueryString: harQuery(x.Query),
			HeadersSize: -1, BodySize: reqSize,
		}
		if x.RequestBody != "" {
			mt := http.Header(x.RequestHeaders).Get("Content-Type")
			if mt == "" {
				mt = "application/scim+json"
			}
			req.PostData = &harPostData{MimeType: mt, Text: x.RequestBody}
			if c := x.RequestBodyCoding; c != nil {
				req.PostData.Encoding = c.Encoding
				req.PostData.Comment = codingComment(c)
			}
		}
		mt := http.Header(x.ResponseHeaders).Get("Content-Type")
		respWire, respSize := sizes(x.ResponseBody, x.ResponseBodyCoding)
		content := harContent{Size: respSize, MimeType: mt, Text: x.ResponseBody}
		if c := x.ResponseBodyCoding; c != nil {
			content.Encoding = c.Encoding
			content.Comment = codingComment(c)
			if c.Decoded != "" {
				content.Compression = respSize - respWire
			}
		}
		h.Log.Entries = append(h.Log.Entries, harEntry{
			StartedDateTime: x.Time.UTC().Format(time.RFC3339Nano),
			Time:            x.LatencyMs,
			Request:         req,
			Response: harResponse{
				Status: x.Status, StatusText: http.StatusText(x.Status), HTTPVersion: "HTTP/1.1",
				Cookies: []harNV{}, Headers: harHeaders(x.ResponseHeaders),
				Content:     content,
				HeadersSize: -1, BodySize: respWire,
			},
			Timings: harTimings{Wait: x.LatencyMs},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(h)
}

// sizes returns a body's size on the wire and its size once decoded.
func sizes(body string, c *BodyCoding) (wire, size int) {
	size = len(body)
	if c.isBase64() {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			size = len(b)
		}
	}
	wire = size
	if c != nil && c.WireSize > 0 {
		wire = c.WireSize
	}
	return wire, size
}

// codingComment says in words what a BodyCoding records.
func codingComment(c *BodyCoding) string {
	var parts []string
	if c.Decoded != "" {
		parts = append(parts, "decoded from Content-Encoding "+c.Decoded)
	}
	if c.Encoding == Base64 {
		parts = append(parts, "base64: the bytes are not UTF-8 text")
	}
	if c.Note != "" {
		parts = append(parts, c.Note)
	}
	return strings.Join(parts, "; ")
}

func harHeaders(h map[string][]string) []harNV {
	out := []harNV{}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			out = append(out, harNV{Name: k, Value: v})
		}
	}
	return out
}

func harQuery(q string) []harNV {
	out := []harNV{}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return out
	}
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range vals[k] {
			out = append(out, harNV{Name: k, Value: v})
		}
	}
	return out
}

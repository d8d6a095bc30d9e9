package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// rawExchange sends req as is on a new connection to l and reads one response.
func rawExchange(t *testing.T, l *Local, req string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(l.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer to %.60q: %v", req, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

// TestUnreadableRequestsGetSCIMErrors: requests net/http rejects before any
// handler runs still get a SCIM Error, with the status net/http chose.
func TestUnreadableRequestsGetSCIMErrors(t *testing.T) {
	l, err := StartLocal(context.Background(), LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	auth := "Authorization: Bearer " + l.Token + "\r\n"

	cases := []struct {
		name     string
		req      string
		status   int
		scimType scim.Type
		detail   string
	}{
		{"bad escape in the path", "GET /scim/v2/Users/%ZZ HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400, scim.InvalidValue, "%-escape"},
		{"bad escape, bare percent", "GET /scim/v2/Users/abc% HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", 400, scim.InvalidValue, "not well-formed"},
		{"invalid header name", "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n" + auth + "\r\n", 400, scim.InvalidValue, "invalid header name"},
		{"missing Host", "GET /scim/v2/Users HTTP/1.1\r\n" + auth + "\r\n", 400, scim.InvalidValue, "missing required Host header"},
		{"oversized header fields", "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", maxHeaderBytes+8192) + "\r\n" + auth + "\r\n", 431, "", "exceed"},
		{"unsupported HTTP version", "GET /scim/v2/Users HTTP/2.5\r\nHost: x\r\n" + auth + "\r\n", 505, "", "HTTP/1.1"},
		{"unknown transfer coding", "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n" + auth + "\r\n0\r\n\r\n", 501, "", "transfer encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, body := rawExchange(t, l, tc.req)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", r.StatusCode, tc.status, body)
			}
			if ct := r.Header.Get("Content-Type"); ct != scim.MediaType {
				t.Errorf("Content-Type %q, want %q", ct, scim.MediaType)
			}
			if !r.Close {
				t.Error("the connection is not closed after an unreadable request")
			}
			var e scim.Error
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("the body is not a SCIM Error: %v: %s", err, body)
			}
			var raw map[string]any
			_ = json.Unmarshal(body, &raw)
			if s, _ := raw["schemas"].([]any); len(s) != 1 || s[0] != scim.ErrorSchema {
				t.Errorf("schemas %v", raw["schemas"])
			}
			if e.Status != tc.status || e.ScimType != tc.scimType || !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("got status %d scimType %q detail %q; want %d %q and a detail containing %q", e.Status, e.ScimType, e.Detail, tc.status, tc.scimType, tc.detail)
			}
		})
	}

	// Requests net/http can read are the handlers' business, as before:
	// the wrapper leaves a keep-alive connection's answers alone.
	r, body := rawExchange(t, l, "GET /scim/v2/Users/nope HTTP/1.1\r\nHost: x\r\n"+auth+"\r\n")
	if r.StatusCode != 404 || r.Close || !strings.Contains(string(body), `"status":"404"`) {
		t.Errorf("an ordinary 404: status %d close %v body %s", r.StatusCode, r.Close, body)
	}
}

func TestRewritePlainError(t *testing.T) {
	const h = plainErrorHeaders
	cases := []struct {
		in     string
		status int // 0: left alone
	}{
		{"HTTP/1.1 400 Bad Request" + h + "400 Bad Request", 400},
		{"HTTP/1.1 400 Bad Request: invalid header name" + h + "400 Bad Request: invalid header name", 400},
		{"HTTP/1.1 431 Request Header Fields Too Large" + h + "431 Request Header Fields Too Large", 431},
		{"HTTP/1.1 501 Not Implemented" + h + "Unsupported transfer encoding", 501},
		{"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + h + "505 ...", 505},
		// A handler's responses: sorted headers, so never this shape.
		{"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx", 0},
		{"HTTP/1.1 200 OK" + h + "fine", 0},
		{"HTTP/1.1 404 Not Found\r\nX-A: b" + h + "x", 0},
		{"HTTP/1.0 400 Bad Request" + h + "x", 0},
		{"HTTP/1.1 40", 0},
		{`{"schemas":[]}`, 0},
		{"", 0},
	}
	for _, tc := range cases {
		out, ok := rewritePlainError([]byte(tc.in))
		if ok != (tc.status != 0) {
			t.Errorf("%.50q: rewritten %v", tc.in, ok)
			continue
		}
		if !ok {
			continue
		}
		r, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
		if err != nil {
			t.Fatalf("%.50q: %v", tc.in, err)
		}
		b, _ := io.ReadAll(r.Body)
		var e scim.Error
		if r.StatusCode != tc.status || json.Unmarshal(b, &e) != nil || e.Status != tc.status || !r.Close {
			t.Errorf("%.50q: got %d %s", tc.in, r.StatusCode, b)
		}
	}
}

func FuzzRewritePlainError(f *testing.F) {
	f.Add([]byte("HTTP/1.1 400 Bad Request" + plainErrorHeaders + "400 Bad Request"))
	f.Add([]byte("HTTP/1.1 400 Bad Request: x" + plainErrorHeaders + "y"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		out, ok := rewritePlainError(p)
		if !ok {
			return
		}
		r, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(out))), nil)
		if err != nil {
			t.Fatalf("rewrote %q into an unreadable response: %v", p, err)
		}
		b, _ := io.ReadAll(r.Body)
		var e scim.Error
		if err := json.Unmarshal(b, &e); err != nil || e.Status != r.StatusCode || r.StatusCode < 400 {
			t.Fatalf("rewrote %q into %d %s", p, r.StatusCode, b)
		}
	})
}

// TestStalledBodyIs408: a request whose body stops arriving gets a 408
// SCIM Error once bodyReadTimeout has passed, instead of holding its
// connection; a body that arrives in time, and the next request on the same
// connection, are served as usual.
func TestStalledBodyIs408(t *testing.T) {
	defer func(d time.Duration) { bodyReadTimeout = d }(bodyReadTimeout)
	bodyReadTimeout = 200 * time.Millisecond
	l, err := StartLocal(context.Background(), LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	auth := "Authorization: Bearer " + l.Token + "\r\n"
	for _, tc := range []struct{ name, head, body string }{
		{"content-length", "Content-Length: 100\r\n", `{"schemas":`},
		{"chunked", "Transfer-Encoding: chunked\r\n", "b\r\n{\"schemas\":\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := rawExchange(t, l, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n"+auth+"Content-Type: application/scim+json\r\n"+tc.head+"\r\n"+tc.body)
			var e scim.Error
			if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(b, &e) != nil || e.Status != 408 || !strings.Contains(e.Detail, "did not arrive within") {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		})
	}
	// Served as usual: a body that arrives, then a second request on the
	// same connection well after the first one's deadline would have passed.
	u, _ := url.Parse(l.BaseURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"slowpoke"}`
	for i, req := range []string{
		"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/scim+json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body,
		"GET /scim/v2/Users?filter=userName%20eq%20%22slowpoke%22 HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n",
	} {
		if i == 1 {
			time.Sleep(2 * bodyReadTimeout) // past the first request's deadline, had it been kept
		}
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := []int{http.StatusCreated, http.StatusOK}[i]; resp.StatusCode != want {
			t.Errorf("request %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
}

package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// closingServer answers the first request on each connection, keeping it
// alive, then reads the next request and closes the connection without an
// answer: what a server does when its keep-alive timeout (Node: 5 s) ends
// just as a pooled connection is reused. It returns the base URL and the
// methods it read, in order.
func closingServer(t *testing.T) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var (
		mu   sync.Mutex
		seen []string
	)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					mu.Lock()
					seen = append(seen, req.Method)
					mu.Unlock()
					if i > 0 {
						return // closed before any answer
					}
					status := http.StatusOK
					if req.Method == http.MethodDelete {
						status = http.StatusNoContent
					}
					body := `{}`
					if status == http.StatusNoContent {
						body = ""
					}
					fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n%s", status, http.StatusText(status), len(body), body)
				}
			}(conn)
		}
	}()
	return "http://" + l.Addr().String() + "/scim/v2", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// TestIdempotentRequestRetriedOnClosedConnection: a DELETE or PUT (or GET)
// sent on a pooled connection the server closed before any answer is sent
// once more on a new connection; a POST is not (RFC 9112 §9.3.1: a client
// MUST NOT retry a non-idempotent request automatically).
func TestIdempotentRequestRetriedOnClosedConnection(t *testing.T) {
	base, seen := closingServer(t)
	prev := target
	defer func() { target = prev }()
	target = &Target{BaseURL: base, RunID: "r1", RequestTimeout: 10 * time.Second, Caps: &Capabilities{}}
	target.httpClient = target.newHTTPClient()
	c := NewClient()
	ctx := context.Background()

	if resp := c.Get(ctx, "/Users"); resp.Err != nil || resp.Status != http.StatusOK {
		t.Fatalf("GET: %s", resp.Summary())
	}
	// The pooled connection is closed on the DELETE: sent again, answered.
	if resp := c.Do(ctx, Request{Method: http.MethodDelete, Path: "/Users/x", Quiet: true}); resp.Err != nil || resp.Status != http.StatusNoContent {
		t.Errorf("DELETE on a closed keep-alive connection: %s", resp.Summary())
	}
	// So is the PUT, on the connection the DELETE's retry opened.
	if resp := c.Put(ctx, "/Users/x", map[string]any{"userName": "x"}); resp.Err != nil || resp.Status != http.StatusOK {
		t.Errorf("PUT on a closed keep-alive connection: %s", resp.Summary())
	}
	// The POST is sent once: it fails, it is not replayed.
	if resp := c.Post(ctx, "/Users", map[string]any{"userName": "y"}); resp.Err == nil {
		t.Errorf("POST on a closed keep-alive connection answered: %s", resp.Summary())
	}
	posts := 0
	for _, m := range seen() {
		if m == http.MethodPost {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("the POST was sent %d times (%v), want once", posts, seen())
	}
}

// TestTransportIdleTimeoutBelowServerKeepAlive: the suites drop an idle
// connection before common servers do (Node closes after 5 s), so that a
// request is rarely sent on a connection the server is closing.
func TestTransportIdleTimeoutBelowServerKeepAlive(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		tr := (&Target{Insecure: insecure}).baseTransport()
		if tr.IdleConnTimeout <= 0 || tr.IdleConnTimeout >= 5*time.Second {
			t.Errorf("insecure=%v: IdleConnTimeout %s, want below 5s", insecure, tr.IdleConnTimeout)
		}
	}
	c := (&Target{RequestTimeout: time.Second}).newHTTPClient()
	if tr, ok := c.Transport.(*http.Transport); !ok || tr.IdleConnTimeout >= 5*time.Second {
		t.Errorf("the run's client transport %T does not drop idle connections before 5s", c.Transport)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// Some requests never reach a handler: Go's HTTP server answers them itself,
// in plain text, when it cannot read the request at all (a request target
// that is not a valid URI, such as GET /scim/v2/Users/%ZZ; headers over
// MaxHeaderBytes; a malformed header; an unknown HTTP version or transfer
// coding). A SCIM client is promised a SCIM Error for every client mistake
// (RFC 7644 §3.12), and conformance tools parse the body as one, so the
// listener rewrites those answers: same status, same connection close, a
// SCIM Error body with the reason.
//
// net/http writes such an answer to the connection in one Write, shaped
//
//	HTTP/1.1 <code> <text>[: <reason>]\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n<body>
//
// and only before any response on that connection has begun. A response a
// handler writes can never look like it: net/http writes header fields in
// sorted order, so Connection always precedes Content-Type there. A Write
// that does not match the shape exactly passes through untouched.

// plainErrorHeaders is what follows the status line in net/http's own
// answers to unreadable requests.
const plainErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// scimErrorListener wraps every accepted connection in a protocolConn.
type scimErrorListener struct{ net.Listener }

func (l scimErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &protocolConn{Conn: c}, nil
}

// protocolConn rewrites net/http's plain-text protocol errors as SCIM
// Errors; everything else is written as is.
type protocolConn struct{ net.Conn }

func (c *protocolConn) Write(p []byte) (int, error) {
	if b, ok := rewritePlainError(p); ok {
		if _, err := c.Conn.Write(b); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// CloseWrite keeps net/http's lingering close (it half-closes a TCP
// connection before hanging up on a client that may still be sending).
func (c *protocolConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// rewritePlainError returns the SCIM Error response that replaces p when p
// is one of net/http's plain-text answers to an unreadable request.
func rewritePlainError(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) < len(proto)+3 || p[len(proto)] < '4' || p[len(proto)] > '5' || string(p[:len(proto)]) != proto {
		return nil, false // most writes: a handler's 1xx/2xx/3xx, or a body
	}
	end := bytes.Index(p, []byte(plainErrorHeaders))
	if end < 0 || bytes.IndexByte(p[:end], '\n') >= 0 {
		return nil, false // not right after the status line
	}
	line := p[len(proto):end] // "431 Request Header Fields Too Large", "400 Bad Request: invalid header name"
	code, err := strconv.Atoi(string(line[:3]))
	if err != nil || code < 400 || code > 599 || (len(line) > 3 && line[3] != ' ') {
		return nil, false
	}
	reason := ""
	if _, r, ok := bytes.Cut(line, []byte(": ")); ok {
		reason = string(r)
	}
	if code == http.StatusNotImplemented {
		reason = "unsupported transfer encoding"
	}
	e := scim.New(code, "", protocolDetail(code, reason))
	if code == http.StatusBadRequest {
		e.ScimType = scim.InvalidValue
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, false
	}
	out := fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: %d\r\nContent-Type: %s\r\n\r\n",
		code, http.StatusText(code), len(body), scim.MediaType)
	return append(out, body...), true
}

// protocolDetail says what was wrong with a request net/http could not read.
func protocolDetail(code int, reason string) string {
	switch {
	case code == http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("the request's header fields exceed the server's limit of %d bytes", maxHeaderBytes)
	case code == http.StatusHTTPVersionNotSupported:
		return "the request's HTTP version is not supported; use HTTP/1.1"
	case reason != "":
		return "the request could not be read: " + reason
	default:
		return "the request could not be read: its request line, target URI or header fields are not well-formed HTTP/1.1 " +
			"(for example a bad %-escape in the path, RFC 3986 §2.1)"
	}
}

// readHeaderTimeout is how long a client has to send a request's header
// fields before its connection closes.
const readHeaderTimeout = 10 * time.Second

// maxHeaderBytes is the server's limit on request header fields (net/http's
// default, stated so that the 431 can name it).
const maxHeaderBytes = http.DefaultMaxHeaderBytes

// newHTTPServer is the http.Server that Serve and StartLocal run h on;
// serve it on scimErrorListener{ln}. net/http's own error log (TLS
// handshakes, panics it recovered) goes to logger at debug level.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
}

package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// call is one SCIM request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	id    string // the {id} path segment, if any
	base  string // absolute base URL, no trailing slash
	token store.Token
	// inBulk is set for operations run inside /Bulk.
	inBulk bool
}

type handlerFunc func(s *Server, c *call) error

// route is one path pattern with its methods.
type route struct {
	pattern   string // for metrics: "/Users/{id}"
	methods   map[string]handlerFunc
	allow     string
	discovery bool // may be served without auth when the profile says so
}

func newRoute(pattern string, discovery bool, m map[string]handlerFunc) *route {
	names := make([]string, 0, len(m))
	for _, k := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if _, ok := m[k]; ok {
			names = append(names, k)
			if k == http.MethodGet {
				names = append(names, http.MethodHead) // served as GET without the body
			}
		}
	}
	return &route{pattern: pattern, methods: m, allow: strings.Join(names, ", "), discovery: discovery}
}

var (
	routeUsers     *route
	routeGroups    *route
	routeUser      *route
	routeGroup     *route
	routeUserSrch  *route
	routeGroupSrch *route
	routeRootSrch  *route
	routeBulk      *route
	routeMe        *route
	routeSPC       *route
	routeRTs       *route
	routeRT        *route
	routeSchemas   *route
	routeSchema    *route
)

func init() {
	routeUsers = newRoute("/Users", false, map[string]handlerFunc{"GET": (*Server).list, "POST": (*Server).create})
	routeGroups = newRoute("/Groups", false, map[string]handlerFunc{"GET": (*Server).list, "POST": (*Server).create})
	routeUser = newRoute("/Users/{id}", false, map[string]handlerFunc{"GET": (*Server).get, "PUT": (*Server).replace, "PATCH": (*Server).patch, "DELETE": (*Server).delete})
	routeGroup = newRoute("/Groups/{id}", false, map[string]handlerFunc{"GET": (*Server).get, "PUT": (*Server).replace, "PATCH": (*Server).patch, "DELETE": (*Server).delete})
	routeUserSrch = newRoute("/Users/.search", false, map[string]handlerFunc{"POST": (*Server).search})
	routeGroupSrch = newRoute("/Groups/.search", false, map[string]handlerFunc{"POST": (*Server).search})
	routeRootSrch = newRoute("/.search", false, map[string]handlerFunc{"POST": (*Server).search})
	routeBulk = newRoute("/Bulk", false, map[string]handlerFunc{"POST": (*Server).bulk})
	routeMe = newRoute("/Me", false, map[string]handlerFunc{"GET": (*Server).me, "POST": (*Server).me, "PUT": (*Server).me, "PATCH": (*Server).me, "DELETE": (*Server).me})
	routeSPC = newRoute("/ServiceProviderConfig", true, map[string]handlerFunc{"GET": (*Server).serviceProviderConfig})
	routeRTs = newRoute("/ResourceTypes", true, map[string]handlerFunc{"GET": (*Server).resourceTypes})
	routeRT = newRoute("/ResourceTypes/{id}", true, map[string]handlerFunc{"GET": (*Server).resourceType})
	routeSchemas = newRoute("/Schemas", true, map[string]handlerFunc{"GET": (*Server).schemas})
	routeSchema = newRoute("/Schemas/{id}", true, map[string]handlerFunc{"GET": (*Server).schemaByID})
}

// match finds the route for a path below the base path ("/Users/abc").
func match(p string) (*route, string) {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	first, rest, hasRest := strings.Cut(p, "/")
	if hasRest && (rest == "" || strings.Contains(rest, "/")) {
		return nil, ""
	}
	switch first {
	case "Users", "Groups":
		if !hasRest {
			if first == "Users" {
				return routeUsers, ""
			}
			return routeGroups, ""
		}
		if rest == ".search" {
			if first == "Users" {
				return routeUserSrch, ""
			}
			return routeGroupSrch, ""
		}
		if first == "Users" {
			return routeUser, rest
		}
		return routeGroup, rest
	case ".search":
		if !hasRest {
			return routeRootSrch, ""
		}
	case "Bulk":
		if !hasRest {
			return routeBulk, ""
		}
	case "Me":
		if !hasRest {
			return routeMe, ""
		}
	case "ServiceProviderConfig", "ServiceProviderConfigs":
		if !hasRest {
			return routeSPC, ""
		}
	case "ResourceTypes":
		if !hasRest {
			return routeRTs, ""
		}
		return routeRT, rest
	case "Schemas":
		if !hasRest {
			return routeSchemas, ""
		}
		return routeSchema, rest
	}
	return nil, ""
}

func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	plain := func(allow string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", allow)
				writeError(w, errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; allowed: %s", truncate(r.Method, 20), r.URL.Path, allow))
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/healthz", plain("GET, HEAD", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}))
	mux.HandleFunc("/metrics", plain("GET, HEAD", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.metrics.write(w)
		switch st := s.st.(type) {
		case interface{ Stats() sqlite.Stats }:
			writeStoreMetrics(w, st.Stats())
		case interface{ Stats() postgres.Stats }:
			writePoolMetrics(w, st.Stats())
		}
		writeProcessMetrics(w)
	}))
	scimHandler := s.withProfile(http.HandlerFunc(s.serveSCIM))
	mux.Handle(BasePath+"/", scimHandler)
	mux.Handle(BasePath, scimHandler)
	mux.Handle("/admin", s.admin)
	mux.Handle("/admin/", s.admin)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, "", "no endpoint at %s; SCIM is served under %s", truncate(r.URL.Path, 200), BasePath))
	})
	// SCIM paths go straight to the SCIM handler: ServeMux answers a path
	// that is not clean (/scim/v2/Users//id, /scim/v2/./Users) with an HTML
	// redirect, where a SCIM client must get a SCIM error (a 404 here).
	return s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = withBodyDeadline(w, r)
		if p := r.URL.Path; p == BasePath || strings.HasPrefix(p, BasePath+"/") {
			scimHandler.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// bodyReadTimeout bounds how long a request body may take to arrive, from
// the end of its header fields: a client that sends its headers and then
// a body that stalls (by mistake or to hold connections) gets a 408 instead
// of a connection held for ever. A megabyte at modem speed fits.
var bodyReadTimeout = time.Minute

// withBodyDeadline sets the connection's read deadline for r's body and
// clears it once the body has been read to its end, so that net/http's
// watch for a closed connection during a long handler is not cut off.
func withBodyDeadline(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(bodyReadTimeout)) != nil {
		return r // not a connection (a test recorder)
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
	return r
}

// deadlineBody clears the read deadline at the body's end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// recoverer turns a panic anywhere below into a 500 SCIM Error, logged at
// error level with the stack.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, scim.New(http.StatusInternalServerError, "", "internal server error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	pattern := "unmatched"
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "route", pattern, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeError(sw, scim.New(http.StatusInternalServerError, "", "internal server error"))
			}
		}
		st := sw.status
		if st == 0 {
			st = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(pattern, r.Method, st, d)
		if st >= 500 && st != http.StatusNotImplemented { // 501: a documented answer (/Me)
			s.log.Error("request failed", "method", r.Method, "route", pattern, "status", st, "duration", d.String())
		} else if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("request", "method", r.Method, "route", pattern, "status", st, "duration", d.String())
		}
	}()
	rest := strings.TrimPrefix(r.URL.Path, BasePath)
	rt, id := match(rest)
	if rt == nil {
		writeError(sw, errorf(http.StatusNotFound, "", "no SCIM endpoint at %s", truncate(r.URL.Path, 200)))
		return
	}
	pattern = rt.pattern
	h := rt.methods[r.Method]
	if h == nil {
		if r.Method == http.MethodHead && rt.methods[http.MethodGet] != nil {
			h = rt.methods[http.MethodGet]
		} else {
			allow := s.allowed(&call{r: r}, rt, "")
			sw.Header().Set("Allow", allow)
			writeError(sw, errorf(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; allowed: %s", truncate(r.Method, 20), rt.pattern, orNone(allow)))
			return
		}
	}
	c := &call{w: sw, r: r, id: id, base: s.base(r)}
	if !(rt.discovery && s.prof.DiscoveryWithoutAuth) {
		tok, err := s.authenticate(r)
		if err != nil {
			s.authFailed(sw, r, err)
			return
		}
		c.token = tok
	}
	if err := checkContentType(r); err != nil {
		s.fail(c, err)
		return
	}
	if err := normalizeQuery(r.URL); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.run(c, rt, h); err != nil {
		s.fail(c, err)
	}
}

// fail writes err as a SCIM Error; errors that are not *scim.Error are
// unexpected and logged at error level.
func (s *Server) fail(c *call, err error) {
	var se *scim.Error
	if !errors.As(err, &se) {
		switch {
		case errors.Is(err, store.ErrNotFound):
			se = errorf(http.StatusNotFound, "", "resource %s not found", c.id)
		case errors.Is(err, store.ErrConflict):
			se = scim.New(http.StatusConflict, scim.Uniqueness, "a resource with that unique name already exists")
		case errors.Is(err, store.ErrVersionMismatch):
			se = scim.New(http.StatusPreconditionFailed, "", "the resource has changed: If-Match does not match its current version")
		case errors.Is(err, store.ErrUnavailable):
			s.unavailable(c.w, c.r, err)
			return
		case errors.Is(err, store.ErrUnstorable):
			s.log.Warn("value the store cannot keep", "method", c.r.Method, "path", c.r.URL.Path, "err", err.Error())
			se = scim.New(http.StatusBadRequest, scim.InvalidValue, "a value in the request cannot be stored (a NUL character or a value too long for the store's index)")
		default:
			s.log.Error("unexpected error", "method", c.r.Method, "path", c.r.URL.Path, "err", err.Error())
			se = scim.New(http.StatusInternalServerError, "", "internal server error")
		}
	} else if se.Status >= 500 && se.Status != http.StatusNotImplemented {
		s.log.Error("server error", "method", c.r.Method, "path", c.r.URL.Path, "err", se.Error())
	}
	if se.Status == http.StatusUnsupportedMediaType {
		// The codings a request may use (RFC 9110 §12.5.3, §15.5.16).
		c.w.Header().Set("Accept-Encoding", "gzip")
	}
	writeError(c.w, se)
}

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 for a
// store that cannot be reached. An integer: Okta honours integer seconds
// exactly and waits 5 minutes for any other form (idp-traffic.md §1,
// "Rate limiting and retries").
const unavailableRetryAfter = "5"

// unavailable answers a request the store could not serve because it cannot
// be reached for now (store.ErrUnavailable: a database restarting or failing
// over): 503 with Retry-After, so that the IdP retries instead of recording
// a failure, where a 500 would say the server is broken.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("store unavailable", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	w.Header().Set("Retry-After", unavailableRetryAfter)
	writeError(w, scim.New(http.StatusServiceUnavailable, "", "the data store is unavailable for now; retry later"))
}

func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		s.unavailable(w, r, err)
		return
	}
	if !auth.IsFailure(err) {
		s.log.Error("authentication error", "path", r.URL.Path, "err", err.Error())
		writeError(w, scim.New(http.StatusInternalServerError, "", "internal server error"))
		return
	}
	s.log.Info("authentication failed", "method", r.Method, "path", r.URL.Path, "reason", auth.Describe(err), "remote", r.RemoteAddr)
	ch := auth.Challenge(err)
	w.Header().Set("WWW-Authenticate", ch)
	if s.auth.AllowBasic {
		// Both schemes are accepted, so both are offered (RFC 7235 §4.1).
		if ch == auth.BasicChallenge {
			w.Header().Add("WWW-Authenticate", auth.Challenge(auth.ErrNoCredentials))
		} else {
			w.Header().Add("WWW-Authenticate", auth.BasicChallenge)
		}
	}
	writeError(w, scim.New(auth.Status(err), "", auth.Describe(err)))
}

// base returns the absolute SCIM base URL for r.
func (s *Server) base(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host + BasePath
}

// checkContentType refuses a request body of a media type other than
// application/scim+json or application/json with 415 (RFC 7644 §3.1 and §8.1;
// a missing Content-Type is accepted).
func checkContentType(r *http.Request) error {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	switch ct {
	case "", scim.MediaType, "application/json":
		return nil // what clients send, without parsing it
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "", "unreadable Content-Type %q; send application/scim+json", truncate(ct, 100))
	}
	switch strings.ToLower(mt) {
	case scim.MediaType, "application/json":
		return nil
	}
	return errorf(http.StatusUnsupportedMediaType, "", "Content-Type %s is not supported; send application/scim+json", truncate(mt, 100))
}

// readBody reads at most limit bytes of the request body; more is 413.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "", "the request body (%d bytes) is larger than the limit of %d bytes", r.ContentLength, limit)
	}
	if r.Body == nil {
		return nil, nil
	}
	// A coded body is decoded here, and the limit holds for the coded and
	// the decoded bytes alike; a coding the server does not know is 415
	// (RFC 7231 §3.1.2.2), never bytes read as if they were JSON.
	gz, err := gzipCoded(r.Header)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, errorf(http.StatusRequestTimeout, "", "the request body did not arrive within %s (%d bytes came)", bodyReadTimeout, len(b))
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "reading the request body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "", "the request body is larger than the limit of %d bytes", limit)
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "the request body is not gzip data, as Content-Encoding says: %v", err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, limit+1)); err != nil {
			return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "the request body is not whole gzip data, as Content-Encoding says: %v", err)
		}
		if int64(len(b)) > limit {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", "the request body, decoded, is larger than the limit of %d bytes", limit)
		}
	}
	r.Header.Del("Content-Encoding") // b is the body now, for any later reader
	return b, nil
}

// gzipCoded reads the request's Content-Encoding, on one line or several
// (RFC 7230 §3.2.2): true for gzip (or x-gzip), false for none or identity;
// any other coding, or more than one, is 415 Unsupported Media Type.
func gzipCoded(h http.Header) (bool, error) {
	var codings []string
	for _, c := range strings.Split(headerList(h, "Content-Encoding"), ",") {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	switch {
	case len(codings) == 0:
		return false, nil
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return true, nil
	}
	return false, errorf(http.StatusUnsupportedMediaType, "", "Content-Encoding %q is not supported: send the body uncompressed or gzip-coded once", truncate(strings.Join(codings, ", "), 60))
}

// decodeObject parses a JSON object body.
func decodeObject(b []byte) (map[string]any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, scim.New(http.StatusBadRequest, scim.InvalidSyntax, "the request body is empty; expected a JSON object")
	}
	if !utf8.Valid(b) {
		// encoding/json would turn the bad bytes into U+FFFD, storing a
		// value the client never sent (RFC 8259 §8.1: JSON is UTF-8).
		return nil, scim.New(http.StatusBadRequest, scim.InvalidSyntax, "the request body is not valid UTF-8 (RFC 8259 §8.1)")
	}
	doc, err := jsondoc.DecodeObjectUnique(b)
	var dup *jsondoc.DuplicateKeyError
	if errors.As(err, &dup) {
		return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "the request body is ambiguous: %v", dup)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if v, ok := outOfRange(te); ok {
			// Valid JSON (RFC 8259 §6 sets no limit), but no value this
			// server can hold.
			return nil, errorf(http.StatusBadRequest, scim.InvalidValue, "the request body holds %s, out of range (a number must fit a 64-bit float)", truncate(v, 60))
		}
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, scim.InvalidSyntax, "the request body is not a valid JSON object: %s", jsonErrText(err))
	}
	if doc == nil {
		return nil, scim.New(http.StatusBadRequest, scim.InvalidSyntax, "the request body must be a JSON object, not null")
	}
	return doc, nil
}

// outOfRange returns the number ("number 1e999") of te when te is a
// number too large for the float64 or any it was decoded into.
func outOfRange(te *json.UnmarshalTypeError) (string, bool) {
	if !strings.HasPrefix(te.Value, "number ") || te.Type == nil {
		return "", false
	}
	k := te.Type.Kind()
	return te.Value, k == reflect.Float64 || k == reflect.Interface
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if v, ok := outOfRange(te); ok {
			return v + " is out of range (a number must fit a 64-bit float)"
		}
		if te.Field != "" {
			return fmt.Sprintf("%s has the wrong JSON type (%s)", te.Field, te.Value)
		}
		return fmt.Sprintf("expected a JSON object, got %s", te.Value)
	}
	return err.Error()
}

// writeJSON writes a SCIM JSON response.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	writeJSONWith(w, status, body, "", "")
}

// Canonical names of the headers writeJSONWith assigns directly.
var (
	hdrContentType   = http.CanonicalHeaderKey("Content-Type")
	hdrContentLength = http.CanonicalHeaderKey("Content-Length")
	hdrETag          = http.CanonicalHeaderKey("ETag")
	hdrLocation      = http.CanonicalHeaderKey("Location")
)

// writeJSONWith writes a SCIM JSON response with an ETag and a Location
// header when they are not empty. It sets the headers as Header.Set does,
// but with the values sharing one slice rather than allocating one each;
// each header's slice is capped at its one value, so an Add elsewhere
// copies instead of overwriting the next header.
func writeJSONWith(w http.ResponseWriter, status int, body []byte, etag, location string) {
	vals := [...]string{scim.MediaType, strconv.Itoa(len(body)), etag, location}
	shared := vals[:] // one allocation for all four
	h := w.Header()
	h[hdrContentType] = shared[0:1:1]
	h[hdrContentLength] = shared[1:2:2]
	if etag != "" {
		h[hdrETag] = shared[2:3:3]
	}
	if location != "" {
		h[hdrLocation] = shared[3:4:4]
	}
	w.WriteHeader(status)
	w.Write(body)
}

// writeError writes a SCIM Error (RFC 7644 §3.12).
func writeError(w http.ResponseWriter, e *scim.Error) {
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(`{"schemas":["` + scim.ErrorSchema + `"],"status":"500"}`)
	}
	status := e.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	w.Header().Del("ETag")
	writeJSON(w, status, b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// normalizeQuery checks that u's query is well formed and rewrites it in the
// form url.URL.Query reads back whole. Go's query parser drops a pair it
// cannot decode (a bad %-escape, a raw ';') without a word, so a malformed
// filter would become no filter and a userName lookup would return every
// user, which an IdP takes as "the user exists" (idp-traffic.md §1.1, Okta
// row 2). Here a bad escape is a 400 (invalidFilter for the filter), and ';'
// is an ordinary query character, as RFC 3986 §3.4 has it.
func normalizeQuery(u *url.URL) error {
	raw := u.RawQuery
	if raw == "" || !strings.ContainsAny(raw, "%;") {
		return nil // nothing Go's parser could drop (fast path)
	}
	vals := url.Values{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err == nil {
			v, err = url.QueryUnescape(v)
		}
		if err != nil {
			name := truncate(key, 40)
			if key == "" {
				name = truncate(k, 40)
			}
			if strings.EqualFold(key, "filter") {
				return scim.New(http.StatusBadRequest, scim.InvalidFilter, "the filter parameter is not correctly percent-encoded (RFC 3986 §2.1)")
			}
			return errorf(http.StatusBadRequest, scim.InvalidValue, "query parameter %q is not correctly percent-encoded (RFC 3986 §2.1)", name)
		}
		vals[key] = append(vals[key], v)
	}
	if strings.Contains(raw, ";") {
		u.RawQuery = vals.Encode()
	}
	return nil
}

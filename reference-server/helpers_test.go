package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/syncbuf"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// backends are the stores every HTTP test can run against.
var backends = []struct {
	name string
	open func(t testing.TB) store.Store
}{
	{"sqlite", func(t testing.TB) store.Store {
		st, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		return st
	}},
	{"memory", func(t testing.TB) store.Store { return memory.New() }},
}

// env is a server under test with a valid token.
type env struct {
	t     testing.TB
	srv   *Server
	h     http.Handler
	st    store.Store
	token string
	logs  *syncbuf.Buffer
}

type envOpt func(*profile.Profile, *Config)

func lenient(p *profile.Profile, _ *Config) { p.Lenient = p.WithLenient().Lenient }

// newEnv starts a server on the sqlite ":memory:" store.
func newEnv(t testing.TB, opts ...envOpt) *env {
	return newEnvOn(t, backends[0].open(t), opts...)
}

func newEnvOn(t testing.TB, st store.Store, opts ...envOpt) *env {
	t.Helper()
	p, err := profile.Get("rfc")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	cfg := Config{Store: st, Profile: p, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, o := range opts {
		o(p, &cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := auth.Create(context.Background(), st, "test", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{t: t, srv: srv, h: srv.Handler(), st: st, token: secret, logs: logs}
}

// resp is a recorded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) obj() map[string]any {
	var m map[string]any
	json.Unmarshal(r.Body, &m)
	return m
}

func (r resp) String() string {
	return fmt.Sprintf("%d %s", r.Status, r.Body)
}

// do sends a request with the env's token. body may be a string, []byte or
// a value to encode as JSON. hdr is alternating header names and values.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	if !strings.HasPrefix(path, "/") || (!strings.HasPrefix(path, BasePath) && !strings.HasPrefix(path, "/healthz") && !strings.HasPrefix(path, "/metrics") && !strings.HasPrefix(path, "/scim/")) {
		path = BasePath + path
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", scim.MediaType)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return resp{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// must checks the status and returns the response.
func (e *env) must(status int, method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.Status != status {
		e.t.Fatalf("%s %s: got %s, want status %d", method, path, r, status)
	}
	return r
}

// wantError checks a SCIM Error response.
func wantError(t testing.TB, r resp, status int, scimType scim.Type) *scim.Error {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %s, want status %d %s", r, status, scimType)
	}
	if ct := r.Header.Get("Content-Type"); ct != scim.MediaType {
		t.Errorf("Content-Type = %q, want %q", ct, scim.MediaType)
	}
	var se scim.Error
	if err := json.Unmarshal(r.Body, &se); err != nil {
		t.Fatalf("error body %s: %v", r.Body, err)
	}
	var raw map[string]any
	json.Unmarshal(r.Body, &raw)
	if _, ok := raw["status"].(string); !ok {
		t.Errorf("status is not a JSON string: %s", r.Body)
	}
	if se.Status != status || se.ScimType != scimType {
		t.Fatalf("error = %d %q, want %d %q (%s)", se.Status, se.ScimType, status, scimType, r.Body)
	}
	return &se
}

func userBody(userName string, extra ...any) map[string]any {
	m := map[string]any{
		"schemas":  []any{scim.UserSchema},
		"userName": userName,
		"name":     map[string]any{"givenName": "Given " + userName, "familyName": "Family"},
		"emails":   []any{map[string]any{"value": userName, "type": "work", "primary": true}},
		"active":   true,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func groupBody(name string, members ...string) map[string]any {
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	return map[string]any{"schemas": []any{scim.GroupSchema}, "displayName": name, "members": ms}
}

func (e *env) createUser(userName string, extra ...any) map[string]any {
	e.t.Helper()
	return e.must(201, "POST", "/Users", userBody(userName, extra...)).obj()
}

func (e *env) createGroup(name string, members ...string) map[string]any {
	e.t.Helper()
	return e.must(201, "POST", "/Groups", groupBody(name, members...)).obj()
}

func patchBody(ops ...map[string]any) map[string]any {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o
	}
	return map[string]any{"schemas": []any{scim.PatchOpSchema}, "Operations": list}
}

func op(kind, path string, value any) map[string]any {
	m := map[string]any{"op": kind}
	if path != "" {
		m["path"] = path
	}
	if value != nil {
		m["value"] = value
	}
	return m
}

func memberValues(doc map[string]any) []string {
	var out []string
	ms, _ := doc["members"].([]any)
	for _, m := range ms {
		out = append(out, m.(map[string]any)["value"].(string))
	}
	return out
}

func listOf(t testing.TB, r resp) (total int, resources []map[string]any) {
	t.Helper()
	var lr struct {
		TotalResults *json.RawMessage `json:"totalResults"`
		Resources    []map[string]any `json:"Resources"`
	}
	if err := json.Unmarshal(r.Body, &lr); err != nil {
		t.Fatalf("list body %s: %v", r.Body, err)
	}
	if lr.TotalResults == nil {
		t.Fatalf("no totalResults: %s", r.Body)
	}
	if err := json.Unmarshal(*lr.TotalResults, &total); err != nil {
		t.Fatalf("totalResults is not an integer: %s", r.Body)
	}
	return total, lr.Resources
}
func hashOf(s string) string { return auth.Hash(s) }

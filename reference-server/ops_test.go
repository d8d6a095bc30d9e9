package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/syncbuf"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

func TestAuthChallenges(t *testing.T) {
	e := newEnv(t, func(_ *profile.Profile, c *Config) { c.TokenCacheTTL = -1 })
	ctx := context.Background()
	now := time.Now()
	expired, _, err := auth.Create(ctx, e.st, "old", time.Minute, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	revoked, tok, err := auth.Create(ctx, e.st, "gone", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	tok.Revoked = now
	if err := e.st.PutToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, authz, path string
		status            int
		challenge         string
	}{
		// No credentials (or none this profile reads): the bare challenge,
		// without an error code (RFC 6750 §3.1).
		{"none", "", "/Users", 401, ""},
		{"basic", "Basic dXNlcjpwYXNz", "/Users", 401, ""},
		{"unknown", "Bearer scimlab_AAAA", "/Users", 401, `error="invalid_token", error_description="the token is not known to this server"`},
		{"expired", "Bearer " + expired, "/Users", 401, `error_description="the token has expired"`},
		{"revoked", "bearer " + revoked, "/Users", 401, `error_description="the token has been revoked"`},
		{"empty", "Bearer ", "/Users", 401, `error="invalid_token", error_description="the bearer token is empty"`},
		{"query", "", "/Users?access_token=" + url.QueryEscape(e.token), 401, `error="invalid_token"`},
		{"query with header", "Bearer " + e.token, "/Users?access_token=" + url.QueryEscape(e.token), 401, `error_description="send the token in the Authorization header, not the query string"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", c.path, nil, "Authorization", c.authz)
			wantError(t, r, c.status, "")
			got := r.Header.Get("WWW-Authenticate")
			if c.challenge == "" && got != `Bearer realm="scimlab"` || !strings.Contains(got, c.challenge) || !strings.HasPrefix(got, `Bearer realm="scimlab"`) {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
		})
	}
	// Scheme is case-insensitive.
	e.must(200, "GET", "/Users", nil, "Authorization", "BEARER "+e.token)
	// With the token cached now: an encoded access_token name, and a
	// second Authorization header, are refused all the same.
	r := e.do("GET", "/Users?access%5Ftoken="+url.QueryEscape(e.token), nil, "Authorization", "Bearer "+e.token)
	wantError(t, r, 401, "")
	req := httptest.NewRequest("GET", BasePath+"/Users", nil)
	req.Header["Authorization"] = []string{"Bearer " + e.token, "Bearer scimlab_AAAA"}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "send one Authorization header") {
		t.Errorf("two Authorization headers: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}

// The token never appears in the logs, whatever happens.
func TestLogsNeverContainTokens(t *testing.T) {
	e := newEnv(t)
	e.createUser("log@example.test")
	e.do("GET", "/Users", nil, "Authorization", "Bearer "+e.token+"x")
	e.do("GET", "/Users?access_token="+e.token, nil, "Authorization", "")
	e.do("GET", "/Nope", nil)
	e.do("POST", "/Users", "{", "Authorization", "Bearer "+e.token)
	logs := e.logs.String()
	if logs == "" {
		t.Fatal("no logs captured")
	}
	if strings.Contains(logs, e.token) || strings.Contains(logs, e.token[len(auth.TokenPrefix):len(auth.TokenPrefix)+20]) {
		t.Fatalf("a token appears in the logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"authentication failed"`) {
		t.Errorf("auth failure not logged:\n%s", logs)
	}
}

// panicStore panics on Get, standing in for a bug.
type panicStore struct{ store.Store }

func (panicStore) Get(context.Context, string, string, bool) (*store.Resource, error) {
	panic("boom")
}

// failStore fails List with an unexpected error.
type failStore struct{ store.Store }

func (failStore) List(context.Context, store.Query) ([]*store.Resource, int, error) {
	return nil, 0, errors.New("disk on fire")
}

func TestPanicsAndInternalErrors(t *testing.T) {
	e := newEnvOn(t, panicStore{memory.New()})
	r := e.do("GET", "/Users/x", nil)
	wantError(t, r, 500, "")
	if !strings.Contains(e.logs.String(), `"level":"ERROR"`) || !strings.Contains(e.logs.String(), "boom") {
		t.Errorf("panic not logged at error level: %s", e.logs.String())
	}
	e2 := newEnvOn(t, failStore{memory.New()})
	r = e2.do("GET", "/Users", nil)
	se := wantError(t, r, 500, "")
	if strings.Contains(se.Detail, "disk on fire") {
		t.Errorf("internal error text leaked: %q", se.Detail)
	}
}

func TestStartLocalAndServe(t *testing.T) {
	dir := t.TempDir()
	l, err := StartLocal(context.Background(), LocalOptions{DataDSN: dir + "/scim.db", Lenient: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.BaseURL, "http://127.0.0.1:") || !strings.HasSuffix(l.BaseURL, "/scim/v2") {
		t.Errorf("BaseURL %q", l.BaseURL)
	}
	if !strings.HasPrefix(l.Token, auth.TokenPrefix) || len(l.Token) != len(auth.TokenPrefix)+43 {
		t.Errorf("token %q", l.Token)
	}
	req, _ := http.NewRequest("GET", l.BaseURL+"/ServiceProviderConfig", nil)
	req.Header.Set("Authorization", "Bearer "+l.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d", res.StatusCode)
	}
	if l.Server.Profile().Name != "rfc+lenient" {
		t.Errorf("profile %q", l.Server.Profile().Name)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := StartLocal(context.Background(), LocalOptions{Profile: "nope"}); err == nil {
		t.Error("unknown profile accepted")
	}

	// Serve: logs the base URL, answers, shuts down on cancel.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	srv, err := New(Config{Store: memory.New(), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.serveListener(ctx, ln) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"baseURL":"http://`+ln.Addr().String()+`/scim/v2"`) {
		t.Errorf("no base URL line: %s", logs.String())
	}
	if err := Serve(context.Background(), "256.0.0.1:99999", Config{Store: memory.New()}); err == nil {
		t.Error("Serve on a bad address returned nil")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no store accepted")
	}
	p, _ := profile.Get("rfc")
	p.NestedGroups = "sometimes"
	if _, err := New(Config{Store: memory.New(), Profile: p}); err == nil {
		t.Error("bad profile accepted")
	}
}

// FuzzHandler sends random requests; no client mistake may yield a 500.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ method, path, query, body string }{
		{"GET", "/Users", "filter=userName eq \"a\"", ""},
		{"POST", "/Users", "", `{"schemas":["` + scim.UserSchema + `"],"userName":"f"}`},
		{"POST", "/Groups", "", `{"schemas":["` + scim.GroupSchema + `"],"displayName":"g","members":[{"value":"x"}]}`},
		{"PATCH", "/Users/x", "", `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"add","path":"members[value eq \"x\"]","value":1}]}`},
		{"POST", "/Bulk", "", `{"schemas":["` + scim.BulkRequestSchema + `"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulkId:a"}}]}`},
		{"POST", "/.search", "", `{"schemas":["` + scim.SearchRequestSchema + `"],"startIndex":-1,"count":1e9,"sortBy":"name"}`},
		{"GET", "/Users", "sortBy=emails.value&sortOrder=descending&attributes=name&excludedAttributes=meta", ""},
		{"GET", "/Schemas/x", "", ""},
		{"PUT", "/Groups/x", "", `null`},
		{"DELETE", "/Me", "", ""},
		{"PATCH", "/Groups/{gid}", "excludedAttributes=members", `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"remove","path":"members[value eq \"{uid}\"]"},{"op":"Add","path":"members","value":[{"value":"{uid}"}]}]}`},
		{"PUT", "/Users/{uid}", "attributes=userName", `{"schemas":["` + scim.UserSchema + `"],"userName":"fuzz@example.test","active":"False","groups":[{"value":"{gid}"}]}`},
		{"GET", "/Users/{uid}", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.body)
	}
	e := newEnvOn(f, memory.New(), lenient)
	uid := e.createUser("fuzz@example.test")["id"].(string)
	gid := e.createGroup("fuzz", uid)["id"].(string)
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		path = strings.ReplaceAll(path, "{uid}", uid)
		path = strings.ReplaceAll(path, "{gid}", gid)
		body = strings.ReplaceAll(strings.ReplaceAll(body, "{uid}", uid), "{gid}", gid)
		u := &url.URL{Path: BasePath + path, RawQuery: query}
		req, err := http.NewRequest(method, "http://example.test/", strings.NewReader(body))
		if err != nil {
			return
		}
		req.URL = u
		req.RequestURI = u.RequestURI()
		req.Header.Set("Authorization", "Bearer "+e.token)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.h.ServeHTTP(w, req)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s?%s %q: no answer in 10s", method, path, query, body)
		}
		if w.Code >= 500 && w.Code != 501 {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body)
		}
	})
}

func TestNewIDIsTimeOrderedUUIDv7(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 50 {
		id := formatUUID(uuidV7(t0.Add(time.Duration(i) * 300 * time.Microsecond)))
		if !re.MatchString(id) {
			t.Fatalf("%q is not a version 7 UUID", id)
		}
		if id <= prev {
			t.Fatalf("ids made later must sort later: %q after %q", id, prev)
		}
		prev = id
	}
	if got, want := formatUUID(uuidV7(t0))[:13], "01a202b2-c500"; got != want {
		t.Errorf("timestamp prefix %q, want %q (Unix ms of %s)", got, want, t0)
	}
	if a, b := newID(), newID(); a == b {
		t.Errorf("two ids in a row are equal: %s", a)
	}
}

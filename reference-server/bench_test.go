package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store/memory"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// infoLogs logs at info level, as `scimlab serve` does by default, instead
// of the test env's debug log of every request: the handler benchmarks on
// the memory store measure what the real server spends per request.
func infoLogs(_ *profile.Profile, cfg *Config) {
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// userJSON is a ~300-byte POST /Users body, as an IdP's create sends.
func userJSON(i string) string {
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-` + i + `@example.test","name":{"givenName":"Bench","familyName":"User ` + i + `"},"emails":[{"value":"bench-` + i + `@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-` + i + `"}`
}

// BenchmarkCreateUser measures the handler's own cost of POST /Users on the
// in-memory store: go test -run '^$' -bench 'CreateUser$' -benchmem ./reference-server
func BenchmarkCreateUser(b *testing.B) {
	e := newEnvOn(b, memory.New(), infoLogs)
	benchWrites(b, e.h, e.token, "POST", 201, func(i int) (string, string) {
		return BasePath + "/Users", userJSON(strconv.Itoa(i))
	})
}

// BenchmarkTrivialHandler is what the handler benchmarks cost without the
// server: the same request and recorder, and a handler that reads the body
// and answers a fixed resource. Subtract it to get the server's own cost.
func BenchmarkTrivialHandler(b *testing.B) {
	e := newEnvOn(b, memory.New(), infoLogs)
	resp := e.createUser("bench@example.test")
	body, err := json.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			b.Error(err)
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.Header().Set("ETag", `W/"1"`)
		w.WriteHeader(201)
		w.Write(body)
	})
	benchWrites(b, h, e.token, "POST", 201, func(i int) (string, string) {
		return BasePath + "/Users", userJSON(strconv.Itoa(i))
	})
}

// BenchmarkPatchUserMem is BenchmarkPatchUser (replace active) on the
// in-memory store, without its debug log.
func BenchmarkPatchUserMem(b *testing.B) {
	benchPatchActive(b, newEnvOn(b, memory.New(), infoLogs))
}

// BenchmarkPatchGroupMem measures PATCH /Groups/{id}?excludedAttributes=members
// adding one member (then removing it), as an IdP's group push does, on the
// in-memory store.
func BenchmarkPatchGroupMem(b *testing.B) {
	e := newEnvOn(b, memory.New(), infoLogs)
	uid := e.createUser("bench@example.test")["id"].(string)
	gid := e.createGroup("bench")["id"].(string)
	bodies := [2]string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + uid + `"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + uid + `\"]"}]}`,
	}
	benchWrites(b, e.h, e.token, "PATCH", 200, func(i int) (string, string) {
		return BasePath + "/Groups/" + gid + "?excludedAttributes=members", bodies[i%2]
	})
}

// BenchmarkGetUserMem and BenchmarkLookupMem are BenchmarkGetUser and
// BenchmarkLookup on the in-memory store, without the debug log.
func BenchmarkGetUserMem(b *testing.B) {
	e := newEnvOn(b, memory.New(), infoLogs)
	id := e.createUser("bench@example.test")["id"].(string)
	req := httptest.NewRequest("GET", BasePath+"/Users/"+id, nil)
	benchServe(b, e, req, 200)
}

func BenchmarkLookupMem(b *testing.B) {
	e := newEnvOn(b, memory.New(), infoLogs)
	e.createUser("bench@example.test")
	req := httptest.NewRequest("GET", BasePath+"/Users?filter="+url.QueryEscape(`userName eq "bench@example.test"`), nil)
	benchServe(b, e, req, 200)
}

// BenchmarkGetUser measures the server's own cost of GET /Users/{id}
// (no network): go test -bench GetUser -benchmem ./reference-server
func BenchmarkGetUser(b *testing.B) {
	e := newEnv(b)
	id := e.createUser("bench@example.test")["id"].(string)
	req := httptest.NewRequest("GET", BasePath+"/Users/"+id, nil)
	benchServe(b, e, req, 200)
}

// BenchmarkLookup measures GET /Users?filter=userName eq "…".
func BenchmarkLookup(b *testing.B) {
	e := newEnv(b)
	e.createUser("bench@example.test")
	req := httptest.NewRequest("GET", BasePath+"/Users?filter="+url.QueryEscape(`userName eq "bench@example.test"`), nil)
	benchServe(b, e, req, 200)
}

// BenchmarkPage measures one page of 100 users.
func BenchmarkPage(b *testing.B) {
	e := newEnv(b)
	for i := range 200 {
		e.createUser(url.PathEscape(string(rune('a'+i%26))) + "-" + string(rune('0'+i/26)) + "@example.test")
	}
	req := httptest.NewRequest("GET", BasePath+"/Users?startIndex=51&count=100", nil)
	benchServe(b, e, req, 200)
}

// BenchmarkPatchUser measures PATCH /Users/{id} (replace active) on the
// in-memory SQLite store.
func BenchmarkPatchUser(b *testing.B) {
	benchPatchActive(b, newEnv(b))
}

// BenchmarkPatchUserParallel runs PATCHes on many users from parallel
// goroutines, as concurrent IdP requests would.
func BenchmarkPatchUserParallel(b *testing.B) {
	e := newEnv(b)
	var ids []string
	for i := range 64 {
		ids = append(ids, e.createUser(strings.Repeat("p", 1+i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.test")["id"].(string))
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t` + strconv.FormatInt(i, 10) + `"}]}`
			req := httptest.NewRequest("PATCH", BasePath+"/Users/"+ids[i%int64(len(ids))], strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.token)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code, w.Body)
			}
		}
	})
}

// BenchmarkCreateUserParallel runs POST /Users from parallel goroutines on a
// durable SQLite file store (WAL, synchronous=FULL), as the load command does.
func BenchmarkCreateUserParallel(b *testing.B) {
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	e := newEnvOn(b, st)
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := strconv.FormatInt(n.Add(1), 10)
			req := httptest.NewRequest("POST", BasePath+"/Users", strings.NewReader(userJSON(i)))
			req.Header.Set("Authorization", "Bearer "+e.token)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, req)
			if w.Code != 201 {
				b.Fatal(w.Code, w.Body)
			}
		}
	})
	if s := st.Stats(); s.Commits > 0 {
		b.ReportMetric(float64(s.Requests)/float64(s.Commits), "requests/commit")
	}
}

// benchServe serves the same bodiless request over and over, failing on any
// status but want.
func benchServe(b *testing.B, e *env, req *http.Request, want int) {
	b.Helper()
	req.Header.Set("Authorization", "Bearer "+e.token)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatal(w.Code, w.Body)
		}
	}
}

// benchWrites sends the request next(i) describes, i = 0, 1, …, to h over
// and over, failing on any status but want.
func benchWrites(b *testing.B, h http.Handler, token, method string, want int, next func(i int) (path, body string)) {
	b.Helper()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		path, body := next(i)
		i++
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			b.Fatal(w.Code, w.Body)
		}
	}
}

// benchPatchActive PATCHes one user's active to false and true in turn.
func benchPatchActive(b *testing.B, e *env) {
	b.Helper()
	id := e.createUser("bench@example.test")["id"].(string)
	bodies := [2]string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}`,
	}
	benchWrites(b, e.h, e.token, "PATCH", 200, func(i int) (string, string) {
		return BasePath + "/Users/" + id, bodies[i%2]
	})
}

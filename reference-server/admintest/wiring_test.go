package admintest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// Every SCIM request without a valid credential is 401 with a SCIM Error
// body and a Bearer challenge that tells the reasons apart (RFC 6750 §3).
func TestUnauthorizedBodiesAndChallenges(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "resolver")
	expired, _, err := e.mgr.Create(ctx, auth.CreateRequest{Name: "old", Account: "svc-old"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(730 * auth.Day)
	revoked, tok, _ := e.mgr.Create(ctx, auth.CreateRequest{Name: "gone", Account: "svc"})
	if _, err := e.mgr.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	left, _, _ := e.mgr.Create(ctx, auth.CreateRequest{Name: "left", Account: "svc-left"})
	if _, err := e.mgr.DeactivateAccount(ctx, "svc-left"); err != nil {
		t.Fatal(err)
	}
	good, _, _ := e.mgr.Create(ctx, auth.CreateRequest{Name: "good", Account: "svc"})
	tests := []struct {
		name, authz, path string
		status            int
		challenge, detail string
	}{
		{"none", "", "/scim/v2/Users", 401, `Bearer realm="scimlab"`, "authentication required"},
		{"unknown", "Bearer scimlab_nope", "/scim/v2/Users", 401, `error="invalid_token", error_description="the token is not known to this server"`, "not valid"},
		{"expired", "Bearer " + expired, "/scim/v2/Users", 401, `error="invalid_token", error_description="the token has expired"`, "expired"},
		{"revoked", "Bearer " + revoked, "/scim/v2/Groups", 401, `error="invalid_token", error_description="the token has been revoked"`, "revoked"},
		{"account deactivated", "Bearer " + left, "/scim/v2/Users", 401, `error="invalid_token", error_description="the token's service account has been deactivated"`, "deactivated"},
		{"basic not allowed", "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:pw")), "/scim/v2/Users", 401, `Bearer realm="scimlab"`, "authentication required"},
		{"query string", "", "/scim/v2/Users?access_token=" + url.QueryEscape(good), 401, `error="invalid_token"`, "query string"},
		{"empty bearer", "Bearer ", "/scim/v2/Users", 401, `error="invalid_token", error_description="the bearer token is empty"`, "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.authz, nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, scim.MediaType) {
				t.Errorf("Content-Type %q", ct)
			}
			se := r.scimError(t)
			if se.Status != tc.status || !strings.Contains(se.Detail, tc.detail) {
				t.Errorf("SCIM Error %+v, want status %d and a detail with %q", se, tc.status, tc.detail)
			}
			ch := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer realm="scimlab"`) || !strings.Contains(ch, tc.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", ch, tc.challenge)
			}
			// RFC 6750 §3.1: a request without credentials gets no error code.
			if tc.challenge == auth.BearerChallenge && ch != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", ch, tc.challenge)
			}
		})
	}
	if r := e.do("GET", "/scim/v2/Users", "Bearer "+good, nil); r.status != 200 {
		t.Fatalf("good token: %d %s", r.status, r.body)
	}
	// Discovery follows the profile: behind auth by default.
	if r := e.do("GET", "/scim/v2/ServiceProviderConfig", "", nil); r.status != 401 {
		t.Errorf("discovery without a token under rfc: %d", r.status)
	}
	e2 := newEnv(t, "rfc", func(c *server.Config) { c.Profile.DiscoveryWithoutAuth = true })
	if r := e2.do("GET", "/scim/v2/ServiceProviderConfig", "", nil); r.status != 200 {
		t.Errorf("discovery without a token when the profile allows it: %d", r.status)
	}
}

// Deactivating a service account invalidates its tokens at once, also
// within the server's token cache, when done through the admin page.
func TestAccountDeactivationThroughAdminIsImmediate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "resolver")
	secret, _, err := e.mgr.Create(ctx, auth.CreateRequest{Name: "okta", Account: "svc-okta"})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/scim/v2/Users", "Bearer "+secret, nil); r.status != 200 {
		t.Fatal(r.status)
	}
	c := newAdminClient(t, e.url)
	c.post("/admin/accounts/svc-okta/deactivate", nil)
	r := e.do("GET", "/scim/v2/Users", "Bearer "+secret, nil)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "deactivated") {
		t.Fatalf("right after deactivation: %d %s", r.status, r.header.Get("WWW-Authenticate"))
	}
	c.post("/admin/accounts/svc-okta/activate", nil)
	if r := e.do("GET", "/scim/v2/Users", "Bearer "+secret, nil); r.status != 200 {
		t.Fatalf("after reactivation: %d", r.status)
	}
}

// A token's emailDomains scope: creating or updating a user outside it is
// 403 with a SCIM Error naming the domain (Resolver, idp-traffic.md §2.3).
func TestEmailDomainsScope(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "resolver")
	secret, _, err := e.mgr.Create(ctx, auth.CreateRequest{Account: "svc", EmailDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + secret
	user := func(name string, emails ...string) map[string]any {
		u := map[string]any{"schemas": []string{scim.UserSchema}, "userName": name}
		var es []any
		for _, m := range emails {
			es = append(es, map[string]any{"value": m})
		}
		if es != nil {
			u["emails"] = es
		}
		return u
	}
	forbidden := func(r resp, domain string) {
		t.Helper()
		if r.status != 403 {
			t.Fatalf("status %d, want 403: %s", r.status, r.body)
		}
		if se := r.scimError(t); se.Status != 403 || !strings.Contains(se.Detail, domain) {
			t.Errorf("SCIM Error %+v does not name %s", se, domain)
		}
	}
	forbidden(e.do("POST", "/scim/v2/Users", bearer, user("mallory@evil.test")), "evil.test")
	forbidden(e.do("POST", "/scim/v2/Users", bearer, user("mallory@example.com", "mallory@evil.test")), "evil.test")
	r := e.do("POST", "/scim/v2/Users", bearer, user("bjensen@example.com", "bjensen@example.com"))
	if r.status != 201 {
		t.Fatalf("create inside the scope: %d %s", r.status, r.body)
	}
	var created map[string]any
	json.Unmarshal(r.body, &created)
	id, _ := created["id"].(string)
	forbidden(e.do("PUT", "/scim/v2/Users/"+id, bearer, user("bjensen@example.com", "bj@other.test")), "other.test")
	forbidden(e.do("PATCH", "/scim/v2/Users/"+id, bearer, map[string]any{
		"schemas":    []string{scim.PatchOpSchema},
		"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": "bj@patch.test"}},
	}), "patch.test")
	if r := e.do("PATCH", "/scim/v2/Users/"+id, bearer, map[string]any{
		"schemas":    []string{scim.PatchOpSchema},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Barbara"}},
	}); r.status != 200 && r.status != 204 {
		t.Errorf("a PATCH inside the scope: %d %s", r.status, r.body)
	}
	// A user outside the scope, created with an unscoped token, can be
	// neither pulled into the scope nor changed nor deleted by the scoped one.
	unscoped, _, err := e.mgr.Create(ctx, auth.CreateRequest{Name: "all", Account: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	r = e.do("POST", "/scim/v2/Users", "Bearer "+unscoped, user("outsider", "o@other.test"))
	if r.status != 201 {
		t.Fatalf("unscoped create: %d %s", r.status, r.body)
	}
	var out map[string]any
	json.Unmarshal(r.body, &out)
	oid, _ := out["id"].(string)
	patchOp := func(op, path string, value any) map[string]any {
		o := map[string]any{"op": op, "path": path}
		if value != nil {
			o["value"] = value
		}
		return map[string]any{"schemas": []string{scim.PatchOpSchema}, "Operations": []any{o}}
	}
	forbidden(e.do("PATCH", "/scim/v2/Users/"+oid, bearer, patchOp("replace", "emails", []any{map[string]any{"value": "o@example.com"}})), "other.test")
	forbidden(e.do("PUT", "/scim/v2/Users/"+oid, bearer, user("new", "o@example.com")), "other.test")
	forbidden(e.do("PATCH", "/scim/v2/Users/"+oid, bearer, patchOp("remove", "emails", nil)), "other.test")
	forbidden(e.do("PATCH", "/scim/v2/Users/"+oid, bearer, patchOp("replace", "active", false)), "other.test")
	forbidden(e.do("DELETE", "/scim/v2/Users/"+oid, bearer, nil), "other.test")
	r = e.do("POST", "/scim/v2/Bulk", bearer, map[string]any{
		"schemas":    []string{scim.BulkRequestSchema},
		"Operations": []any{map[string]any{"method": "DELETE", "path": "/Users/" + oid}},
	})
	if r.status != 200 || !strings.Contains(string(r.body), `"403"`) {
		t.Errorf("a Bulk DELETE outside the scope: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/scim/v2/Users/"+oid, "Bearer "+unscoped, nil); r.status != 200 || !strings.Contains(string(r.body), "o@other.test") {
		t.Errorf("the outsider changed: %d %s", r.status, r.body)
	}
	// Reads are not limited by the scope, as the list is not.
	if r := e.do("GET", "/scim/v2/Users/"+oid, bearer, nil); r.status != 200 {
		t.Errorf("GET of a user outside the scope: %d", r.status)
	}
	if r := e.do("DELETE", "/scim/v2/Users/"+id, bearer, nil); r.status != 204 {
		t.Errorf("DELETE inside the scope: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/scim/v2/Bulk", bearer, map[string]any{
		"schemas": []string{scim.BulkRequestSchema},
		"Operations": []any{map[string]any{"method": "POST", "path": "/Users", "bulkId": "u1",
			"data": user("eve@bulk.test")}},
	})
	if r.status != 200 || !strings.Contains(string(r.body), `"status":"403"`) || !strings.Contains(string(r.body), "bulk.test") {
		t.Errorf("bulk create outside the scope: %d %s", r.status, r.body)
	}
	// A token without a scope manages any domain.
	free, _, _ := e.mgr.Create(ctx, auth.CreateRequest{Account: "svc2"})
	if r := e.do("POST", "/scim/v2/Users", "Bearer "+free, user("x@anywhere.test")); r.status != 201 {
		t.Errorf("unscoped token: %d %s", r.status, r.body)
	}
}

// Basic is accepted only when the profile allows it and a credential is set.
func TestBasicAuthThroughServer(t *testing.T) {
	ctx := context.Background()
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	e := newEnv(t, "alation")
	const pw = "Alation-style-pass-1!"
	// The profile accepts both schemes, so a 401 offers both (RFC 7235 §4.1).
	if r := e.do("GET", "/scim/v2/Users", basic("svc", pw), nil); r.status != 401 || fmt.Sprint(r.header.Values("WWW-Authenticate")) != `[Bearer realm="scimlab" Basic realm="scimlab", charset="UTF-8"]` {
		t.Fatalf("no credential set: %d %q", r.status, r.header.Values("WWW-Authenticate"))
	}
	if err := e.mgr.SetBasic(ctx, "svc", pw); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/scim/v2/Users", basic("svc", pw), nil); r.status != 200 {
		t.Fatalf("good basic credential: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/scim/v2/Users", basic("svc", "wrong"), nil)
	if ch := r.header.Values("WWW-Authenticate"); r.status != 401 || len(ch) != 2 || !strings.HasPrefix(ch[0], "Basic ") || !strings.HasPrefix(ch[1], "Bearer ") {
		t.Fatalf("wrong basic credential: %d %q", r.status, ch)
	}
	if strings.Contains(e.logs.String(), pw) {
		t.Error("the password is in the log")
	}
}

// Serve runs the expiry notifier: a notice reaches the webhook and the
// notice list once, however many checks run.
func TestServeRunsNotifier(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "scimlab.db")
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := auth.NewManualClock(t0)
	p, err := profile.Get("alation")
	if err != nil {
		t.Fatal(err)
	}
	m := &auth.Manager{Store: st, Policy: p.Tokens, Now: clk.Now}
	_, tok, err := m.Create(ctx, auth.CreateRequest{Name: "okta", TTL: 30 * auth.Day})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(tok.Expires.Add(-15 * auth.Day))
	var hits atomic.Int32
	got := make(chan auth.Notice, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n auth.Notice
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &n); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		hits.Add(1)
		got <- n
	}))
	defer hook.Close()
	done := make(chan error, 1)
	go func() {
		done <- server.Serve(ctx, "127.0.0.1:0", server.Config{Store: st, Profile: p, Now: clk.Now,
			NotifyWebhook: hook.URL, NotifyInterval: 5 * time.Millisecond})
	}()
	select {
	case n := <-got:
		if n.TokenID != tok.ID || n.Offset != auth.Before(15) {
			t.Errorf("notice %+v", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notice reached the webhook")
	}
	time.Sleep(50 * time.Millisecond) // several more checks
	if hits.Load() != 1 {
		t.Errorf("webhook called %d times, want once", hits.Load())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ns, err := auth.Notices(context.Background(), st)
	if err != nil || len(ns) != 1 {
		t.Errorf("notices: %+v %v", ns, err)
	}
}

package admintest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
)

// Two admin pages over one PostgreSQL database, each with its own
// connection pool as two `serve` replicas have: a session opened on one is
// good on the other, a password set by a third process ends it on both, and
// the lockout counts the failures of both. Skipped without
// SCIMLAB_TEST_POSTGRES.
func TestAdminReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	open := func() *postgres.Store {
		st, err := postgres.Open(dsn)
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	p, _ := auth.BuiltinPolicy("rfc")
	tool := &auth.Manager{Store: open(), Policy: p, BcryptCost: 4}
	if err := tool.SetAdminPassword(ctx, adminPassword); err != nil {
		t.Fatal(err)
	}
	var srv [2]*httptest.Server
	for i := range srv {
		srv[i] = httptest.NewServer(auth.NewAdmin(auth.AdminConfig{Store: open(), Policy: p}))
		t.Cleanup(srv[i].Close)
	}
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The jar is per host; both servers are 127.0.0.1, so it carries the
	// cookie from one replica to the other, as a load balancer's one name does.
	login := func(on int, pw string) int {
		resp, err := cl.PostForm(srv[on].URL+"/admin/login", url.Values{"password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	notices := func(on int) int {
		resp, err := cl.Get(srv[on].URL + "/admin/api/notices")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := login(0, adminPassword); code != http.StatusSeeOther {
		t.Fatalf("login on replica 0: %d", code)
	}
	if code := notices(1); code != http.StatusOK {
		t.Errorf("replica 1 with replica 0's session: %d, want 200", code)
	}
	if err := tool.SetAdminPassword(ctx, "a new admin password"); err != nil {
		t.Fatal(err)
	}
	for i := range srv {
		if code := notices(i); code != http.StatusUnauthorized {
			t.Errorf("replica %d after the password change: %d, want 401", i, code)
		}
	}
	for i := range 10 {
		if code := login(i%2, "guess"); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	for i := range srv {
		if code := login(i, "a new admin password"); code != http.StatusTooManyRequests {
			t.Errorf("replica %d after 10 failures spread over both: %d, want 429", i, code)
		}
	}
}

package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// noticesStatus is the status of GET /admin/api/notices with c's cookie.
func noticesStatus(c *adminClient) int {
	return c.do("GET", "/admin/api/notices", nil).Code
}

func loggedIn(c *adminClient) bool {
	body, _ := c.page()
	return strings.Contains(body, "SCIM tokens")
}

// A new admin password, set by any process on the store, ends every session
// opened with the old one on its next request (page, API and POSTs alike).
func TestAdminPasswordChangeEndsSessions(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "rfc")
	if err := m.SetAdminPassword(ctx, "first admin password"); err != nil {
		t.Fatal(err)
	}
	c := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy})}
	c.login("first admin password")
	_, csrf := c.page()
	if !loggedIn(c) || noticesStatus(c) != 200 {
		t.Fatal("the new session does not work")
	}
	// Another process: its own Manager over the same store.
	other := &Manager{Store: m.Store, Policy: m.Policy, BcryptCost: 4}
	if err := other.SetAdminPassword(ctx, "second admin password"); err != nil {
		t.Fatal(err)
	}
	if loggedIn(c) {
		t.Error("GET /admin: the session outlived the password change")
	}
	if code := noticesStatus(c); code != http.StatusUnauthorized {
		t.Errorf("GET /admin/api/notices with the old session: %d, want 401", code)
	}
	if w := c.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"x"}}); w.Code != http.StatusUnauthorized {
		t.Errorf("POST /admin/tokens with the old session: %d, want 401", w.Code)
	}
	// Setting the same password again is a change too (a new bcrypt hash).
	c.login("second admin password")
	if err := other.SetAdminPassword(ctx, "second admin password"); err != nil {
		t.Fatal(err)
	}
	if loggedIn(c) {
		t.Error("the session outlived setting the password again")
	}
	c.login("second admin password")
	if !loggedIn(c) {
		t.Error("a login with the new password does not work")
	}
}

// With --admin-password-file, a server started with another password does
// not take the sessions of the old one.
func TestAdminPlainPasswordChangeEndsSessions(t *testing.T) {
	m, _ := newManager(t, "rfc")
	c := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Password: "first admin password"})}
	c.login("first admin password")
	same := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Password: "first admin password"}), cookie: c.cookie}
	if !loggedIn(same) {
		t.Error("a restart with the same password ended the session")
	}
	changed := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Password: "second admin password"}), cookie: c.cookie}
	if loggedIn(changed) || noticesStatus(changed) != http.StatusUnauthorized {
		t.Error("a restart with another password kept the session")
	}
	// The store holds neither the cookie nor the password.
	kv, err := m.Store.SettingsWithPrefix(context.Background(), "admin/")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kv {
		if strings.Contains(k+v, c.cookie.Value) || strings.Contains(k+v, "first admin password") {
			t.Errorf("setting %s=%s holds the cookie or the password", k, v)
		}
	}
}

// Replicas sharing a store share sessions (a cookie from one works on the
// other, and a logout on one ends it on both) and the lockout: failures on
// both count together.
func TestAdminSessionsAndLockoutAcrossReplicas(t *testing.T) {
	m, _ := newManager(t, "rfc")
	cfg := AdminConfig{Store: m.Store, Policy: m.Policy, Password: "correct horse battery"}
	a := &adminClient{t: t, h: NewAdmin(cfg)}
	b := &adminClient{t: t, h: NewAdmin(cfg)}
	a.login("correct horse battery")
	b.cookie = a.cookie
	if !loggedIn(b) || noticesStatus(b) != 200 {
		t.Fatal("replica B does not know replica A's session")
	}
	_, csrf := b.page()
	if w := b.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"okta"}, "ttl": {"90d"}}); w.Code != http.StatusSeeOther {
		t.Errorf("POST on B with A's session: %d", w.Code)
	}
	if w := b.do("POST", "/admin/logout", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", w.Code)
	}
	if loggedIn(a) {
		t.Error("the session survived a logout on the other replica")
	}

	for i := range maxLoginFailures {
		c := a
		if i%2 == 1 {
			c = b
		}
		if w := c.do("POST", "/admin/login", url.Values{"password": {"guess"}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, w.Code)
		}
	}
	for name, c := range map[string]*adminClient{"A": a, "B": b} {
		if w := c.do("POST", "/admin/login", url.Values{"password": {"correct horse battery"}}); w.Code != http.StatusTooManyRequests {
			t.Errorf("replica %s after %d failures spread over both: %d, want 429", name, maxLoginFailures, w.Code)
		}
		r := httptest.NewRequest("GET", "/admin/api/notices", nil)
		r.SetBasicAuth("admin", "correct horse battery")
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, r)
		if w.Code != http.StatusTooManyRequests {
			t.Errorf("replica %s, Basic: %d, want 429", name, w.Code)
		}
	}
}

package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// adminClient drives the admin handler in memory, keeping its session cookie.
type adminClient struct {
	t      *testing.T
	h      http.Handler
	cookie *http.Cookie
}

func (c *adminClient) do(method, path string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	c.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, path, nil)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if c.cookie != nil {
		r.AddCookie(c.cookie)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == AdminCookie {
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	return w
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var secretRE = regexp.MustCompile(`id="token-value" value="(scimlab_[A-Za-z0-9_-]+)"`)

func (c *adminClient) page() (body, csrf string) {
	c.t.Helper()
	w := c.do("GET", "/admin", nil)
	if w.Code != 200 {
		c.t.Fatalf("GET /admin: %d", w.Code)
	}
	body = w.Body.String()
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		csrf = m[1]
	}
	return body, csrf
}

func (c *adminClient) login(pw string) {
	c.t.Helper()
	w := c.do("POST", "/admin/login", url.Values{"password": {pw}})
	if w.Code != http.StatusSeeOther || c.cookie == nil {
		c.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
}

func newAdmin(t *testing.T, policy string) (*adminClient, *Manager, *ManualClock, *atomic.Int32) {
	t.Helper()
	m, clk := newManager(t, policy)
	var changes atomic.Int32
	h := NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Profile: policy, Now: clk.Now, Password: "correct horse battery", OnChange: func() { changes.Add(1) }})
	return &adminClient{t: t, h: h}, m, clk, &changes
}

func TestAdminLoginAndSession(t *testing.T) {
	c, m, _, _ := newAdmin(t, "rfc")
	body, _ := c.page()
	if !strings.Contains(body, `name="password"`) || strings.Contains(body, "SCIM tokens") {
		t.Fatal("not logged in: want the login form only")
	}
	if w := c.do("POST", "/admin/login", url.Values{"password": {"wrong"}}); w.Code != 401 || c.cookie != nil {
		t.Fatalf("wrong password: %d, cookie %v", w.Code, c.cookie)
	}
	c.login("correct horse battery")
	ck := c.cookie
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/admin" || len(ck.Value) < 40 {
		t.Errorf("session cookie = %+v; want HttpOnly, SameSite=Strict, Path /admin, random", ck)
	}
	w := c.do("GET", "/admin", nil)
	for _, h := range []string{"Cache-Control", "Content-Security-Policy", "X-Frame-Options"} {
		if w.Header().Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.Contains(w.Body.String(), "SCIM tokens") {
		t.Fatal("logged in: no token section")
	}
	// A forged cookie is not a session.
	other := &adminClient{t: t, h: c.h, cookie: &http.Cookie{Name: AdminCookie, Value: "forged"}}
	if body, _ := other.page(); strings.Contains(body, "SCIM tokens") {
		t.Error("a forged cookie was accepted")
	}
	_, csrf := c.page()
	if w := c.do("POST", "/admin/logout", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", w.Code)
	}
	c.cookie = ck // replaying the old cookie after logout
	if body, _ := c.page(); strings.Contains(body, "SCIM tokens") {
		t.Error("the session survived logout")
	}

	// Server-side expiry.
	short := NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Password: "correct horse battery", SessionTTL: time.Millisecond})
	c2 := &adminClient{t: t, h: short}
	c2.login("correct horse battery")
	time.Sleep(5 * time.Millisecond)
	if body, _ := c2.page(); strings.Contains(body, "SCIM tokens") {
		t.Error("an expired session was accepted")
	}

	// Failed logins are throttled (on a store of its own: the count is the
	// store's, shared by every handler over it).
	tm, _ := newManager(t, "rfc")
	th := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: tm.Store, Policy: tm.Policy, Password: "correct horse battery"})}
	for i := range maxLoginFailures {
		if w := th.do("POST", "/admin/login", url.Values{"password": {"guess"}}); w.Code != 401 {
			t.Fatalf("failure %d: %d", i, w.Code)
		}
	}
	if w := th.do("POST", "/admin/login", url.Values{"password": {"correct horse battery"}}); w.Code != http.StatusTooManyRequests || th.cookie != nil {
		t.Errorf("after %d failures: %d, want 429", maxLoginFailures, w.Code)
	}

	// Without a password, nobody gets in, and the page says how to set one.
	none := &adminClient{t: t, h: NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy})}
	if body, _ := none.page(); !strings.Contains(body, "scimlab token admin set") {
		t.Error("the unconfigured page does not say how to set a password")
	}
	if w := none.do("POST", "/admin/login", url.Values{"password": {""}}); w.Code != 401 {
		t.Errorf("empty password without configuration: %d", w.Code)
	}
	// The stored bcrypt hash works too.
	if err := m.SetAdminPassword(context.Background(), "stored admin password"); err != nil {
		t.Fatal(err)
	}
	none.login("stored admin password")
}

func TestAdminCSRF(t *testing.T) {
	c, m, _, _ := newAdmin(t, "rfc")
	c.login("correct horse battery")
	_, csrf := c.page()
	if csrf == "" {
		t.Fatal("no CSRF field on the page")
	}
	form := func(tok string) url.Values { return url.Values{"csrf": {tok}, "name": {"ci"}, "ttl": {"90d"}} }
	tests := []struct {
		name string
		form url.Values
		hdr  []string
		code int
	}{
		{"no token", url.Values{"name": {"ci"}}, nil, 403},
		{"wrong token", form("x" + csrf), nil, 403},
		{"cross-origin Origin", form(csrf), []string{"Origin", "https://evil.test"}, 403},
		{"cross-site fetch", form(csrf), []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-origin", form(csrf), []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://example.com"}, 303},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := c.do("POST", "/admin/tokens", tc.form, tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.code, w.Body)
			}
		})
	}
	ts, _ := m.List(context.Background())
	if len(ts) != 1 {
		t.Errorf("%d tokens created, want only the same-origin one", len(ts))
	}
	// Without a session, a POST is refused before anything else.
	anon := &adminClient{t: t, h: c.h}
	if w := anon.do("POST", "/admin/tokens", form(csrf)); w.Code != 401 {
		t.Errorf("POST without a session: %d", w.Code)
	}
}

// Generate shows the token once; it works; revoke stops it; Alation's
// banner shows from 15 days before expiry until the token is replaced.
func TestAdminGenerateRevokeAndBanner(t *testing.T) {
	ctx := context.Background()
	c, m, clk, changes := newAdmin(t, "alation")
	a := authn(m)
	c.login("correct horse battery")
	body, csrf := c.page()
	for _, label := range []string{"1 month", "6 months"} {
		if !strings.Contains(body, ">"+label+"</option>") {
			t.Errorf("the validity dropdown lacks %q", label)
		}
	}
	if !strings.Contains(body, "immediately revokes") {
		t.Error("the page does not warn that a new token replaces the old one")
	}
	if w := c.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"okta"}, "ttl": {"30d"}}); w.Code != 303 {
		t.Fatalf("generate: %d", w.Code)
	}
	body, _ = c.page()
	sm := secretRE.FindStringSubmatch(body)
	if sm == nil {
		t.Fatalf("no token in the dialog:\n%s", body)
	}
	secret := html.UnescapeString(sm[1])
	if !strings.Contains(body, "will not be shown again") || !strings.Contains(body, "navigator.clipboard") {
		t.Error("the dialog lacks its warning or copy button")
	}
	if err := verify(a, secret); err != nil {
		t.Fatalf("the generated token does not work: %v", err)
	}
	if body, _ = c.page(); strings.Contains(body, secret) {
		t.Fatal("the token was shown a second time")
	}
	if changes.Load() != 1 {
		t.Errorf("OnChange called %d times, want 1", changes.Load())
	}
	ts, _ := m.List(ctx)
	tok := ts[0]
	if !tok.Expires.Equal(t0.Add(30 * Day)) {
		t.Errorf("expires %v, want 30 days", tok.Expires)
	}

	clk.Set(tok.Expires.Add(-15*Day - time.Second))
	if body, _ = c.page(); strings.Contains(body, `class="banner`) {
		t.Error("banner before the 15-day window")
	}
	clk.Set(tok.Expires.Add(-14 * Day))
	body, csrf = c.page()
	if !strings.Contains(body, `class="banner"`) || !strings.Contains(body, "in 14 days") || !strings.Contains(body, "okta") {
		t.Errorf("no banner 14 days before expiry:\n%s", body)
	}
	clk.Set(tok.Expires.Add(time.Hour))
	if body, _ = c.page(); !strings.Contains(body, `class="banner expired"`) {
		t.Error("no banner after expiry")
	}
	// A bad ttl is refused with the policy's message.
	c.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "ttl": {"45d"}})
	if body, _ = c.page(); !strings.Contains(body, "45d is not offered") {
		t.Error("a refused ttl is not explained")
	}
	// Replacing the token ends the banner.
	c.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"okta-2"}, "ttl": {"180d"}})
	body, _ = c.page()
	if strings.Contains(body, `class="banner`) || !strings.Contains(body, "was revoked: it is replaced") {
		t.Errorf("after replacing: banner still shown or replacement not reported:\n%s", body)
	}
	newSecret := html.UnescapeString(secretRE.FindStringSubmatch(body)[1])
	ts, _ = m.List(ctx)
	id := ts[1].ID
	if w := c.do("POST", "/admin/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}}); w.Code != 303 {
		t.Fatalf("revoke: %d", w.Code)
	}
	if err := verify(a, newSecret); err == nil {
		t.Error("the revoked token still works")
	}
	if body, _ = c.page(); !strings.Contains(body, "revoked.") {
		t.Error("no confirmation of the revocation")
	}
}

func TestAdminAccountsAndNoticesAPI(t *testing.T) {
	ctx := context.Background()
	c, m, clk, _ := newAdmin(t, "resolver")
	a := authn(m)
	secret, tok := mustCreate(t, m, CreateRequest{Name: "okta", Account: "svc-okta"})
	c.login("correct horse battery")
	body, csrf := c.page()
	if !strings.Contains(body, "svc-okta") || !strings.Contains(body, "Deactivate") {
		t.Fatal("no accounts section")
	}
	c.do("POST", "/admin/accounts/svc-okta/deactivate", url.Values{"csrf": {csrf}})
	if err := verify(a, secret); err == nil {
		t.Fatal("a deactivated account's token still works")
	}
	c.do("POST", "/admin/accounts/svc-okta/activate", url.Values{"csrf": {csrf}})
	if err := verify(a, secret); err != nil {
		t.Fatal(err)
	}

	clk.Set(tok.Expires.Add(-Day))
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now}
	if _, err := n.Check(ctx); err != nil {
		t.Fatal(err)
	}
	anon := &adminClient{t: t, h: c.h}
	if w := anon.do("GET", "/admin/api/notices", nil); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("notices without credential: %d", w.Code)
	}
	r := httptest.NewRequest("GET", "/admin/api/notices", nil)
	r.SetBasicAuth("admin", "wrong")
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	if w.Code != 401 {
		t.Fatalf("notices with a wrong password: %d", w.Code)
	}
	r.SetBasicAuth("admin", "correct horse battery")
	w = httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	var got struct{ Notices []Notice }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil || len(got.Notices) != 1 || got.Notices[0].TokenID != tok.ID {
		t.Fatalf("notices with Basic: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), tok.Hash) {
		t.Error("the notices carry the token or its hash")
	}
	if w := c.do("GET", "/admin/api/notices", nil); w.Code != 200 || !strings.Contains(w.Body.String(), tok.ID) {
		t.Errorf("notices with the session: %d", w.Code)
	}
	if w := c.do("GET", "/admin/nothing", nil); w.Code != 404 {
		t.Errorf("unknown admin path: %d", w.Code)
	}
}

// The banner counts the days left rounded up, and it goes once a newer token
// replaces the expiring one, as it does for an expired one.
func TestAdminBannerDaysAndReplacement(t *testing.T) {
	c, m, clk, _ := newAdmin(t, "rfc")
	_, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 30 * Day})
	c.login("correct horse battery")
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{23*time.Hour + 59*time.Minute, "(in 1 day)"},
		{time.Second, "(in 1 day)"},
		{Day, "(in 1 day)"},
		{Day + time.Second, "(in 2 days)"},
		{14*Day - time.Second, "(in 14 days)"},
		{14 * Day, "(in 14 days)"},
	} {
		clk.Set(tok.Expires.Add(-tc.left))
		if body, _ := c.page(); !strings.Contains(body, tc.want) {
			t.Errorf("%v before expiry: no %q in the banner", tc.left, tc.want)
		}
	}
	clk.Set(tok.Expires.Add(-8 * Day))
	mustCreate(t, m, CreateRequest{Name: "okta", Account: "svc-entra", TTL: 90 * Day})
	if body, _ := c.page(); !strings.Contains(body, `class="banner"`) {
		t.Error("another account's token took the banner away")
	}
	mustCreate(t, m, CreateRequest{Name: "okta-2", TTL: 90 * Day})
	if body, _ := c.page(); strings.Contains(body, `class="banner`) {
		t.Errorf("the banner stays after the token was replaced:\n%s", body)
	}
}

// Every path that checks the admin password shares one throttle: failures on
// the login form lock out HTTP Basic on /admin/api/notices, and the other
// way round, even for the right password.
func TestAdminPasswordThrottleCoversEveryPath(t *testing.T) {
	const right = "correct horse battery"
	form := func(c *adminClient, pw string) int {
		return c.do("POST", "/admin/login", url.Values{"password": {pw}}).Code
	}
	basic := func(c *adminClient, pw string) int {
		r := httptest.NewRequest("GET", "/admin/api/notices", nil)
		r.SetBasicAuth("admin", pw)
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, r)
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return w.Code
	}
	paths := map[string]func(*adminClient, string) int{"login form": form, "basic on notices": basic}
	for failName, failOn := range paths {
		for checkName, checkOn := range paths {
			t.Run(failName+" then "+checkName, func(t *testing.T) {
				c, _, _, _ := newAdmin(t, "rfc")
				for i := range maxLoginFailures {
					if code := failOn(c, fmt.Sprintf("guess %d", i)); code != http.StatusUnauthorized {
						t.Fatalf("failure %d: %d, want 401", i, code)
					}
				}
				if code := checkOn(c, right); code != http.StatusTooManyRequests {
					t.Errorf("the right password after %d failures: %d, want 429", maxLoginFailures, code)
				}
			})
		}
	}
}

// The form's validity is checked as --ttl is: no silent default for 0d, and
// the same words for a negative, tiny or huge one.
func TestAdminTTLValidation(t *testing.T) {
	c, m, _, _ := newAdmin(t, "rfc")
	c.login("correct horse battery")
	for ttl, want := range map[string]string{
		"0d":        "lifespan 0d is not positive",
		"-1d":       "lifespan -1d is not positive",
		"1ns":       "lifespan 1ns is under a second",
		"99999999d": "lifespan 99999999d is too long: the longest allowed is 36500d",
		"soon":      "invalid lifespan",
	} {
		_, csrf := c.page()
		if w := c.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}, "ttl": {ttl}}); w.Code != http.StatusSeeOther {
			t.Fatalf("ttl %s: %d", ttl, w.Code)
		}
		if body, _ := c.page(); !strings.Contains(body, html.EscapeString(want)) {
			t.Errorf("ttl %s: the page does not say %q", ttl, want)
		}
	}
	if ts, _ := m.List(context.Background()); len(ts) != 0 {
		t.Errorf("refused ttls created %d tokens", len(ts))
	}
}

// The account buttons work whatever the account is called: its name is one
// path segment of the form's action, escaped, and decoded by the server.
func TestAdminAccountNamesInURLs(t *testing.T) {
	ctx := context.Background()
	actionRE := regexp.MustCompile(`action="(/admin/accounts/[^"]*)"`)
	for _, name := range []string{"a b?c#d", "100%", "x&y=z", "é"} {
		t.Run(name, func(t *testing.T) {
			c, m, _, _ := newAdmin(t, "resolver")
			a := authn(m)
			secret, _ := mustCreate(t, m, CreateRequest{Name: "okta", Account: name})
			c.login("correct horse battery")
			body, csrf := c.page()
			match := actionRE.FindStringSubmatch(body)
			if match == nil {
				t.Fatalf("no account form:\n%s", body)
			}
			action := html.UnescapeString(match[1])
			if w := c.do("POST", action, url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
				t.Fatalf("POST %s: %d %s", action, w.Code, w.Body)
			}
			if err := verify(a, secret); !errors.Is(err, ErrAccountInactive) {
				t.Errorf("after Deactivate (%s): %v, want ErrAccountInactive", action, err)
			}
			if accts, _ := m.Accounts(ctx); len(accts) != 1 || accts[name] {
				t.Errorf("accounts = %v, want only %q, deactivated", accts, name)
			}
		})
	}
}

// A name the store could not keep as text (invalid UTF-8), a control
// character, or an account "." or ".." (cleaned out of the page's URLs) is
// refused by the form with a message on the page, and creates nothing.
func TestAdminFormRefusesBadNames(t *testing.T) {
	c, m, _, _ := newAdmin(t, "resolver")
	c.login("correct horse battery")
	for _, tc := range []struct {
		field, value, want string
	}{
		{"name", "a\xffb", `token name "a\xffb" is not valid UTF-8`},
		{"name", "a\tb", "contains a control character"},
		{"account", "svc\xff", `account name "svc\xff" is not valid UTF-8`},
		{"account", ".", `account name "." is not allowed`},
		{"account", "..", `account name ".." is not allowed`},
	} {
		_, csrf := c.page()
		form := url.Values{"csrf": {csrf}, "name": {"okta"}, "account": {"svc"}, "ttl": {"730d"}}
		form.Set(tc.field, tc.value)
		if w := c.do("POST", "/admin/tokens", form); w.Code != http.StatusSeeOther {
			t.Fatalf("%s=%q: %d", tc.field, tc.value, w.Code)
		}
		if body, _ := c.page(); !strings.Contains(body, html.EscapeString(tc.want)) || !utf8.ValidString(body) {
			t.Errorf("%s=%q: the page does not say %q", tc.field, tc.value, tc.want)
		}
	}
	if ts, _ := m.List(context.Background()); len(ts) != 0 {
		t.Errorf("refused names created %d tokens", len(ts))
	}
	_, csrf := c.page()
	if w := c.do("POST", "/admin/accounts/%FF/deactivate", url.Values{"csrf": {csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("deactivate %%FF: %d", w.Code)
	}
	if body, _ := c.page(); !strings.Contains(body, html.EscapeString(`account name "\xff" is not valid UTF-8`)) {
		t.Errorf("deactivate %%FF: the page does not say the name is not valid UTF-8")
	}
}

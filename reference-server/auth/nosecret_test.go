package auth

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/internal/syncbuf"
)

// No secret in the logs: one slog handler captures a whole create, use,
// notice and revoke cycle through the CLI's Manager and the admin page, and
// neither any token, nor a long piece of one, nor its hash, nor a password
// appears in it.
func TestNoSecretInLogs(t *testing.T) {
	ctx := context.Background()
	var logs syncbuf.Buffer
	log := newJSONLogger(&logs)
	m, clk := newManager(t, "alation")
	m.Logger = log
	a := authn(m)
	a.AllowBasic = true

	var secrets, hashes []string
	c, err := m.CreateToken(ctx, CreateRequest{Name: "okta", TTL: 30 * Day})
	if err != nil {
		t.Fatal(err)
	}
	secrets, hashes = append(secrets, c.Secret), append(hashes, c.Token.Hash)
	if err := verify(a, c.Secret); err != nil {
		t.Fatal(err)
	}
	const basicPW, adminPW = "Basic-password-1234!", "admin password for logs"
	if err := m.SetBasic(ctx, "svc", basicPW); err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "/scim/v2/Users", nil)
	r.SetBasicAuth("svc", basicPW)
	if _, err := a.Authenticate(r); err != nil {
		t.Fatal(err)
	}

	h := NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Profile: "alation", Now: clk.Now, Logger: log, Password: adminPW})
	ac := &adminClient{t: t, h: h}
	ac.do("POST", "/admin/login", url.Values{"password": {"not " + adminPW}})
	ac.login(adminPW)
	_, csrf := ac.page()
	ac.do("POST", "/admin/tokens", url.Values{"csrf": {csrf}, "name": {"okta-2"}, "ttl": {"30d"}})
	body, _ := ac.page()
	second := html.UnescapeString(secretRE.FindStringSubmatch(body)[1])
	secrets = append(secrets, second)
	if err := verify(a, second); err != nil {
		t.Fatal(err)
	}
	hashes = append(hashes, Hash(second))
	clk.Set(t0.Add(29 * Day))
	n := &Notifier{Store: m.Store, Policy: m.Policy, Now: clk.Now, Logger: log, Webhook: "http://127.0.0.1:1/unreachable", Attempts: 1}
	if _, err := n.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Revoke(ctx, "okta-2"); err != nil {
		t.Fatal(err)
	}
	_ = verify(a, second) // a failed use

	out := logs.String()
	for _, want := range []string{"token created", "token revoked", "token expiry notice", "admin login failed", "basic credential set"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q; the test does not cover the whole cycle:\n%s", want, out)
		}
	}
	for _, s := range secrets {
		body := s[len(TokenPrefix):]
		for i := 0; i+12 <= len(body); i += 4 {
			if strings.Contains(out, body[i:i+12]) {
				t.Fatalf("a 12-character piece of a token is in the log:\n%s", out)
			}
		}
	}
	for _, s := range append(hashes, basicPW, adminPW) {
		if strings.Contains(out, s) {
			t.Fatalf("%q is in the log", s)
		}
	}
}

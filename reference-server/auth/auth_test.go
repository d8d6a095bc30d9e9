package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// The first API (Create, Authenticator{Tokens, Now}) that the HTTP server
// calls: token shape, hash-only storage, case-insensitive scheme, tokens
// without expiry, expiry and revocation.
func TestCreateAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	now := t0
	a := &Authenticator{Tokens: st, Now: func() time.Time { return now }}
	secret, tok, err := Create(ctx, st, "ci", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^scimlab_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret %q does not look like %s + 43 base64url characters", secret, TokenPrefix)
	}
	if tok.Hash != Hash(secret) || strings.Contains(tok.Hash, secret) || tok.Prefix != secret[:DisplayPrefixLen] || !tok.Expires.Equal(now.Add(time.Hour)) {
		t.Errorf("record = %+v", tok)
	}
	stored, err := st.TokenByHash(ctx, Hash(secret))
	if err != nil || stored.ID != tok.ID {
		t.Fatalf("stored by hash: %+v, %v", stored, err)
	}
	req := func(h string) error {
		r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		r.Header.Set("Authorization", h)
		_, err := a.Authenticate(r)
		return err
	}
	for _, h := range []string{"Bearer " + secret, "bEaReR  " + secret} {
		if err := req(h); err != nil {
			t.Errorf("%q: %v", h[:8], err)
		}
	}
	forever, ftok, err := Create(ctx, st, "forever", 0, now)
	if err != nil || !ftok.Expires.IsZero() {
		t.Fatalf("ttl 0: %+v, %v", ftok, err)
	}
	now = now.Add(100 * 365 * Day)
	if err := req("Bearer " + forever); err != nil {
		t.Errorf("a token without expiry: %v", err)
	}
	if err := req("Bearer " + secret); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	ftok.Revoked = now
	if err := st.PutToken(ctx, ftok); err != nil {
		t.Fatal(err)
	}
	if err := req("Bearer " + forever); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v", err)
	}
	if err := req("Bearer " + secret + "x"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}
}

// Every failure reason has its own challenge and description (RFC 6750 §3),
// and none of them carries the token.
func TestChallengesTellReasonsApart(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(t, "resolver")
	a := authn(m)
	expired, _ := mustCreate(t, m, CreateRequest{Name: "old", Account: "svc-old"})
	clk.Advance(730 * Day)
	revoked, tok := mustCreate(t, m, CreateRequest{Name: "gone", Account: "svc"})
	if _, err := m.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	inactive, _ := mustCreate(t, m, CreateRequest{Name: "left", Account: "svc-left"})
	if _, err := m.DeactivateAccount(ctx, "svc-left"); err != nil {
		t.Fatal(err)
	}
	good, _ := mustCreate(t, m, CreateRequest{Name: "good", Account: "svc"})

	tests := []struct {
		name      string
		header    string
		query     string
		want      error
		status    int
		challenge string
	}{
		{"none", "", "", ErrNoCredentials, 401, `Bearer realm="scimlab"`},
		{"basic not enabled", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p")), "", ErrNoCredentials, 401, `Bearer realm="scimlab"`},
		{"empty bearer", "Bearer ", "", ErrMalformed, 401, `error="invalid_token", error_description="the bearer token is empty"`},
		{"query", "", "access_token=" + good, ErrQueryToken, 401, `error="invalid_token", error_description="send the token in the Authorization header, not the query string"`},
		{"query with header", "Bearer " + good, "access_token=" + good, ErrQueryToken, 401, "query string"},
		{"query, encoded name", "Bearer " + good, "access%5Ftoken=" + good, ErrQueryToken, 401, "query string"},
		{"query, encoded name lower", "Bearer " + good, "count=1&access%5ftoken=" + good, ErrQueryToken, 401, "query string"},
		{"query, encoded first letter", "Bearer " + good, "%61ccess_token=" + good, ErrQueryToken, 401, "query string"},
		{"two headers", "", "", ErrTwoHeaders, 401, `error_description="send one Authorization header"`},
		{"good, access_token in a filter value", "Bearer " + good, "filter=userName%20eq%20%22access_token%22", nil, 0, ""},
		{"unknown", "Bearer scimlab_nope", "", ErrUnknown, 401, `error="invalid_token", error_description="the token is not known to this server"`},
		{"expired", "Bearer " + expired, "", ErrExpired, 401, `error_description="the token has expired"`},
		{"revoked", "Bearer " + revoked, "", ErrRevoked, 401, `error_description="the token has been revoked"`},
		{"account deactivated", "Bearer " + inactive, "", ErrAccountInactive, 401, `error_description="the token's service account has been deactivated"`},
		{"good", "bearer  " + good, "", nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/scim/v2/Users?"+tc.query, nil)
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if tc.name == "two headers" {
				r.Header["Authorization"] = []string{"Bearer " + good, "Bearer scimlab_other"}
			}
			_, err := a.Authenticate(r)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if err == nil {
				return
			}
			if !IsFailure(err) {
				t.Errorf("IsFailure(%v) = false", err)
			}
			if Status(err) != tc.status {
				t.Errorf("Status = %d, want %d", Status(err), tc.status)
			}
			ch := Challenge(err)
			if !strings.HasPrefix(ch, `Bearer realm="scimlab"`) || !strings.Contains(ch, tc.challenge) {
				t.Errorf("Challenge = %s, want it to contain %s", ch, tc.challenge)
			}
			// RFC 6750 §3.1: no error code when no credentials were sent.
			if errors.Is(err, ErrNoCredentials) != (ch == BearerChallenge) {
				t.Errorf("Challenge = %s; only a request without credentials gets the bare %s", ch, BearerChallenge)
			}
			for _, s := range []string{good, expired, revoked, inactive} {
				if strings.Contains(ch, s) || strings.Contains(Describe(err), s) {
					t.Error("a challenge or description carries a token")
				}
			}
		})
	}
	if IsFailure(errors.New("disk on fire")) {
		t.Error("a store error is not an authentication failure")
	}
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

func TestBasicAuth(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "alation")
	const pw = "Correct-horse-battery-9"
	a := &Authenticator{Tokens: m.Store, Settings: m.Store, Now: m.Now, AllowBasic: true}
	try := func(h string) error {
		r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		r.Header.Set("Authorization", h)
		_, err := a.Authenticate(r)
		return err
	}
	// Allowed but not set: answered as if no credentials were sent.
	if err := try(basicHeader("svc", pw)); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("no credential set: %v", err)
	}
	if err := m.SetBasic(ctx, "svc", "short"); err == nil || !strings.Contains(err.Error(), "at least 17 characters") {
		t.Fatalf("weak password: %v", err)
	}
	if err := m.SetBasic(ctx, "a:b", pw); err == nil {
		t.Fatal("a username with ':' was accepted")
	}
	if err := m.SetBasic(ctx, "svc", pw); err != nil {
		t.Fatal(err)
	}
	v, _, _ := m.Store.Setting(ctx, basicKey)
	if strings.Contains(v, pw) || !strings.HasPrefix(v, "svc\n$2") {
		t.Fatalf("stored credential is not a bcrypt hash: %q", v)
	}
	if u, ok, _ := m.BasicUsername(ctx); u != "svc" || !ok {
		t.Errorf("BasicUsername = %q %v", u, ok)
	}
	r := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	r.Header.Set("Authorization", basicHeader("svc", pw))
	tok, err := a.Authenticate(r)
	if err != nil || tok.ID != BasicTokenID || tok.Account != "svc" {
		t.Fatalf("good credential: %+v, %v", tok, err)
	}
	if err := try(basicHeader("svc", pw)); err != nil {
		t.Fatalf("second time (cached): %v", err)
	}
	for name, h := range map[string]string{
		"wrong password": basicHeader("svc", pw+"x"),
		"wrong user":     basicHeader("root", pw),
		"not base64":     "Basic !!!",
		"no colon":       "Basic " + base64.StdEncoding.EncodeToString([]byte("svc")),
	} {
		err := try(h)
		if !errors.Is(err, ErrBasicInvalid) {
			t.Errorf("%s: %v, want ErrBasicInvalid", name, err)
		}
		if Status(err) != 401 || Challenge(err) != `Basic realm="scimlab", charset="UTF-8"` {
			t.Errorf("%s: %d %s", name, Status(err), Challenge(err))
		}
	}
	// A changed password is never served from the cache.
	if err := m.SetBasic(ctx, "svc", pw+"!"); err != nil {
		t.Fatal(err)
	}
	if err := try(basicHeader("svc", pw)); !errors.Is(err, ErrBasicInvalid) {
		t.Errorf("old password after a change: %v", err)
	}
	if err := try(basicHeader("svc", pw+"!")); err != nil {
		t.Errorf("new password: %v", err)
	}
	if _, err := m.DeactivateAccount(ctx, "svc"); !errors.Is(err, ErrNoSuchToken) {
		t.Logf("deactivating an account without tokens: %v", err)
	}
	if err := m.Store.PutSetting(ctx, accountPrefix+"svc", AccountInactive); err != nil {
		t.Fatal(err)
	}
	if err := try(basicHeader("svc", pw+"!")); !errors.Is(err, ErrAccountInactive) {
		t.Errorf("basic for a deactivated account: %v", err)
	}
	if err := m.ClearBasic(ctx); err != nil {
		t.Fatal(err)
	}
	if err := try(basicHeader("svc", pw+"!")); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("after clear: %v", err)
	}
	// Not allowed by the profile: Basic gets the Bearer challenge.
	a.AllowBasic = false
	if err := m.SetBasic(ctx, "svc", pw); err != nil {
		t.Fatal(err)
	}
	if err := try(basicHeader("svc", pw)); !errors.Is(err, ErrNoCredentials) || !strings.HasPrefix(Challenge(err), `Bearer realm="scimlab"`) {
		t.Errorf("basic when not allowed: %v", err)
	}
	rfc, _ := newManager(t, "rfc")
	if err := rfc.SetBasic(ctx, "svc", pw); !errors.Is(err, ErrBasicNotAllowed) {
		t.Errorf("SetBasic under rfc: %v", err)
	}
}

func TestAdminPasswordStored(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "rfc")
	if err := m.SetAdminPassword(ctx, "short"); err == nil {
		t.Fatal("a short admin password was accepted")
	}
	if err := m.SetAdminPassword(ctx, "a long admin password"); err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"a long admin password": true, "wrong": false, "": false} {
		ok, err := checkAdminPassword(ctx, m.Store, "", pw)
		if err != nil || ok != want {
			t.Errorf("checkAdminPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	if ok, _ := checkAdminPassword(ctx, m.Store, "from-file", "from-file"); !ok {
		t.Error("the plain password from a file must be accepted")
	}
	if ok, _ := checkAdminPassword(ctx, m.Store, "from-file", "a long admin password"); ok {
		t.Error("with a password file, the stored hash is not used")
	}
}

func TestClocks(t *testing.T) {
	c := NewManualClock(t0)
	if !c.Advance(time.Hour).Equal(t0.Add(time.Hour)) || !c.Now().Equal(t0.Add(time.Hour)) {
		t.Error("ManualClock.Advance")
	}
	var _ Clock = c
	o := OffsetClock{Offset: 2160 * time.Hour}
	if d := time.Until(o.Now()); d < 2159*time.Hour || d > 2161*time.Hour {
		t.Errorf("OffsetClock is %v ahead", d)
	}
	var _ Clock = o
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newManager returns a manager over a fresh memory store under the named
// built-in policy, with a manual clock at t0.
func newManager(t *testing.T, policy string) (*Manager, *ManualClock) {
	t.Helper()
	p, err := BuiltinPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	clk := NewManualClock(t0)
	return &Manager{Store: st, Policy: p, Profile: policy, Now: clk.Now, BcryptCost: 4}, clk
}

func mustCreate(t *testing.T, m *Manager, req CreateRequest) (string, store.Token) {
	t.Helper()
	s, tok, err := m.Create(context.Background(), req)
	if err != nil {
		t.Fatalf("Create(%+v): %v", req, err)
	}
	return s, tok
}

// authn returns an authenticator over m's store and clock.
func authn(m *Manager) *Authenticator {
	return &Authenticator{Tokens: m.Store, Settings: m.Store, Now: m.Now}
}

func verify(a *Authenticator, secret string) error {
	_, err := a.Verify(context.Background(), secret)
	return err
}

func TestCreateAppliesLifespans(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "alation")
	_, tok := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 60 * Day})
	if !tok.Expires.Equal(t0.Add(60*Day)) || tok.Profile != "alation" || !strings.HasPrefix(tok.Prefix, TokenPrefix) {
		t.Errorf("token = %+v", tok)
	}
	_, tok = mustCreate(t, m, CreateRequest{Name: "okta"})
	if !tok.Expires.Equal(t0.Add(180 * Day)) {
		t.Errorf("default lifespan: expires %v, want 6 months (180d)", tok.Expires)
	}
	_, _, err := m.Create(ctx, CreateRequest{TTL: 45 * Day})
	if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "45d is not offered") || !strings.Contains(err.Error(), "180d (6 months)") {
		t.Errorf("45d under alation: %v", err)
	}

	rfc, _ := newManager(t, "rfc")
	_, tok = mustCreate(t, rfc, CreateRequest{TTL: 7 * time.Hour})
	if !tok.Expires.Equal(t0.Add(7 * time.Hour)) {
		t.Errorf("rfc takes any ttl: %v", tok.Expires)
	}
	_, tok = mustCreate(t, rfc, CreateRequest{})
	if !tok.Expires.Equal(t0.Add(90*Day)) || tok.Name != "scim" {
		t.Errorf("rfc default: %+v", tok)
	}
	rfc.Policy.DefaultLifespan = 0
	if _, _, err := rfc.Create(ctx, CreateRequest{}); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "choose a lifespan") {
		t.Errorf("no ttl and no default: %v", err)
	}
	for ttl, want := range map[time.Duration]string{-Day: "is not positive", time.Nanosecond: "is under a second", MaxTTL + Day: "is too long"} {
		if _, _, err := rfc.Create(ctx, CreateRequest{TTL: ttl}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ttl %v: %v, want %q", ttl, err, want)
		}
	}
	for _, bad := range []string{"a/b", "tab\there", strings.Repeat("x", 101)} {
		if _, _, err := rfc.Create(ctx, CreateRequest{Name: bad}); err == nil {
			t.Errorf("name %q accepted", bad)
		}
	}
}

// Alation and Atlassian (idp-traffic.md §2.2, §2.6): a new token revokes the
// old one at once.
func TestReplaceRotation(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "alation")
	a := authn(m)
	old, oldTok := mustCreate(t, m, CreateRequest{Name: "okta"})
	if err := verify(a, old); err != nil {
		t.Fatal(err)
	}
	c, err := m.CreateToken(ctx, CreateRequest{Name: "okta-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Replaced) != 1 || c.Replaced[0].ID != oldTok.ID {
		t.Errorf("Replaced = %+v, want the old token", c.Replaced)
	}
	if err := verify(a, old); !errors.Is(err, ErrRevoked) {
		t.Errorf("old token after replace: %v, want ErrRevoked", err)
	}
	if err := verify(a, c.Secret); err != nil {
		t.Errorf("new token: %v", err)
	}

}

// The rotation scope decides which live tokens a new one replaces (replace)
// or counts against (overlap): every token of the store (AWS, Alation,
// Atlassian: one set of tokens per directory or instance), those of the same
// service account (Resolver), or those of the same account and name.
func TestRotationScope(t *testing.T) {
	ctx := context.Background()
	existing := []CreateRequest{{Name: "x"}, {Name: "y"}, {Name: "x", Account: "svc"}, {Name: "z", Account: "other"}}
	tests := []struct {
		scope    string
		newToken CreateRequest
		want     string // names@accounts of the existing tokens in the new token's scope
	}{
		{ScopeStore, CreateRequest{Name: "x"}, "x@ x@svc y@ z@other"},
		{ScopeStore, CreateRequest{Name: "new", Account: "third"}, "x@ x@svc y@ z@other"},
		{ScopeAccount, CreateRequest{Name: "x"}, "x@ y@"},
		{ScopeAccount, CreateRequest{Name: "new", Account: "svc"}, "x@svc"},
		{ScopeAccount, CreateRequest{Name: "new", Account: "third"}, ""},
		{ScopeName, CreateRequest{Name: "x"}, "x@"},
		{ScopeName, CreateRequest{Name: "x", Account: "svc"}, "x@svc"},
		{ScopeName, CreateRequest{Name: "y", Account: "svc"}, ""},
	}
	label := func(r CreateRequest) string { return r.Name + "@" + r.Account }
	for _, tc := range tests {
		t.Run(tc.scope+"/"+label(tc.newToken), func(t *testing.T) {
			// replace revokes exactly the tokens in scope.
			m, _ := newManager(t, "rfc")
			m.Policy.Rotation, m.Policy.RotationScope = RotationReplace, tc.scope
			for _, r := range existing {
				m.Policy.Rotation = RotationNone
				mustCreate(t, m, r)
			}
			m.Policy.Rotation = RotationReplace
			c, err := m.CreateToken(ctx, tc.newToken)
			if err != nil {
				t.Fatal(err)
			}
			var replaced []string
			for _, r := range c.Replaced {
				replaced = append(replaced, r.Name+"@"+r.Account)
			}
			slices.Sort(replaced)
			if got := strings.Join(replaced, " "); got != tc.want {
				t.Errorf("replace revoked [%s], want [%s]", got, tc.want)
			}

			// overlap refuses a new token when the scope is full.
			o, _ := newManager(t, "rfc")
			for _, r := range existing {
				mustCreate(t, o, r)
			}
			o.Policy.Rotation, o.Policy.RotationScope = RotationOverlap, tc.scope
			o.Policy.MaxActive = max(1, strings.Count(tc.want, "@"))
			_, _, err = o.Create(ctx, tc.newToken)
			if full := tc.want != ""; full != errors.Is(err, ErrTooManyTokens) {
				t.Errorf("overlap with %d allowed: %v (scope full: %v)", o.Policy.MaxActive, err, full)
			}
		})
	}
}

// AWS and Alation have one set of tokens per directory or instance: binding
// a token to a service account does not get around "at most two active"
// (idp-traffic.md §2.1) or "a new token revokes the old" (§2.2).
func TestRotationIgnoresAccountsWhereTheTargetHasNone(t *testing.T) {
	ctx := context.Background()
	aws, _ := newManager(t, "aws")
	mustCreate(t, aws, CreateRequest{Name: "a"})
	mustCreate(t, aws, CreateRequest{Name: "b", Account: "x"})
	if _, _, err := aws.Create(ctx, CreateRequest{Name: "c", Account: "y"}); !errors.Is(err, ErrTooManyTokens) || strings.Contains(err.Error(), "for account") {
		t.Errorf("aws, a third token for another account: %v; want ErrTooManyTokens naming no account", err)
	}
	al, _ := newManager(t, "alation")
	mustCreate(t, al, CreateRequest{Name: "a"})
	c, err := al.CreateToken(ctx, CreateRequest{Name: "b", Account: "x"})
	if err != nil || len(c.Replaced) != 1 || c.Replaced[0].Name != "a" {
		t.Errorf("alation, a token for an account: replaced %+v, %v; want a", c.Replaced, err)
	}
}

// AWS (idp-traffic.md §2.1): at most two tokens at a time; a third is
// refused with a message naming the tokens to revoke.
func TestOverlapRotation(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(t, "aws")
	a := authn(m)
	first, _ := mustCreate(t, m, CreateRequest{Name: "okta-2026"})
	second, _ := mustCreate(t, m, CreateRequest{Name: "okta-2027"})
	_, _, err := m.Create(ctx, CreateRequest{Name: "okta-2028"})
	if !errors.Is(err, ErrTooManyTokens) {
		t.Fatalf("third token: %v, want ErrTooManyTokens", err)
	}
	for _, want := range []string{"at most 2 active tokens", "revoke one first", "okta-2026 (id ", "okta-2027 (id "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if verify(a, first) != nil || verify(a, second) != nil {
		t.Error("both tokens must keep working during the overlap")
	}
	if _, err := m.Revoke(ctx, "okta-2026"); err != nil {
		t.Fatal(err)
	}
	third, _ := mustCreate(t, m, CreateRequest{Name: "okta-2028"})
	if verify(a, third) != nil || verify(a, second) != nil || !errors.Is(verify(a, first), ErrRevoked) {
		t.Error("after revoking one, a new token fits")
	}
	// Expired tokens do not count.
	clk.Advance(365 * Day)
	if _, _, err := m.Create(ctx, CreateRequest{Name: "later"}); err != nil {
		t.Errorf("expired tokens must not count toward maxActive: %v", err)
	}
}

// Resolver (idp-traffic.md §2.3): tokens belong to an account; deactivating
// it invalidates them at once.
func TestAccountDeactivation(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "resolver")
	a := authn(m)
	if _, _, err := m.Create(ctx, CreateRequest{Name: "okta"}); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), "service account") {
		t.Fatalf("token without account: %v", err)
	}
	secret, tok := mustCreate(t, m, CreateRequest{Name: "okta", Account: "svc-okta"})
	other, _ := mustCreate(t, m, CreateRequest{Name: "entra", Account: "svc-entra"})
	if !tok.Expires.Equal(t0.Add(730 * Day)) {
		t.Errorf("resolver tokens live 2 years: %v", tok.Expires)
	}
	if err := verify(a, secret); err != nil {
		t.Fatal(err)
	}
	n, err := m.DeactivateAccount(ctx, "svc-okta")
	if err != nil || n != 1 {
		t.Fatalf("DeactivateAccount = %d, %v", n, err)
	}
	if err := verify(a, secret); !errors.Is(err, ErrAccountInactive) {
		t.Errorf("after deactivation: %v, want ErrAccountInactive", err)
	}
	if err := verify(a, other); err != nil {
		t.Errorf("another account's token: %v", err)
	}
	if _, _, err := m.Create(ctx, CreateRequest{Account: "svc-okta"}); !errors.Is(err, ErrAccountInactive) {
		t.Errorf("new token for a deactivated account: %v", err)
	}
	ts, _ := m.List(ctx)
	for _, ti := range ts {
		if want := map[string]State{"svc-okta": StateAccountInactive, "svc-entra": StateActive}[ti.Account]; ti.State != want {
			t.Errorf("listed state of %s's token = %s, want %s", ti.Account, ti.State, want)
		}
	}
	if _, err := m.ActivateAccount(ctx, "svc-okta"); err != nil {
		t.Fatal(err)
	}
	if err := verify(a, secret); err != nil {
		t.Errorf("after reactivation: %v", err)
	}
	if _, err := m.DeactivateAccount(ctx, "nobody"); !errors.Is(err, ErrNoSuchToken) {
		t.Errorf("unknown account: %v", err)
	}
	accts, _ := m.Accounts(ctx)
	if len(accts) != 2 || !accts["svc-okta"] {
		t.Errorf("Accounts() = %v", accts)
	}
}

func TestCreateEmailDomains(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "resolver")
	_, tok := mustCreate(t, m, CreateRequest{Account: "svc", EmailDomains: []string{" Example.COM", "example.org", "example.com", ""}})
	if strings.Join(tok.EmailDomains, ",") != "example.com,example.org" {
		t.Errorf("EmailDomains = %v", tok.EmailDomains)
	}
	for _, bad := range []string{"@example.com", "not a domain", "localhost"} {
		if _, _, err := m.Create(ctx, CreateRequest{Account: "svc", EmailDomains: []string{bad}}); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
	al, _ := newManager(t, "alation")
	if _, _, err := al.Create(ctx, CreateRequest{EmailDomains: []string{"example.com"}}); !errors.Is(err, ErrPolicy) {
		t.Errorf("alation tokens cannot carry emailDomains: %v", err)
	}
}

func TestRevokeByNameAndID(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "rfc")
	a := authn(m)
	s1, t1 := mustCreate(t, m, CreateRequest{Name: "ci"})
	s2, t2 := mustCreate(t, m, CreateRequest{Name: "okta"})
	s3, t3 := mustCreate(t, m, CreateRequest{Name: "okta"})

	if got, err := m.Revoke(ctx, "ci"); err != nil || got.ID != t1.ID {
		t.Fatalf("revoke by name: %+v, %v", got, err)
	}
	if !errors.Is(verify(a, s1), ErrRevoked) {
		t.Error("ci still works")
	}
	if _, err := m.Revoke(ctx, "okta"); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), ShortID(t2.ID)) {
		t.Errorf("ambiguous name: %v", err)
	}
	if _, err := m.Revoke(ctx, t2.ID); err != nil {
		t.Fatalf("revoke by id: %v", err)
	}
	if _, err := m.Revoke(ctx, ShortID(t3.ID)); err != nil {
		t.Fatalf("revoke by short id: %v", err)
	}
	if !errors.Is(verify(a, s2), ErrRevoked) || !errors.Is(verify(a, s3), ErrRevoked) {
		t.Error("revoked tokens still work")
	}
	if _, err := m.Revoke(ctx, t1.ID); !errors.Is(err, ErrAlreadyRevoked) {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := m.Revoke(ctx, "ci"); !errors.Is(err, ErrNoSuchToken) {
		t.Errorf("revoked names are not found by name: %v", err)
	}
	if _, err := m.Revoke(ctx, "nothing"); !errors.Is(err, ErrNoSuchToken) {
		t.Errorf("unknown: %v", err)
	}
}

func TestListStates(t *testing.T) {
	ctx := context.Background()
	m, clk := newManager(t, "alation")
	mustCreate(t, m, CreateRequest{Name: "a", TTL: 30 * Day})
	clk.Advance(time.Hour)
	ts, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].State != StateActive || ts[0].NoticeDue || ts[0].Hash != "" {
		t.Errorf("fresh token: %+v (List must not return the hash)", ts[0])
	}
	clk.Set(t0.Add(15 * Day)) // exactly 15 days before expiry
	ts, _ = m.List(ctx)
	if ts[0].State != StateExpiring || !ts[0].NoticeDue {
		t.Errorf("15 days before expiry: %s, noticeDue %v", ts[0].State, ts[0].NoticeDue)
	}
	clk.Set(t0.Add(30 * Day))
	ts, _ = m.List(ctx)
	if ts[0].State != StateExpired || !ts[0].NoticeDue {
		t.Errorf("at expiry: %s, noticeDue %v", ts[0].State, ts[0].NoticeDue)
	}
	mustCreate(t, m, CreateRequest{Name: "b", TTL: 30 * Day})
	ts, _ = m.List(ctx)
	if ts[0].State != StateRevoked || ts[0].NoticeDue || ts[1].State != StateActive {
		t.Errorf("after replacement: %+v", ts)
	}
	// An expired token that a newer live token of its account replaced
	// (overlap rotation) needs no attention.
	aws, clk2 := newManager(t, "aws")
	mustCreate(t, aws, CreateRequest{Name: "old"})
	clk2.Advance(300 * Day)
	mustCreate(t, aws, CreateRequest{Name: "new"})
	clk2.Advance(70 * Day)
	ts, _ = aws.List(ctx)
	if ts[0].State != StateExpired || ts[0].NoticeDue || ts[1].State != StateActive {
		t.Errorf("aws after rotation: %+v", ts)
	}
}

// now == Expires is expired; one second before is valid.
func TestExpiryBoundary(t *testing.T) {
	m, clk := newManager(t, "rfc")
	a := authn(m)
	secret, tok := mustCreate(t, m, CreateRequest{TTL: time.Hour})
	clk.Set(tok.Expires.Add(-time.Second))
	if err := verify(a, secret); err != nil {
		t.Errorf("one second before expiry: %v", err)
	}
	req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if _, err := a.Authenticate(req); err != nil {
		t.Errorf("Authenticate one second before expiry: %v", err)
	}
	clk.Set(tok.Expires)
	if err := verify(a, secret); !errors.Is(err, ErrExpired) {
		t.Errorf("at the expiry second: %v, want ErrExpired", err)
	}
	ts, _ := m.List(context.Background())
	if ts[0].State != StateExpired {
		t.Errorf("listed at the expiry second: %s", ts[0].State)
	}
}

// A token is replaced by a later one of its rotation scope that is live and
// lasts longer; a replaced token gets no banner and no notices (issue 4:
// the banner shows "until the token is replaced").
func TestReplaced(t *testing.T) {
	old := store.Token{ID: "a", Name: "okta", Created: t0, Expires: t0.Add(30 * Day)}
	now := t0.Add(20 * Day) // old is inside its 15-day window
	later := func(mod func(*store.Token)) store.Token {
		o := store.Token{ID: "b", Name: "okta", Created: t0.Add(10 * Day), Expires: t0.Add(100 * Day)}
		if mod != nil {
			mod(&o)
		}
		return o
	}
	tests := []struct {
		name     string
		scope    string
		other    store.Token
		inactive bool // other's account is deactivated
		want     bool
	}{
		{"later, live, longer", ScopeName, later(nil), false, true},
		{"later, never expires", ScopeName, later(func(o *store.Token) { o.Expires = time.Time{} }), false, true},
		{"later but shorter", ScopeName, later(func(o *store.Token) { o.Expires = old.Expires.Add(-time.Hour) }), false, false},
		{"later but revoked", ScopeName, later(func(o *store.Token) { o.Revoked = now }), false, false},
		{"later but expired", ScopeName, later(func(o *store.Token) { o.Expires = now }), false, false},
		{"later, account deactivated", ScopeName, later(func(o *store.Token) { o.Account = "svc" }), true, false},
		{"earlier", ScopeName, later(func(o *store.Token) { o.Created = t0.Add(-Day) }), false, false},
		{"same instant, smaller id", ScopeName, later(func(o *store.Token) { o.Created, o.ID = t0, "0" }), false, false},
		{"same instant, larger id", ScopeName, later(func(o *store.Token) { o.Created = t0 }), false, true},
		{"other name, scope name", ScopeName, later(func(o *store.Token) { o.Name = "entra" }), false, false},
		{"other name, scope account", ScopeAccount, later(func(o *store.Token) { o.Name = "entra" }), false, true},
		{"other account, scope account", ScopeAccount, later(func(o *store.Token) { o.Account = "svc" }), false, false},
		{"other account, scope store", ScopeStore, later(func(o *store.Token) { o.Account = "svc"; o.Name = "x" }), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Policy{RotationScope: tc.scope, Notices: DefaultNotices()}
			accounts := map[string]string{}
			if tc.inactive {
				accounts[accountPrefix+tc.other.Account] = AccountInactive
			}
			if got := p.Replaced(old, []store.Token{old, tc.other}, now, accounts); got != tc.want {
				t.Errorf("Replaced = %v, want %v", got, tc.want)
			}
		})
	}
}

// An expiring token that a later token of its scope replaced needs no
// attention, as an expired one does not.
func TestListReplacedExpiringToken(t *testing.T) {
	ctx := context.Background()
	for _, policy := range []string{"rfc", "aws"} {
		t.Run(policy, func(t *testing.T) {
			m, clk := newManager(t, policy)
			_, old := mustCreate(t, m, CreateRequest{Name: "okta", TTL: 365 * Day})
			clk.Set(old.Expires.Add(-8 * Day))
			ts, _ := m.List(ctx)
			if !ts[0].NoticeDue {
				t.Fatalf("8 days before expiry: %+v", ts[0])
			}
			mustCreate(t, m, CreateRequest{Name: "okta-new", TTL: 365 * Day})
			ts, _ = m.List(ctx)
			if ts[0].State != StateExpiring || ts[0].NoticeDue || ts[1].NoticeDue {
				t.Errorf("after a new token: %+v", ts)
			}
		})
	}
}

// A reference that is one token's id (or id prefix) and another token's name
// is refused as ambiguous, naming both, and a new token may not be named
// after an existing token's id.
func TestRevokeIDNameCollision(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, "rfc")
	_, first := mustCreate(t, m, CreateRequest{Name: "first"})
	for _, name := range []string{ShortID(first.ID), first.ID, first.ID[:12]} {
		if _, _, err := m.Create(ctx, CreateRequest{Name: name}); err == nil || !strings.Contains(err.Error(), "choose another name") {
			t.Errorf("name %q (first's id or its start) accepted: %v", name, err)
		}
	}
	// Too short to be taken as an id: a fine name.
	mustCreate(t, m, CreateRequest{Name: first.ID[:7]})

	// Stores written before the check may hold such names.
	for i, ref := range []string{ShortID(first.ID), first.ID} {
		t.Run(ref, func(t *testing.T) {
			clash := store.Token{ID: fmt.Sprintf("%032x", i), Name: ref, Hash: Hash(ref), Created: t0, Expires: t0.Add(Day)}
			if err := m.Store.PutToken(ctx, clash); err != nil {
				t.Fatal(err)
			}
			defer func() {
				clash.Revoked = t0
				_ = m.Store.PutToken(ctx, clash)
			}()
			_, err := m.Revoke(ctx, ref)
			if !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "first (id "+ShortID(first.ID)) || !strings.Contains(err.Error(), "(id "+ShortID(clash.ID)) {
				t.Fatalf("revoke %s: %v; want ErrAmbiguous naming both tokens", ref, err)
			}
			ts, _ := m.List(ctx)
			for _, tk := range ts {
				if (tk.ID == first.ID || tk.ID == clash.ID) && tk.State == StateRevoked {
					t.Errorf("%s was revoked", tk.Name)
				}
			}
		})
	}
	// The admin page's buttons revoke by exact id.
	if got, err := m.RevokeID(ctx, first.ID); err != nil || got.ID != first.ID {
		t.Errorf("RevokeID: %+v, %v", got, err)
	}
	if _, err := m.RevokeID(ctx, ShortID(first.ID)); !errors.Is(err, ErrNoSuchToken) {
		t.Errorf("RevokeID with a short id: %v", err)
	}
}

// Concurrent creations (two `token create` at once, two admin pages on two
// replicas) keep the rotation rule: aws's two live tokens at most, and
// alation's one, each new one replacing the others.
func TestRotationHoldsUnderConcurrentCreates(t *testing.T) {
	for policy, want := range map[string]int{"aws": 2, "alation": 1} {
		m, clk := newManager(t, policy)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := m.CreateToken(context.Background(), CreateRequest{Name: fmt.Sprintf("t%d", i)})
				if err != nil && !errors.Is(err, ErrTooManyTokens) {
					t.Errorf("%s: %v", policy, err)
				}
			}()
		}
		wg.Wait()
		all, err := m.Store.ListTokens(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		live := 0
		for _, tk := range all {
			if tk.Revoked.IsZero() && clk.Now().Before(tk.Expires) {
				live++
			}
		}
		if live != want {
			t.Errorf("%s: %d live tokens after 8 concurrent creations, want %d", policy, live, want)
		}
	}
}

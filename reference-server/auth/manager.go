package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Store is what the token manager, the notifier and the admin page need from
// a backend: token records and settings. Every store.Store is one.
type Store interface {
	store.Tokens
	store.Settings
}

// Errors the Manager returns (wrapped, with a message naming what to do).
var (
	// ErrPolicy: the request breaks the profile's token policy.
	ErrPolicy = errors.New("auth: refused by the token policy")
	// ErrTooManyTokens: rotation overlap allows no more live tokens in the scope.
	ErrTooManyTokens = errors.New("auth: too many active tokens")
	// ErrNoSuchToken: no token has that id or name.
	ErrNoSuchToken = errors.New("auth: no such token")
	// ErrAmbiguous: several tokens match a name or id prefix.
	ErrAmbiguous = errors.New("auth: ambiguous token reference")
	// ErrAlreadyRevoked: the token was revoked before.
	ErrAlreadyRevoked = errors.New("auth: token already revoked")
)

// State is a token's state as listed.
type State string

// Token states.
const (
	StateActive          State = "active"
	StateExpiring        State = "expiring" // active, inside the policy's notice window
	StateExpired         State = "expired"
	StateRevoked         State = "revoked"
	StateAccountInactive State = "account-inactive" // its service account is deactivated
)

// ProfileSettingKey is the setting where scimlab serve records the profile it
// serves, which the token command applies when no --profile is given.
const ProfileSettingKey = "server/profile"

// Settings keys and values for service accounts.
const (
	accountPrefix   = "account/"
	AccountActive   = "active"
	AccountInactive = "inactive"
)

// Manager creates, lists and revokes tokens under a Policy.
type Manager struct {
	Store  Store
	Policy Policy
	// Profile is the profile name recorded on new tokens and named in messages.
	Profile string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives token lifecycle events, never a secret (nil: discard).
	Logger *slog.Logger
	// BcryptCost is the cost of the password hashes SetBasic and
	// SetAdminPassword store (0: bcrypt.DefaultCost).
	BcryptCost int
}

// CreateRequest asks for a new token.
type CreateRequest struct {
	Name    string        // shown in lists; "scim" when empty
	Account string        // service account to bind the token to ("" = none)
	TTL     time.Duration // lifespan (see CheckTTL); 0 = the policy's default
	// EmailDomains limits the users the token may create or update to these
	// email domains (Resolver, idp-traffic.md §2.3); empty = no limit.
	EmailDomains []string
}

// Created is the outcome of CreateToken.
type Created struct {
	Secret   string        // the token, shown once
	Token    store.Token   // its record
	Replaced []store.Token // tokens revoked because the policy's rotation is replace
}

// TokenInfo is a token as listed: the record without its hash, and its state.
type TokenInfo struct {
	store.Token
	State State
	// NoticeDue is set when the token is live and inside the notice window,
	// or expired but neither revoked nor replaced.
	NoticeDue bool
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (m *Manager) policy() (Policy, error) {
	p := m.Policy
	p.Lifespans = slices.Clone(p.Lifespans)
	p.Notices = slices.Clone(p.Notices)
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

func (m *Manager) profileName() string {
	if m.Profile == "" {
		return "rfc"
	}
	return m.Profile
}

func (m *Manager) refuse(format string, args ...any) error {
	return fmt.Errorf("%w: profile %s: %s", ErrPolicy, m.profileName(), fmt.Sprintf(format, args...))
}

// Create issues a token under the policy and returns its secret (shown
// once, never stored) and record. See CreateToken.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (string, store.Token, error) {
	c, err := m.CreateToken(ctx, req)
	if err != nil {
		return "", store.Token{}, err
	}
	return c.Secret, c.Token, nil
}

// CreateToken issues a token under the policy: the lifespan must be one the
// policy allows, the account must be given when the policy requires one and
// must not be deactivated, emailDomains only when the policy allows them.
// Under RotationOverlap a scope that already has MaxActive live tokens is
// refused (ErrTooManyTokens, naming the tokens to revoke); under
// RotationReplace the other live tokens of the scope are revoked once the new
// one is stored.
func (m *Manager) CreateToken(ctx context.Context, req CreateRequest) (Created, error) {
	p, err := m.policy()
	if err != nil {
		return Created{}, err
	}
	now := m.now()
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "scim"
	}
	if err := checkName("token name", name); err != nil {
		return Created{}, err
	}
	account := strings.TrimSpace(req.Account)
	if account != "" {
		if err := checkAccountName("account name", account); err != nil {
			return Created{}, err
		}
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = p.DefaultLifespan.D()
	} else if err := CheckTTL(ttl); err != nil {
		return Created{}, fmt.Errorf("auth: lifespan %s %w", Duration(ttl), err)
	}
	switch {
	case ttl <= 0 && len(p.Lifespans) == 0:
		return Created{}, m.refuse("choose a lifespan (a ttl such as 90d)")
	case !p.AllowsLifespan(ttl):
		return Created{}, m.refuse("a token lifespan of %s is not offered; choose one of %s", Duration(ttl), p.describeLifespans())
	}
	if p.RequireAccount && account == "" {
		return Created{}, m.refuse("tokens must be bound to a service account (give an account name)")
	}
	domains, err := NormalizeDomains(req.EmailDomains)
	if err != nil {
		return Created{}, err
	}
	if len(domains) > 0 && !p.EmailDomains {
		return Created{}, m.refuse("tokens cannot carry emailDomains")
	}
	if account != "" {
		active, err := m.AccountActive(ctx, account)
		if err != nil {
			return Created{}, err
		}
		if !active {
			return Created{}, fmt.Errorf("%w: account %s is deactivated; activate it before creating tokens for it", ErrAccountInactive, account)
		}
	}

	if account != "" {
		if _, err := m.Store.PutSettingIfAbsent(ctx, accountPrefix+account, AccountActive); err != nil {
			return Created{}, fmt.Errorf("auth: recording account %s: %w", account, err)
		}
	}
	secret, err := NewSecret()
	if err != nil {
		return Created{}, err
	}
	id, err := newID()
	if err != nil {
		return Created{}, err
	}
	tok := store.Token{
		ID:           id,
		Name:         name,
		Account:      account,
		Hash:         Hash(secret),
		Prefix:       secret[:DisplayPrefixLen],
		Profile:      m.profileName(),
		EmailDomains: domains,
		Created:      now,
		Expires:      now.Add(ttl),
	}
	// The rotation rule counts the tokens already stored, so it is checked
	// and the new token stored (and, under replace, the others revoked) in
	// one UpdateTokens: two creations at once, from two processes or two
	// replicas, cannot both see room for one more.
	var replaced []store.Token
	var refused error // the rule's own refusal, returned as it is
	err = m.Store.UpdateTokens(ctx, func(all []store.Token) ([]store.Token, error) {
		replaced, refused = nil, nil
		for _, t := range all {
			// `token revoke NAME|ID` could not tell the two apart.
			if idMatches(t.ID, name) {
				refused = fmt.Errorf("auth: token name %q is the id (or the start of the id) of token %s; choose another name", name, describeTokens([]store.Token{t}))
				return nil, refused
			}
		}
		var scope []store.Token // live tokens in the new token's rotation scope
		for _, t := range all {
			if t.Revoked.IsZero() && p.SameScope(t, account, name) {
				scope = append(scope, t)
			}
		}
		if p.Rotation == RotationOverlap {
			var live []store.Token
			for _, t := range scope {
				if t.Expires.IsZero() || now.Before(t.Expires) {
					live = append(live, t)
				}
			}
			if len(live) >= p.MaxActive {
				refused = fmt.Errorf("%w: profile %s allows at most %d active tokens%s; revoke one first: %s",
					ErrTooManyTokens, m.profileName(), p.MaxActive, scopeText(p, account, name), describeTokens(live))
				return nil, refused
			}
		}
		put := []store.Token{tok}
		if p.Rotation == RotationReplace {
			for _, old := range scope {
				old.Revoked = now
				put = append(put, old)
				replaced = append(replaced, old)
			}
		}
		return put, nil
	})
	switch {
	case err != nil && err == refused:
		return Created{}, err
	case err != nil:
		return Created{}, fmt.Errorf("auth: storing token: %w", err)
	}
	m.log().Info("token created", "tokenID", tok.ID, "name", tok.Name, "account", tok.Account,
		"expires", tok.Expires, "profile", tok.Profile, "emailDomains", tok.EmailDomains)
	for _, old := range replaced {
		m.log().Info("token revoked", "tokenID", old.ID, "name", old.Name, "account", old.Account, "reason", "replaced", "by", tok.ID)
	}
	return Created{Secret: secret, Token: tok, Replaced: replaced}, nil
}

func scopeText(p Policy, account, name string) string {
	switch {
	case p.RotationScope == ScopeStore:
		return ""
	case p.RotationScope == ScopeName && account != "":
		return fmt.Sprintf(" called %s for account %s", name, account)
	case p.RotationScope == ScopeName:
		return fmt.Sprintf(" called %s", name)
	case account != "":
		return " for account " + account
	}
	return ""
}

func describeTokens(ts []store.Token) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s (id %s, expires %s)", t.Name, ShortID(t.ID), t.Expires.UTC().Format(time.DateOnly))
	}
	return strings.Join(parts, ", ")
}

// ShortID is the first 8 characters of a token id, as lists show it;
// Revoke accepts it.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func checkName(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("auth: %s %q is not valid UTF-8", what, s)
	}
	if len(s) > 100 {
		return fmt.Errorf("auth: %s is longer than 100 bytes", what)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("auth: %s %q contains a control character", what, s)
		}
	}
	if strings.Contains(s, "/") {
		return fmt.Errorf("auth: %s %q must not contain '/'", what, s)
	}
	return nil
}

// checkAccountName is checkName for a service account (or Basic username,
// which names its account): the admin page puts it in a URL path segment,
// where "." and ".." would be cleaned away, so they are refused too.
func checkAccountName(what, s string) error {
	if err := checkName(what, s); err != nil {
		return err
	}
	if s == "." || s == ".." {
		return fmt.Errorf("auth: %s %q is not allowed (a path segment of its own)", what, s)
	}
	return nil
}

// Find returns the token ref names: an exact id, a unique id prefix of at
// least 8 characters, or the name of exactly one token that is not revoked.
func (m *Manager) Find(ctx context.Context, ref string) (store.Token, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return store.Token{}, fmt.Errorf("%w: give a token name or id", ErrNoSuchToken)
	}
	all, err := m.Store.ListTokens(ctx)
	if err != nil {
		return store.Token{}, fmt.Errorf("auth: listing tokens: %w", err)
	}
	var byID, byName []store.Token
	for _, t := range all {
		if idMatches(t.ID, ref) {
			byID = append(byID, t)
		}
		if t.Name == ref && t.Revoked.IsZero() {
			byName = append(byName, t)
		}
	}
	switch {
	case len(byID) > 1:
		return store.Token{}, fmt.Errorf("%w: %d tokens have ids starting with %s; give more of the id", ErrAmbiguous, len(byID), ref)
	case len(byID) == 1 && (len(byName) == 0 || len(byName) == 1 && byName[0].ID == byID[0].ID):
		return byID[0], nil
	case len(byID) == 1:
		// One token's id and another's name: revoking either could be the
		// wrong one, so neither is.
		return store.Token{}, fmt.Errorf("%w: %s is the id of %s and the name of %s; give the full id of the token you mean (token list --json), or use its Revoke button on the admin page",
			ErrAmbiguous, ref, describeTokens(byID), describeTokens(byName))
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) > 1:
		return store.Token{}, fmt.Errorf("%w: %d tokens are called %s; revoke by id: %s", ErrAmbiguous, len(byName), ref, describeTokens(byName))
	}
	return store.Token{}, fmt.Errorf("%w: no token has the id or name %q (revoked tokens are found by id only)", ErrNoSuchToken, ref)
}

// idMatches reports whether ref names the token id: the whole id, or a
// prefix of at least 8 characters (ShortID).
func idMatches(id, ref string) bool {
	return id == ref || len(ref) >= 8 && strings.HasPrefix(id, ref)
}

// Revoke revokes the token ref names (see Find) and returns its record.
// Revoking a revoked token is ErrAlreadyRevoked.
func (m *Manager) Revoke(ctx context.Context, ref string) (store.Token, error) {
	t, err := m.Find(ctx, ref)
	if err != nil {
		return store.Token{}, err
	}
	return m.revoke(ctx, t)
}

// RevokeID revokes the token with exactly that id (the admin page's Revoke
// buttons, which know the id), whatever other tokens are called.
func (m *Manager) RevokeID(ctx context.Context, id string) (store.Token, error) {
	all, err := m.Store.ListTokens(ctx)
	if err != nil {
		return store.Token{}, fmt.Errorf("auth: listing tokens: %w", err)
	}
	for _, t := range all {
		if t.ID == id {
			return m.revoke(ctx, t)
		}
	}
	return store.Token{}, fmt.Errorf("%w: no token has the id %q", ErrNoSuchToken, id)
}

func (m *Manager) revoke(ctx context.Context, t store.Token) (store.Token, error) {
	if !t.Revoked.IsZero() {
		return t, fmt.Errorf("%w: %s (id %s) was revoked at %s", ErrAlreadyRevoked, t.Name, ShortID(t.ID), t.Revoked.UTC().Format(time.RFC3339))
	}
	t.Revoked = m.now()
	if err := m.Store.PutToken(ctx, t); err != nil {
		return store.Token{}, fmt.Errorf("auth: revoking token %s: %w", t.ID, err)
	}
	m.log().Info("token revoked", "tokenID", t.ID, "name", t.Name, "account", t.Account, "reason", "revoked")
	return t, nil
}

// List returns every token, oldest first, with its state at the manager's clock.
func (m *Manager) List(ctx context.Context) ([]TokenInfo, error) {
	p, err := m.policy()
	if err != nil {
		return nil, err
	}
	all, err := m.Store.ListTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: listing tokens: %w", err)
	}
	accounts, err := m.Store.SettingsWithPrefix(ctx, accountPrefix)
	if err != nil {
		return nil, fmt.Errorf("auth: reading accounts: %w", err)
	}
	now := m.now()
	out := make([]TokenInfo, 0, len(all))
	for _, t := range all {
		st := p.StateOf(t, now, accounts[accountPrefix+t.Account] != AccountInactive)
		due := (st == StateExpiring || st == StateExpired) && !p.Replaced(t, all, now, accounts)
		t.Hash = ""
		out = append(out, TokenInfo{Token: t, State: st, NoticeDue: due})
	}
	slices.SortFunc(out, func(a, b TokenInfo) int { return compareCreated(a.Token, b.Token) })
	return out, nil
}

// compareCreated orders tokens by creation, then by id.
func compareCreated(a, b store.Token) int {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Replaced reports whether a later token took over from t: one created after
// it in its rotation scope (SameScope) that is live at now (neither revoked,
// expired nor of a deactivated account) and lasts longer. A replaced token
// needs no attention: no banner and no expiry notices (issue 4: the banner
// shows "until the token is replaced"; idp-traffic.md §2.2: "until the
// token is regenerated"). accounts holds the account settings
// (SettingsWithPrefix(accountPrefix)).
func (p *Policy) Replaced(t store.Token, all []store.Token, now time.Time, accounts map[string]string) bool {
	for _, o := range all {
		if compareCreated(o, t) <= 0 || !p.SameScope(o, t.Account, t.Name) {
			continue
		}
		if lastsLonger := o.Expires.IsZero() || !t.Expires.IsZero() && o.Expires.After(t.Expires); !lastsLonger {
			continue
		}
		switch p.StateOf(o, now, accounts[accountPrefix+o.Account] != AccountInactive) {
		case StateActive, StateExpiring:
			return true
		}
	}
	return false
}

// StateOf returns a token's state at now; accountActive is whether its
// service account (if any) is active. Expiry is at the Expires instant: a
// token is expired when now >= Expires.
func (p *Policy) StateOf(t store.Token, now time.Time, accountActive bool) State {
	switch {
	case !t.Revoked.IsZero():
		return StateRevoked
	case !t.Expires.IsZero() && !now.Before(t.Expires):
		return StateExpired
	case t.Account != "" && !accountActive:
		return StateAccountInactive
	case !t.Expires.IsZero() && !now.Before(t.Expires.Add(-p.NoticeWindow())):
		return StateExpiring
	}
	return StateActive
}

// AccountActive reports whether a service account is active: accounts are
// active unless deactivated.
func (m *Manager) AccountActive(ctx context.Context, account string) (bool, error) {
	return accountActive(ctx, m.Store, account)
}

func accountActive(ctx context.Context, st store.Settings, account string) (bool, error) {
	v, ok, err := st.Setting(ctx, accountPrefix+account)
	if err != nil {
		return false, fmt.Errorf("auth: reading account %s: %w", account, err)
	}
	return !ok || v != AccountInactive, nil
}

// DeactivateAccount marks a service account inactive: every token bound to
// it stops working at once, and no new token may be created for it (Resolver,
// idp-traffic.md §2.3). It returns how many unrevoked tokens the account has.
func (m *Manager) DeactivateAccount(ctx context.Context, account string) (int, error) {
	return m.setAccount(ctx, account, AccountInactive)
}

// ActivateAccount marks a service account active again; its tokens that are
// neither revoked nor expired work again.
func (m *Manager) ActivateAccount(ctx context.Context, account string) (int, error) {
	return m.setAccount(ctx, account, AccountActive)
}

func (m *Manager) setAccount(ctx context.Context, account, state string) (int, error) {
	account = strings.TrimSpace(account)
	if account == "" {
		return 0, errors.New("auth: give an account name")
	}
	// checkName, not checkAccountName: an account called "." or ".."
	// stored before they were refused can still be (de)activated.
	if err := checkName("account name", account); err != nil {
		return 0, err
	}
	all, err := m.Store.ListTokens(ctx)
	if err != nil {
		return 0, fmt.Errorf("auth: listing tokens: %w", err)
	}
	n := 0
	for _, t := range all {
		if t.Account == account && t.Revoked.IsZero() {
			n++
		}
	}
	if _, known, err := m.Store.Setting(ctx, accountPrefix+account); err != nil {
		return 0, fmt.Errorf("auth: reading account %s: %w", account, err)
	} else if !known && n == 0 {
		return 0, fmt.Errorf("%w: no token has ever been bound to account %q", ErrNoSuchToken, account)
	}
	if err := m.Store.PutSetting(ctx, accountPrefix+account, state); err != nil {
		return 0, fmt.Errorf("auth: updating account %s: %w", account, err)
	}
	m.log().Info("account "+state, "account", account, "tokens", n)
	return n, nil
}

// Accounts returns every known service account and whether it is active.
func (m *Manager) Accounts(ctx context.Context) (map[string]bool, error) {
	kv, err := m.Store.SettingsWithPrefix(ctx, accountPrefix)
	if err != nil {
		return nil, fmt.Errorf("auth: reading accounts: %w", err)
	}
	out := map[string]bool{}
	for k, v := range kv {
		out[strings.TrimPrefix(k, accountPrefix)] = v != AccountInactive
	}
	return out, nil
}

var domainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// NormalizeDomains lower-cases and checks an emailDomains list: domain names
// without '@' (Resolver, idp-traffic.md §2.3: "comma-separated, without @"),
// duplicates dropped, order kept.
func NormalizeDomains(in []string) ([]string, error) {
	var out []string
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" {
			continue
		}
		if strings.Contains(d, "@") {
			return nil, fmt.Errorf("auth: email domain %q: give the domain without '@' (example.com)", d)
		}
		if !domainRE.MatchString(d) {
			return nil, fmt.Errorf("auth: email domain %q is not a domain name", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Settings keys for the credentials kept as bcrypt hashes.
const (
	// basicKey holds "username\nbcrypt-hash" in one value, so that a reader
	// never sees a new username with an old hash.
	basicKey = "basic/credential"
	// adminKey holds the admin page's bcrypt password hash.
	adminKey = "admin/password"
)

// BasicTokenID is the ID of the record Authenticate returns for a request
// authorised with HTTP Basic.
const BasicTokenID = "basic"

// ErrBasicNotAllowed: the profile's token policy has no Basic section.
var ErrBasicNotAllowed = errors.New("auth: basic authentication is not allowed by this profile")

func hashPassword(pw string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hashing password: %w", err)
	}
	return string(h), nil
}

// SetBasic stores the SCIM service account's Basic credential after checking
// the password against the policy (a *PasswordError names the broken rule).
// The password is kept only as a bcrypt hash of cost m.BcryptCost.
func (m *Manager) SetBasic(ctx context.Context, username, password string) error {
	p, err := m.policy()
	if err != nil {
		return err
	}
	if p.Basic == nil {
		return fmt.Errorf("%w (profile %s); choose a profile that allows it, such as alation", ErrBasicNotAllowed, m.profileName())
	}
	username = strings.TrimSpace(username)
	switch {
	case username == "":
		return errors.New("auth: give a username")
	case strings.Contains(username, ":"):
		return errors.New("auth: a Basic username cannot contain ':' (RFC 7617 §2)")
	}
	if err := checkAccountName("username", username); err != nil {
		return err
	}
	if err := p.Basic.CheckPassword(password); err != nil {
		return err
	}
	h, err := hashPassword(password, m.BcryptCost)
	if err != nil {
		return err
	}
	if err := m.Store.PutSetting(ctx, basicKey, username+"\n"+h); err != nil {
		return fmt.Errorf("auth: storing the basic credential: %w", err)
	}
	m.log().Info("basic credential set", "username", username)
	return nil
}

// ClearBasic removes the Basic credential; Basic requests fail from then on.
func (m *Manager) ClearBasic(ctx context.Context) error {
	if err := m.Store.PutSetting(ctx, basicKey, ""); err != nil {
		return fmt.Errorf("auth: clearing the basic credential: %w", err)
	}
	m.log().Info("basic credential cleared")
	return nil
}

// BasicUsername returns the username of the stored Basic credential, if any.
func (m *Manager) BasicUsername(ctx context.Context) (string, bool, error) {
	v, ok, err := m.Store.Setting(ctx, basicKey)
	if err != nil || !ok || v == "" {
		return "", false, err
	}
	user, _, _ := strings.Cut(v, "\n")
	return user, true, nil
}

// SetAdminPassword stores the admin page's password as a bcrypt hash of
// cost m.BcryptCost; it must satisfy AdminPasswordPolicy.
func (m *Manager) SetAdminPassword(ctx context.Context, password string) error {
	if err := AdminPasswordPolicy.CheckPassword(password); err != nil {
		return err
	}
	h, err := hashPassword(password, m.BcryptCost)
	if err != nil {
		return err
	}
	if err := m.Store.PutSetting(ctx, adminKey, h); err != nil {
		return fmt.Errorf("auth: storing the admin password: %w", err)
	}
	m.log().Info("admin password set")
	return nil
}

// AdminPasswordPolicy is what an admin password must satisfy.
var AdminPasswordPolicy = &BasicPolicy{MinLength: 12}

// basicCache remembers credentials that matched a stored hash, keyed by a
// SHA-256 of the presented credential and that hash, so that a valid Basic
// request does not cost a bcrypt comparison each time, and a changed
// credential is never served from the cache.
type basicCache struct {
	mu sync.Mutex
	ok map[[32]byte]bool
}

func (c *basicCache) has(k [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok[k]
}

func (c *basicCache) add(k [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok == nil || len(c.ok) > 256 {
		c.ok = map[[32]byte]bool{}
	}
	c.ok[k] = true
}

// verifyBasic checks RFC 7617 credentials (base64 of "user:password")
// against the stored credential.
func (a *Authenticator) verifyBasic(ctx context.Context, payload string) (store.Token, error) {
	cred, ok, err := a.Settings.Setting(ctx, basicKey)
	if err != nil {
		return store.Token{}, fmt.Errorf("auth: reading the basic credential: %w", err)
	}
	if !ok || cred == "" {
		// Basic is allowed but not set up: answer as for no credentials.
		return store.Token{}, ErrNoCredentials
	}
	wantUser, hash, _ := strings.Cut(cred, "\n")
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return store.Token{}, ErrBasicInvalid
	}
	user, pw, found := strings.Cut(string(raw), ":")
	if !found {
		return store.Token{}, ErrBasicInvalid
	}
	key := sha256.Sum256([]byte(user + "\x00" + pw + "\x00" + hash))
	if !a.basic.has(key) {
		// Always run bcrypt, so that a wrong username takes as long as a
		// wrong password.
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte(wantUser)) == 1
		pwOK := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
		if !userOK || !pwOK {
			return store.Token{}, ErrBasicInvalid
		}
		a.basic.add(key)
	}
	active, err := accountActive(ctx, a.Settings, wantUser)
	if err != nil {
		return store.Token{}, err
	}
	if !active {
		return store.Token{}, ErrAccountInactive
	}
	return store.Token{ID: BasicTokenID, Name: BasicTokenID, Account: wantUser}, nil
}

// checkAdminPassword compares pw with the admin password: plain (from
// --admin-password-file, compared in constant time through a hash) or the
// bcrypt hash in settings.
func checkAdminPassword(ctx context.Context, st store.Settings, plain, pw string) (bool, error) {
	if plain != "" {
		a, b := sha256.Sum256([]byte(plain)), sha256.Sum256([]byte(pw))
		return subtle.ConstantTimeCompare(a[:], b[:]) == 1, nil
	}
	h, ok, err := st.Setting(ctx, adminKey)
	if err != nil {
		return false, fmt.Errorf("auth: reading the admin password: %w", err)
	}
	if !ok || h == "" {
		return false, nil
	}
	return bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)) == nil, nil
}

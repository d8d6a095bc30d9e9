// Package auth issues and verifies the reference server's bearer tokens
// (RFC 6750). A token is "scimlab_" followed by 43 base64url characters (32
// random bytes); the store keeps only its hex SHA-256 and a short display
// prefix, so a leaked database does not leak usable tokens.
//
// Around that core:
//   - Policy is a profile's token policy as data (lifespans, rotation,
//     service accounts, emailDomains scope, notice schedule, Basic and its
//     password rules), with built-in policies for the targets of
//     docs/idp-traffic.md Part 2 (rfc, alation, aws, resolver, atlassian).
//   - Manager creates, lists and revokes tokens under a Policy and
//     (de)activates service accounts; `scimlab token` and the admin page use it.
//   - Authenticator verifies Bearer and, when allowed, Basic credentials.
//   - CheckEmailDomains enforces a token's emailDomains scope on a User.
//   - Notifier emits each expiry notice once, across restarts and replicas.
//   - NewAdmin serves the admin page (/admin) and /admin/api/notices.
//   - Clock, OffsetClock and ManualClock let tests and --clock-offset move time.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// TokenPrefix starts every token this package issues.
const TokenPrefix = "scimlab_"

// DisplayPrefixLen is how many leading characters of a token are stored for display.
const DisplayPrefixLen = 12

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "scimlab"

// Errors Authenticate returns; each maps to an RFC 6750 §3 challenge.
var (
	// ErrNoCredentials: the request carries no Authorization header.
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrMalformed: the Authorization header says Bearer but carries no token.
	ErrMalformed = errors.New("auth: malformed Authorization header")
	// ErrTwoHeaders: the request carries more than one Authorization header
	// field. It is not a list field (RFC 9110 §11.6.2), and a proxy in front
	// that reads the other one would have checked another credential.
	ErrTwoHeaders = errors.New("auth: more than one Authorization header")
	// ErrQueryToken: the token was sent as access_token in the query string,
	// which this server refuses (RFC 6750 §2.3 says it SHOULD NOT be used:
	// URLs end up in logs).
	ErrQueryToken = errors.New("auth: token in the query string is refused")
	// ErrUnknown: no token with that hash.
	ErrUnknown = errors.New("auth: unknown token")
	// ErrExpired: the token's Expires has passed (now >= Expires).
	ErrExpired = errors.New("auth: token expired")
	// ErrRevoked: the token was revoked.
	ErrRevoked = errors.New("auth: token revoked")
	// ErrAccountInactive: the token's service account is deactivated, which
	// invalidates its tokens at once (Resolver, idp-traffic.md §2.3).
	ErrAccountInactive = errors.New("auth: service account deactivated")
	// ErrBasicInvalid: HTTP Basic credentials were sent, Basic is enabled,
	// and they do not match the stored credential.
	ErrBasicInvalid = errors.New("auth: wrong basic credentials")
)

// IsFailure reports whether err is one of the authentication failures above
// (answered with 400 or 401), as opposed to a store error (500).
func IsFailure(err error) bool {
	for _, e := range []error{ErrNoCredentials, ErrMalformed, ErrTwoHeaders, ErrQueryToken, ErrUnknown, ErrExpired, ErrRevoked, ErrAccountInactive, ErrBasicInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Hash returns the hex SHA-256 of a token secret, as stored in store.Token.Hash.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// NewSecret returns a fresh token secret: TokenPrefix + base64url(32 random bytes).
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: reading random bytes: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("auth: reading random bytes: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Create issues a token called name that expires ttl after now (ttl <= 0:
// never), stores its hash and returns the secret, which is shown once and
// never stored.
func Create(ctx context.Context, st store.Tokens, name string, ttl time.Duration, now time.Time) (secret string, tok store.Token, err error) {
	secret, err = NewSecret()
	if err != nil {
		return "", store.Token{}, err
	}
	id, err := newID()
	if err != nil {
		return "", store.Token{}, err
	}
	tok = store.Token{
		ID:      id,
		Name:    name,
		Hash:    Hash(secret),
		Prefix:  secret[:DisplayPrefixLen],
		Created: now.UTC(),
	}
	if ttl > 0 {
		tok.Expires = now.Add(ttl).UTC()
	}
	if err := st.PutToken(ctx, tok); err != nil {
		return "", store.Token{}, fmt.Errorf("auth: storing token: %w", err)
	}
	return secret, tok, nil
}

// Authenticator verifies bearer tokens against a token store and, when
// enabled, HTTP Basic credentials.
type Authenticator struct {
	Tokens store.Tokens
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Settings, when set, is read for service-account states (a token of a
	// deactivated account fails with ErrAccountInactive) and for the Basic
	// credential.
	Settings store.Settings
	// AllowBasic accepts Authorization: Basic (RFC 7617) with the credential
	// stored by Manager.SetBasic; it needs Settings. When it is off, or no
	// credential is set, Basic is answered as if no credentials were sent.
	AllowBasic bool

	basic basicCache
}

// QueryHasToken reports whether a raw query string carries an access_token
// parameter (RFC 6750 §2.3), however its name is percent-encoded
// (access%5Ftoken is the same name, RFC 3986 §2.3). Only a query that
// holds "access" or a percent sign is parsed.
func QueryHasToken(raw string) bool {
	if !strings.Contains(raw, "access") && !strings.Contains(raw, "%") {
		return false
	}
	for part := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && n == "access_token" || name == "access_token" {
			return true
		}
	}
	return false
}

// Authenticate returns the token record that authorises r, or one of the
// package errors (ErrNoCredentials, ErrMalformed, ErrQueryToken, ErrUnknown,
// ErrExpired, ErrRevoked, ErrAccountInactive, ErrBasicInvalid; see
// IsFailure) or a store error. A request authorised by Basic gets a record
// with ID BasicTokenID whose Account is the Basic username.
func (a *Authenticator) Authenticate(r *http.Request) (store.Token, error) {
	if r.URL != nil && QueryHasToken(r.URL.RawQuery) {
		return store.Token{}, ErrQueryToken
	}
	if len(r.Header.Values("Authorization")) > 1 {
		return store.Token{}, ErrTwoHeaders
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return store.Token{}, ErrNoCredentials
	}
	scheme, secret, _ := strings.Cut(strings.TrimSpace(h), " ")
	if strings.EqualFold(scheme, "Basic") && a.AllowBasic && a.Settings != nil {
		return a.verifyBasic(r.Context(), strings.TrimSpace(secret))
	}
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme (Basic, when it is not enabled) carries no bearer
		// credentials: RFC 6750 §3.1 answers with a bare challenge.
		return store.Token{}, ErrNoCredentials
	}
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return store.Token{}, ErrMalformed
	}
	return a.Verify(r.Context(), secret)
}

// Verify checks a presented secret: it must be known, not revoked, not
// expired (a token is expired from its Expires instant on) and, when
// Settings is set, its service account must be active.
func (a *Authenticator) Verify(ctx context.Context, secret string) (store.Token, error) {
	hash := Hash(secret)
	tok, err := a.Tokens.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, ErrUnknown
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("auth: looking up token: %w", err)
	}
	// The lookup is by hash already; compare again in constant time so that a
	// backend with a prefix or case-folding index cannot make a near miss pass.
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 {
		return store.Token{}, ErrUnknown
	}
	now := a.now()
	if !tok.Revoked.IsZero() {
		return store.Token{}, ErrRevoked
	}
	if !tok.Expires.IsZero() && !now.Before(tok.Expires) {
		return store.Token{}, ErrExpired
	}
	if tok.Account != "" && a.Settings != nil {
		ok, err := accountActive(ctx, a.Settings, tok.Account)
		if err != nil {
			return store.Token{}, err
		}
		if !ok {
			return store.Token{}, ErrAccountInactive
		}
	}
	return tok, nil
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Status returns the HTTP status for an authentication error: always 401.
// The contract is that every SCIM request without a valid credential gets
// 401 (RFC 7644 §3.12 lists 401 for authorization failures); RFC 6750 §3.1
// suggests 400 for a malformed request, but IdPs treat a 401 as "the
// credential is wrong" and a 400 as a bug in what they sent.
func Status(err error) int {
	return http.StatusUnauthorized
}

// Challenge returns the WWW-Authenticate value for an authentication error
// (RFC 6750 §3). A request that lacks any authentication information (no
// Authorization header, or one in a scheme this server does not accept) gets
// the bare challenge Bearer realm="scimlab": RFC 6750 §3.1 says it SHOULD
// NOT carry an error code then. Every other failure gets error="invalid_token"
// and a description telling empty, query-string, expired, revoked, unknown
// and account-deactivated tokens apart; wrong Basic credentials get a Basic
// challenge (RFC 7617 §2).
func Challenge(err error) string {
	var desc string
	switch {
	case errors.Is(err, ErrNoCredentials):
		return BearerChallenge
	case errors.Is(err, ErrMalformed):
		desc = "the bearer token is empty"
	case errors.Is(err, ErrTwoHeaders):
		desc = "send one Authorization header"
	case errors.Is(err, ErrQueryToken):
		desc = "send the token in the Authorization header, not the query string"
	case errors.Is(err, ErrExpired):
		desc = "the token has expired"
	case errors.Is(err, ErrRevoked):
		desc = "the token has been revoked"
	case errors.Is(err, ErrAccountInactive):
		desc = "the token's service account has been deactivated"
	case errors.Is(err, ErrBasicInvalid):
		return BasicChallenge
	default:
		desc = "the token is not known to this server"
	}
	return BearerChallenge + `, error="invalid_token", error_description="` + desc + `"`
}

// BearerChallenge is the Bearer challenge (RFC 6750 §3) without an error
// code: the answer to a request that sent no credentials.
const BearerChallenge = `Bearer realm="` + Realm + `"`

// BasicChallenge is the Basic challenge (RFC 7617 §2) of a server that
// accepts Basic credentials.
const BasicChallenge = `Basic realm="` + Realm + `", charset="UTF-8"`

// Describe returns a short reason for an authentication error, fit for a
// SCIM Error detail and a log line (never the token).
func Describe(err error) string {
	switch {
	case errors.Is(err, ErrNoCredentials):
		return "authentication required: send Authorization: Bearer <token>"
	case errors.Is(err, ErrMalformed):
		return "malformed Authorization header: the bearer token is empty"
	case errors.Is(err, ErrTwoHeaders):
		return "the request carries more than one Authorization header; send one"
	case errors.Is(err, ErrQueryToken):
		return "access_token in the query string is refused; use the Authorization header"
	case errors.Is(err, ErrExpired):
		return "the bearer token has expired"
	case errors.Is(err, ErrRevoked):
		return "the bearer token has been revoked"
	case errors.Is(err, ErrAccountInactive):
		return "the service account the credential belongs to has been deactivated"
	case errors.Is(err, ErrBasicInvalid):
		return "the basic credentials are not valid"
	case errors.Is(err, ErrUnknown):
		return "the bearer token is not valid"
	default:
		return "the bearer token could not be verified"
	}
}

// Package server is the reference server's HTTP service: every RFC 7644
// endpoint (/Users, /Groups, /Me, /.search, /Bulk and the discovery
// endpoints of §4) under /scim/v2, over a store.Store, shaped by a
// profile.Profile, behind bearer-token auth, with /healthz and /metrics.
//
// Choices where RFC 7644 leaves room (each is also stated where it is made):
//   - Responses carry Content-Type "application/scim+json" exactly (Entra wants
//     it). Request bodies may be application/scim+json, application/json or
//     untyped; any other media type is 415 with a SCIM Error.
//   - Every request without a valid credential gets 401. One that sent no
//     credentials (or only in a scheme the profile does not read) gets the
//     bare challenge Bearer realm="scimlab" (RFC 6750 §3.1: no error code);
//     an empty bearer token, a token in the query string (access_token=,
//     RFC 6750 §2.3) or a bad one gets error="invalid_token" (§3.1 would
//     allow 400 invalid_request for the malformed cases); where the profile
//     accepts Basic, the 401 offers a Basic challenge too.
//   - readOnly attributes in a PUT body (id, meta, groups) are ignored as RFC
//     7644 §3.5.1 says, including an id that differs from the URL's.
//   - A count above ServiceProviderConfig filter.maxResults is clamped, and a
//     query that matches more than that without paging returns the first page:
//     the server never answers tooMany on a GET.
//   - /Me answers 501 unless the token is bound to an account whose name is a
//     User's userName (RFC 7644 §3.11 allows 501).
//   - Reads are served from an in-memory cache of rendered resources and
//     users' groups when the store is the embedded SQLite or memory backend
//     (this server is then the only writer); every write invalidates what it
//     touches. Config.DisableReadCache turns it off.
//   - A circular bulkId reference is refused with 409 on each operation of the
//     cycle (RFC 7644 §3.7.1 lets the server stop after a failed attempt).
package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// BasePath is where SCIM is served.
const BasePath = "/scim/v2"

// Config configures a Server.
type Config struct {
	// Store holds resources and tokens (required).
	Store store.Store
	// Profile shapes behaviour (nil: the built-in "rfc" profile).
	Profile *profile.Profile
	// Logger receives JSON logs (nil: discard).
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// MaxBodyBytes caps request bodies outside /Bulk (0: the profile's, 1 MiB by default).
	MaxBodyBytes int64
	// BaseURL, when set, is the absolute base used in meta.location and
	// Location headers (e.g. "https://scim.example.test/scim/v2"); otherwise
	// it is derived from each request's Host.
	BaseURL string
	// TokenCacheTTL is how long a verified token is trusted before it is
	// looked up again (0: 2s; negative: no cache). A revocation made by
	// another process takes effect on the next request where the store
	// implements store.AuthEpoch (all of scimlab's do), within this time
	// otherwise.
	TokenCacheTTL time.Duration
	// AdminPassword is the admin page's password (scimlab serve
	// --admin-password-file); when empty the bcrypt hash stored by
	// `scimlab token admin set` is used.
	AdminPassword string
	// NotifyWebhook receives each token expiry notice as a JSON POST ("" = none).
	NotifyWebhook string
	// NotifyInterval is the time between expiry-notice checks (0: one minute).
	NotifyInterval time.Duration
	// DisableReadCache turns off the in-memory read cache of resources and
	// users' groups. The cache is on by default for the SQLite and memory
	// backends, where this server is the only writer of resources; it is
	// never used with other backends (a store shared by replicas).
	DisableReadCache bool
}

// Server serves SCIM over a store. Create it with New.
type Server struct {
	// grace, when set, replaces shutdownGrace (tests).
	grace   time.Duration
	st      store.Store
	prof    *profile.Profile
	log     *slog.Logger
	now     func() time.Time
	maxBody int64
	baseURL string

	auth     *auth.Authenticator
	tokCache tokenCache
	touchMu  sync.Mutex
	touched  map[string]time.Time

	users  *resourceKind
	groups *resourceKind
	kinds  []*resourceKind

	metrics *metrics
	admin   http.Handler // the admin page (authwire.go)
	notify  struct {
		webhook  string
		interval time.Duration
	}
	rules   *profileRules // the profile's attribute rules (limits.go)
	handler http.Handler
	cache   *readCache // nil: no caching

	// hookMembersChecked, when set (by tests), runs between the check of a
	// new group's members and its insert.
	hookMembersChecked func()
}

// resourceKind is a resource type the server serves, with what the handlers
// need about it precomputed.
type resourceKind struct {
	rt       *schema.ResourceType
	name     string // "User"
	endpoint string // "Users"
	schemas  []any  // schemas a stored document starts with
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: Config.Store is required")
	}
	p := cfg.Profile
	if p == nil {
		var err error
		if p, err = profile.Get("rfc"); err != nil {
			return nil, err
		}
	} else {
		p = p.Clone()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = p.MaxBodyBytes
	}
	ttl := cfg.TokenCacheTTL
	if ttl == 0 {
		ttl = 2 * time.Second
	}
	s := &Server{
		st:      cfg.Store,
		prof:    p,
		log:     log,
		now:     now,
		maxBody: maxBody,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		auth:    &auth.Authenticator{Tokens: cfg.Store, Settings: cfg.Store, Now: now, AllowBasic: p.Tokens.Basic != nil},
		touched: map[string]time.Time{},
		metrics: newMetrics(),
	}
	if !cfg.DisableReadCache {
		switch cfg.Store.(type) {
		case *sqlite.Store, *memory.Store:
			s.cache = newReadCache(200_000, 32<<20)
		}
	}
	s.tokCache.ttl = ttl
	s.tokCache.epoch = func() uint64 { return 0 }
	if ae, ok := cfg.Store.(store.AuthEpoch); ok {
		s.tokCache.epoch = ae.AuthEpoch
	}
	s.tokCache.m = map[[sha256.Size]byte]tokenEntry{}
	s.users = &resourceKind{rt: schema.UserResourceType(), name: "User", endpoint: "Users"}
	s.groups = &resourceKind{rt: schema.GroupResourceType(), name: "Group", endpoint: "Groups"}
	for _, k := range []*resourceKind{s.users, s.groups} {
		if k.rt == nil {
			return nil, fmt.Errorf("server: schema has no %s resource type", k.name)
		}
		k.schemas = []any{k.rt.Schema.ID}
		// The schema the server works by (filters, sorting, validation)
		// is the one /Schemas shows: a profile that compares userName or
		// a group's displayName case-exactly does so in every filter
		// operator and in sortBy, not only in uniqueness and `eq`.
		k.rt.Schema = s.withKeyRules(k, k.rt.Schema)
	}
	s.kinds = []*resourceKind{s.users, s.groups}
	rules, err := compileRules(p, s.users.rt, s.groups.rt)
	if err != nil {
		return nil, err
	}
	s.rules = rules
	s.notify.webhook, s.notify.interval = cfg.NotifyWebhook, cfg.NotifyInterval
	s.admin = s.newAdmin(cfg.AdminPassword)
	s.handler = s.buildHandler()
	log.Debug("server configured", "profile", p.Name, "maxBodyBytes", maxBody)
	return s, nil
}

// Profile returns the profile the server runs (a copy is not made; do not change it).
func (s *Server) Profile() *profile.Profile { return s.prof }

// Handler returns the HTTP handler: SCIM under /scim/v2, /healthz and /metrics.
func (s *Server) Handler() http.Handler { return s.handler }

// tokenCache remembers verified tokens for a short time so that each request
// does not cost a store lookup. It is keyed by the SHA-256 of the secret
// (auth.Hash without the hex), never by the secret itself.
//
// An entry is trusted only while the store's auth epoch (store.AuthEpoch)
// is the one read before the token was: a revocation, account deactivation
// or rotation committed by any process (`scimlab token …`, the admin page,
// another replica) changes the epoch, so it takes effect on the next
// request. The ttl bounds an entry's life on stores without an epoch.
type tokenCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	m     map[[sha256.Size]byte]tokenEntry
	epoch func() uint64 // the store's auth epoch; constant without one
}

type tokenEntry struct {
	tok     store.Token
	fetched time.Time
	epoch   uint64
}

func (c *tokenCache) get(hash [sha256.Size]byte, now time.Time) (store.Token, bool) {
	if c.ttl < 0 {
		return store.Token{}, false
	}
	c.mu.Lock()
	e, ok := c.m[hash]
	c.mu.Unlock()
	if !ok || now.Sub(e.fetched) > c.ttl || now.Before(e.fetched) || c.epoch() != e.epoch {
		return store.Token{}, false
	}
	return e.tok, true
}

// put caches tok, verified against the store at epoch (read before the
// token was).
func (c *tokenCache) put(hash [sha256.Size]byte, tok store.Token, now time.Time, epoch uint64) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	if len(c.m) > 1024 {
		clear(c.m)
	}
	c.m[hash] = tokenEntry{tok: tok, fetched: now, epoch: epoch}
	c.mu.Unlock()
}

// authenticate verifies the request's bearer token, through the cache.
func (s *Server) authenticate(r *http.Request) (store.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, _ := strings.Cut(strings.TrimSpace(h), " ")
	secret = strings.TrimSpace(secret)
	now := s.now()
	if h != "" && strings.EqualFold(scheme, "Bearer") && secret != "" && !auth.QueryHasToken(r.URL.RawQuery) && len(r.Header["Authorization"]) == 1 {
		hash := sha256.Sum256([]byte(secret))
		if tok, ok := s.tokCache.get(hash, now); ok {
			if !tok.Expires.IsZero() && !now.Before(tok.Expires) {
				return store.Token{}, auth.ErrExpired
			}
			return tok, nil
		}
		epoch := s.tokCache.epoch()
		tok, err := s.auth.Authenticate(r)
		if err == nil {
			s.tokCache.put(hash, tok, now, epoch)
			s.touch(r.Context(), tok, now)
		}
		return tok, err
	}
	return s.auth.Authenticate(r)
}

// touch records token use at most once a minute per token.
func (s *Server) touch(ctx context.Context, tok store.Token, now time.Time) {
	s.touchMu.Lock()
	last, ok := s.touched[tok.ID]
	if ok && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	s.touched[tok.ID] = now
	s.touchMu.Unlock()
	if err := s.st.TouchToken(ctx, tok.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("recording token use", "tokenID", tok.ID, "err", err.Error())
	}
}

// errorf is shorthand for a SCIM error.
func errorf(status int, t scim.Type, format string, args ...any) *scim.Error {
	return scim.Errorf(status, t, format, args...)
}

package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AdminConfig configures the admin page.
type AdminConfig struct {
	Store  Store
	Policy Policy
	// Profile is the profile name, shown and recorded on tokens.
	Profile string
	// Now is the token clock (time.Now when nil). Sessions expire by the
	// wall clock, so that moving the token clock does not log the admin out.
	Now    func() time.Time
	Logger *slog.Logger
	// Password is the admin password (scimlab serve --admin-password-file).
	// When empty, the bcrypt hash stored by `scimlab token admin set` is used;
	// with neither, the page says how to set one and lets no one in.
	Password string
	// SessionTTL is how long a login lasts (0: 8 hours).
	SessionTTL time.Duration
	// OnChange is called after a token is created or revoked or an account
	// changes state, so that a server can drop cached verifications.
	OnChange func()
}

// AdminCookie is the admin session cookie.
const AdminCookie = "scimlab_admin"

// maxSessions bounds the live admin sessions; the oldest goes first.
const maxSessions = 64

// session is what a replica keeps in memory about a stored session
// (session.go): the flash messages of its next page view.
type session struct {
	csrf string
	// flash is shown on the next page view and then forgotten; secret is a
	// newly generated token, kept in memory only until that view.
	flash, flashErr string
	secret          string
	secretName      string
}

type admin struct {
	cfg      AdminConfig
	mgr      *Manager
	policy   Policy
	mu       sync.Mutex
	sessions map[string]*session // by sessionKey; flash state only
	plainFP  string              // plainFingerprint(cfg.Password), when set
	pages    *template.Template
}

// Failed admin password checks are throttled, on every path that takes the
// admin password (the login form and HTTP Basic on /admin/api/notices):
// after maxLoginFailures within loginWindow, every such check is refused
// with 429, without looking at the password, until the window has moved on.
// The count is kept in the store (session.go), so it is for every replica
// sharing it, not per client: a loopback server sees every client as
// 127.0.0.1, and behind a proxy the client address is the proxy's.
const (
	maxLoginFailures = 10
	loginWindow      = time.Minute
)

// throttle returns how long checks are refused from now (0: not refused).
func (a *admin) throttle(ctx context.Context) (time.Duration, error) {
	now := time.Now()
	fs, err := a.recentFailures(ctx, now)
	if err != nil || len(fs) < maxLoginFailures {
		return 0, err
	}
	// Refused until enough failures leave the window.
	return max(time.Second, loginWindow-now.Sub(fs[len(fs)-maxLoginFailures])), nil
}

// checkPassword compares pw with the admin password through the throttle:
// wait > 0 means the check was refused (too many failures) and pw was not
// looked at.
func (a *admin) checkPassword(r *http.Request, pw string) (ok bool, wait time.Duration, err error) {
	ctx := r.Context()
	if wait, err := a.throttle(ctx); err != nil || wait > 0 {
		if wait > 0 {
			a.cfg.Logger.Warn("admin login throttled", "path", r.URL.Path, "remote", r.RemoteAddr)
		}
		return false, wait, err
	}
	ok, err = checkAdminPassword(ctx, a.cfg.Store, a.cfg.Password, pw)
	if err == nil && !ok {
		err = a.recordFailure(ctx, time.Now())
		a.cfg.Logger.Info("admin login failed", "path", r.URL.Path, "remote", r.RemoteAddr)
	}
	return ok, 0, err
}

// retryAfter is a Retry-After value (RFC 9110 §10.2.3): whole seconds, rounded up.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

//go:embed admin.html
var adminHTML string

// NewAdmin returns the admin page handler, serving:
//
//	GET  /admin                              login form, or the token page once logged in
//	POST /admin/login, /admin/logout
//	POST /admin/tokens                       generate a token (shown once)
//	POST /admin/tokens/{id}/revoke
//	POST /admin/accounts/{name}/{deactivate|activate}
//	GET  /admin/api/notices                  expiry notices as JSON
//
// The admin credential is its own password, not a SCIM token. A login gets
// a random session cookie (HttpOnly, SameSite=Strict, Path /admin) that
// expires on the server after SessionTTL. Every POST needs the session's CSRF
// token in a hidden field, and cross-origin POSTs are refused by their
// Origin and Sec-Fetch-Site headers. /admin/api/notices also accepts HTTP
// Basic with the username "admin" and the admin password, for scripts.
func NewAdmin(cfg AdminConfig) http.Handler {
	p := cfg.Policy
	if err := p.Validate(); err != nil {
		// A profile is validated when loaded; a bad policy here is a
		// programming error, answered on every request.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		})
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var plainFP string
	if cfg.Password != "" {
		plainFP = plainFingerprint(cfg.Password)
	}
	a := &admin{
		cfg:      cfg,
		plainFP:  plainFP,
		mgr:      &Manager{Store: cfg.Store, Policy: p, Profile: cfg.Profile, Now: cfg.Now, Logger: cfg.Logger},
		policy:   p,
		sessions: map[string]*session{},
		pages: template.Must(template.New("admin").Funcs(template.FuncMap{
			"date": func(t time.Time) string {
				if t.IsZero() {
					return "never"
				}
				return t.UTC().Format("2006-01-02 15:04 UTC")
			},
			"short": ShortID,
			// A path segment: an account called "a b?c#d" must not end the
			// path at '?' or '#' (ServeMux decodes it for PathValue).
			"segment": url.PathEscape,
		}).Parse(adminHTML)),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin", a.page)
	mux.HandleFunc("GET /admin/{$}", a.page)
	mux.HandleFunc("POST /admin/login", a.login)
	mux.HandleFunc("POST /admin/logout", a.post(a.logout))
	mux.HandleFunc("POST /admin/tokens", a.post(a.generate))
	mux.HandleFunc("POST /admin/tokens/{id}/revoke", a.post(a.revoke))
	mux.HandleFunc("POST /admin/accounts/{name}/{action}", a.post(a.account))
	mux.HandleFunc("GET /admin/api/notices", a.notices)
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	cop := http.NewCrossOriginProtection()
	return securityHeaders(cop.Handler(mux))
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *admin) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

// session returns the live session of r's cookie (nil when there is none):
// its key and this replica's flash state for it.
func (a *admin) session(r *http.Request) (string, *session, error) {
	c, err := r.Cookie(AdminCookie)
	if err != nil || c.Value == "" {
		return "", nil, nil
	}
	rec, ok, err := a.loadSession(r.Context(), c.Value)
	if err != nil || !ok {
		return "", nil, err
	}
	key := sessionKey(c.Value)
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[key]
	if s == nil {
		if len(a.sessions) >= maxSessions {
			clear(a.sessions) // flash messages only; the sessions are stored
		}
		s = &session{csrf: rec.CSRF}
		a.sessions[key] = s
	}
	return key, s, nil
}

func (a *admin) configured(ctx context.Context) (bool, error) {
	if a.cfg.Password != "" {
		return true, nil
	}
	v, ok, err := a.cfg.Store.Setting(ctx, adminKey)
	return ok && v != "", err
}

func (a *admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.cfg.Logger.Error("admin page", "method", r.Method, "path", r.URL.Path, "err", err.Error())
	http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
}

// post wraps a POST handler: it needs a live session and its CSRF token.
func (a *admin) post(h func(w http.ResponseWriter, r *http.Request, s *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, s, err := a.session(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if s == nil {
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "unreadable form", http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		want := s.csrf
		a.mu.Unlock()
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(want)) != 1 {
			a.cfg.Logger.Warn("admin request with a bad CSRF token refused", "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "the form is stale or forged (CSRF token mismatch); reload the page", http.StatusForbidden)
			return
		}
		h(w, r, s)
	}
}

func (a *admin) setFlash(s *session, msg string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		s.flashErr = err.Error()
	} else {
		s.flash = msg
	}
}

func (a *admin) changed() {
	if a.cfg.OnChange != nil {
		a.cfg.OnChange()
	}
}

func seeOther(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (a *admin) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "unreadable form", http.StatusBadRequest)
		return
	}
	ok, wait, err := a.checkPassword(r, r.PostForm.Get("password"))
	switch {
	case err != nil:
		a.fail(w, r, err)
		return
	case wait > 0:
		w.Header().Set("Retry-After", retryAfter(wait))
		a.render(w, http.StatusTooManyRequests, pageData{Configured: true, LoginError: "Too many failed logins; wait a minute."}, r)
		return
	case !ok:
		configured, _ := a.configured(r.Context())
		a.render(w, http.StatusUnauthorized, pageData{Configured: configured, LoginError: "Wrong password."}, r)
		return
	}
	cred, err := a.credential(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	id := randomString(32)
	if _, err := a.openSession(r.Context(), id, cred); err != nil {
		a.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: AdminCookie, Value: id, Path: "/admin", MaxAge: int(a.cfg.SessionTTL / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	a.cfg.Logger.Info("admin logged in", "remote", r.RemoteAddr)
	seeOther(w, r)
}

func (a *admin) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if c, err := r.Cookie(AdminCookie); err == nil && c.Value != "" {
		if err := a.endSession(r.Context(), c.Value); err != nil {
			a.fail(w, r, err)
			return
		}
		a.mu.Lock()
		delete(a.sessions, sessionKey(c.Value))
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: AdminCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	seeOther(w, r)
}

func (a *admin) generate(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	var ttl time.Duration
	if v := strings.TrimSpace(f.Get("ttl")); v != "" {
		d, err := ParseTTL(v)
		if err != nil {
			a.setFlash(s, "", err)
			seeOther(w, r)
			return
		}
		ttl = d
	}
	var domains []string
	if v := strings.TrimSpace(f.Get("emailDomains")); v != "" {
		domains = strings.Split(v, ",")
	}
	c, err := a.mgr.CreateToken(r.Context(), CreateRequest{Name: f.Get("name"), Account: f.Get("account"), TTL: ttl, EmailDomains: domains})
	if c.Secret != "" {
		a.changed()
		a.mu.Lock()
		s.secret, s.secretName = c.Secret, c.Token.Name
		a.mu.Unlock()
	}
	if err != nil {
		a.setFlash(s, "", err)
	} else {
		msg := fmt.Sprintf("Token %s created; it expires %s.", c.Token.Name, c.Token.Expires.UTC().Format("2006-01-02 15:04 UTC"))
		for _, t := range c.Replaced {
			msg += fmt.Sprintf(" Token %s (%s) was revoked: it is replaced.", t.Name, ShortID(t.ID))
		}
		a.setFlash(s, msg, nil)
	}
	seeOther(w, r)
}

func (a *admin) revoke(w http.ResponseWriter, r *http.Request, s *session) {
	t, err := a.mgr.RevokeID(r.Context(), r.PathValue("id"))
	if err == nil {
		a.changed()
		a.setFlash(s, fmt.Sprintf("Token %s (%s) revoked.", t.Name, ShortID(t.ID)), nil)
	} else {
		a.setFlash(s, "", err)
	}
	seeOther(w, r)
}

func (a *admin) account(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	var n int
	var err error
	switch r.PathValue("action") {
	case "deactivate":
		n, err = a.mgr.DeactivateAccount(r.Context(), name)
	case "activate":
		n, err = a.mgr.ActivateAccount(r.Context(), name)
	default:
		http.NotFound(w, r)
		return
	}
	if err == nil {
		a.changed()
		a.setFlash(s, fmt.Sprintf("Account %s %sd (%d unrevoked tokens).", name, r.PathValue("action"), n), nil)
	} else {
		a.setFlash(s, "", err)
	}
	seeOther(w, r)
}

func (a *admin) notices(w http.ResponseWriter, r *http.Request) {
	_, s, err := a.session(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if s == nil {
		user, pw, ok := r.BasicAuth()
		good := false
		if ok && user == "admin" {
			var wait time.Duration
			var err error
			good, wait, err = a.checkPassword(r, pw)
			switch {
			case err != nil:
				a.fail(w, r, err)
				return
			case wait > 0:
				w.Header().Set("Retry-After", retryAfter(wait))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"error":"too many failed admin password checks; wait a minute"}`+"\n")
				return
			}
		}
		if !good {
			w.Header().Set("WWW-Authenticate", `Basic realm="scimlab admin", charset="UTF-8"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"log in to /admin, or send the admin password with HTTP Basic (username admin)"}`+"\n")
			return
		}
	}
	ns, err := Notices(r.Context(), a.cfg.Store)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Notices []Notice `json:"notices"`
	}{ns})
}

// pageData is what admin.html renders.
type pageData struct {
	Nonce      string
	Configured bool
	LoginError string
	LoggedIn   bool
	CSRF       string
	Profile    string
	Policy     Policy
	Choices    []Lifespan
	Default    string
	Tokens     []TokenInfo
	Banners    []banner
	Flash      string
	FlashErr   string
	Secret     string
	SecretName string
	Accounts   []accountRow
	BasicUser  string
	Notices    []Notice
	Now        time.Time
}

type banner struct {
	Expired bool
	Name    string
	Expires time.Time
	Left    string // "14 days", "1 day": DaysLeft, rounded up
}

type accountRow struct {
	Name   string
	Active bool
}

func (a *admin) page(w http.ResponseWriter, r *http.Request) {
	_, s, err := a.session(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if s == nil {
		ok, err := a.configured(r.Context())
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.render(w, http.StatusOK, pageData{Configured: ok}, r)
		return
	}
	ctx := r.Context()
	d := pageData{LoggedIn: true, Configured: true, Profile: a.mgr.profileName(), Policy: a.policy, Now: a.now()}
	if d.Tokens, err = a.mgr.List(ctx); err != nil {
		a.fail(w, r, err)
		return
	}
	for _, t := range d.Tokens {
		if t.NoticeDue {
			left := DaysText(int64(DaysLeft(t.Expires.Sub(d.Now))))
			d.Banners = append(d.Banners, banner{Expired: t.State == StateExpired, Name: t.Name, Expires: t.Expires, Left: left})
		}
	}
	d.Choices = a.policy.LifespanChoices()
	d.Default = a.policy.DefaultLifespan.String()
	accts, err := a.mgr.Accounts(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for n, ok := range accts {
		d.Accounts = append(d.Accounts, accountRow{Name: n, Active: ok})
	}
	slices.SortFunc(d.Accounts, func(x, y accountRow) int { return strings.Compare(x.Name, y.Name) })
	if a.policy.Basic != nil {
		if d.BasicUser, _, err = a.mgr.BasicUsername(ctx); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	ns, err := Notices(ctx, a.cfg.Store)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(ns) > 10 {
		ns = ns[len(ns)-10:]
	}
	d.Notices = ns
	a.mu.Lock()
	d.CSRF, d.Flash, d.FlashErr, d.Secret, d.SecretName = s.csrf, s.flash, s.flashErr, s.secret, s.secretName
	s.flash, s.flashErr, s.secret, s.secretName = "", "", "", ""
	a.mu.Unlock()
	a.render(w, http.StatusOK, d, r)
}

func (a *admin) render(w http.ResponseWriter, status int, d pageData, r *http.Request) {
	d.Nonce = randomString(16)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+d.Nonce+"'; style-src 'nonce-"+d.Nonce+
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	var buf strings.Builder
	if err := a.pages.Execute(&buf, d); err != nil {
		a.fail(w, r, fmt.Errorf("rendering: %w", err))
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, buf.String())
}

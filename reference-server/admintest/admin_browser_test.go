// Package admintest tests the reference server's auth wiring end to end, over
// real HTTP: the admin page in a headless browser (generate, copy, use,
// revoke, expiry banner), 401 bodies and challenges, account deactivation,
// emailDomains scope, Basic auth and expiry notices under Serve.
package admintest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/scimlab/scimlab/internal/syncbuf"
	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
	"github.com/scimlab/scimlab/reports/browsertest"
)

const adminPassword = "correct horse battery staple"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// env is a reference server over real HTTP with a manual clock.
type env struct {
	t     *testing.T
	url   string
	st    store.Store
	clock *auth.ManualClock
	mgr   *auth.Manager
	logs  *syncbuf.Buffer
}

// newEnv serves the named profile with its token policy; the token cache
// lasts an hour, so that every change the tests see immediately went through
// the cache's flush.
func newEnv(t *testing.T, name string, edit ...func(*server.Config)) *env {
	t.Helper()
	st, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := profile.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	clk := auth.NewManualClock(t0)
	logs := &syncbuf.Buffer{}
	cfg := server.Config{
		Store: st, Profile: p, Now: clk.Now, AdminPassword: adminPassword, TokenCacheTTL: time.Hour,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range edit {
		f(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{t: t, url: hs.URL, st: st, clock: clk, logs: logs,
		mgr: &auth.Manager{Store: st, Policy: srv.Profile().Tokens, Profile: srv.Profile().Name, Now: clk.Now, BcryptCost: 4}}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) scimError(t *testing.T) *scim.Error {
	t.Helper()
	var e scim.Error
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("body is not a SCIM Error: %s", r.body)
	}
	return &e
}

func (e *env) do(method, path, authz string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", scim.MediaType)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

// The admin page in a real browser against the real server: log in,
// generate a token, copy it with the Copy button, use it on /scim/v2/Users,
// see the banner 14 days before expiry, revoke it and see it refused.
func TestAdminPageInBrowser(t *testing.T) {
	e := newEnv(t, "alation")
	ctx, cancel := browsertest.Context(t)
	defer cancel()
	dir := t.TempDir()
	if d := os.Getenv("SCIMLAB_SCREENSHOTS"); d != "" {
		dir = d
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: e.url,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/admin"),
		chromedp.SendKeys("#password", adminPassword),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#generate-token"),
		chromedp.SetValue("#ttl", "30d"),
		chromedp.Click("#generate-token"),
		chromedp.WaitVisible("#token-dialog"),
	); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Value("#token-value"))
	if err != nil || !strings.HasPrefix(shown, auth.TokenPrefix) {
		t.Fatalf("token in the dialog: %q, %v", shown, err)
	}
	warning, _ := chromedp.Run(ctx, chromedp.Text("#token-dialog .warn"))
	if !strings.Contains(warning, "will not be shown again") {
		t.Errorf("dialog warning = %q", warning)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#copy-token")); err != nil {
		t.Fatal(err)
	}
	var status string
	for deadline := time.Now().Add(5 * time.Second); status == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		status, _ = chromedp.Run(ctx, chromedp.Text("#copy-status"))
	}
	if status != "Copied." {
		t.Errorf("copy status = %q", status)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil || copied != shown {
		t.Fatalf("clipboard = %q, %v; want the token from the dialog", copied, err)
	}
	shot("1-generated.png")

	if r := e.do("GET", "/scim/v2/Users", "Bearer "+copied, nil); r.status != 200 {
		t.Fatalf("GET /scim/v2/Users with the copied token: %d %s", r.status, r.body)
	}

	// 14 days before expiry the banner shows, and the token is not shown again.
	e.clock.Set(t0.Add(16 * auth.Day))
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/admin"), chromedp.WaitVisible("#tokens")); err != nil {
		t.Fatal(err)
	}
	banner, err := chromedp.Run(ctx, chromedp.Text(".banner"))
	if err != nil || !strings.Contains(banner, "in 14 days") {
		t.Fatalf("banner = %q, %v", banner, err)
	}
	if page, _ := chromedp.Run(ctx, chromedp.OuterHTML("html")); strings.Contains(page, shown) {
		t.Fatal("the token is shown a second time")
	}
	shot("2-banner.png")

	if err := chromedp.Do(ctx, chromedp.Click(`tr[data-token="scim"] button.danger`), chromedp.WaitVisible("#flash")); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/scim/v2/Users", "Bearer "+copied, nil)
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "revoked") {
		t.Fatalf("the revoked token: %d %s", r.status, r.header.Get("WWW-Authenticate"))
	}
	shot("3-revoked.png")
	if strings.Contains(e.logs.String(), shown) {
		t.Error("the token is in the server log")
	}
}

// adminClient logs in to the admin page over HTTP and posts its forms.
type adminClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newAdminClient(t *testing.T, base string) *adminClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &adminClient{t: t, base: base, c: &http.Client{Jar: jar}}
	res, err := c.c.PostForm(base+"/admin/login", url.Values{"password": {adminPassword}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("admin login: %d", res.StatusCode)
	}
	c.csrf = string(m[1])
	return c
}

func (c *adminClient) post(path string, form url.Values) string {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf)
	res, err := c.c.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		c.t.Fatalf("POST %s: %d %s", path, res.StatusCode, body)
	}
	return string(body)
}

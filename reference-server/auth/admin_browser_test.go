package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/scimlab/scimlab/reports/browsertest"
)

func TestAdminInBrowser(t *testing.T) {
	m, clk := newManager(t, "alation")
	a := authn(m)
	mux := http.NewServeMux()
	admin := NewAdmin(AdminConfig{Store: m.Store, Policy: m.Policy, Profile: "alation", Now: clk.Now, Password: "correct horse battery"})
	mux.Handle("/admin", admin)
	mux.Handle("/admin/", admin)
	mux.HandleFunc("/scim/v2/Users", func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.Authenticate(r); err != nil {
			w.Header().Set("WWW-Authenticate", Challenge(err))
			w.WriteHeader(Status(err))
			return
		}
		w.Write([]byte(`{"totalResults":0}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := browsertest.Context(t)
	defer cancel()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(os.Getenv("SCIMLAB_SHOT_DIR"), name)
		if os.Getenv("SCIMLAB_SHOT_DIR") == "" {
			p = filepath.Join(t.TempDir(), name)
		}
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted, Origin: srv.URL,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write"}, Setting: browser.PermissionSettingGranted, Origin: srv.URL,
	}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.SendKeys("#password", "correct horse battery"),
		chromedp.Click("#login"),
		chromedp.WaitVisible("#generate-token"),
		chromedp.SetValue("#ttl", "30d"),
		chromedp.Click("#generate-token"),
		chromedp.WaitVisible("#token-dialog"),
	)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value("#token-value"))
	if err != nil || !strings.HasPrefix(secret, TokenPrefix) {
		t.Fatalf("token in the dialog: %q, %v", secret, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click("#copy-token")); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text("#copy-status"))
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && status == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		status, err = chromedp.Run(ctx, chromedp.Text("#copy-status"))
	}
	t.Logf("copy status: %q", status)
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil || clip != secret {
		t.Fatalf("clipboard = %q, %v; want the token", clip, err)
	}
	shot("dialog.png")

	get := func(tok string) int {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(clip); code != 200 {
		t.Fatalf("the copied token: %d", code)
	}

	// Banner: 14 days before expiry.
	clk.Set(t0.Add(16 * Day))
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/admin"), chromedp.WaitVisible("#tokens")); err != nil {
		t.Fatal(err)
	}
	banner, err := chromedp.Run(ctx, chromedp.Text(".banner"))
	if err != nil || !strings.Contains(banner, "in 14 days") {
		t.Fatalf("banner = %q, %v", banner, err)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text("body")); strings.Contains(body, secret) {
		t.Fatal("the token is shown again")
	}
	shot("banner.png")

	if err := chromedp.Do(ctx, chromedp.Click(`tr[data-token="scim"] button.danger`), chromedp.WaitVisible("#flash")); err != nil {
		t.Fatal(err)
	}
	if code := get(clip); code != 401 {
		t.Fatalf("the revoked token: %d", code)
	}
	shot("revoked.png")
}

// Package browsertest starts a headless Chromium for tests that drive a page
// through the DevTools protocol with chromedp.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimlab/scimlab/internal/syncbuf"
)

// RequireEnv names the environment variable that, set to "1", turns a
// missing browser from a skip into a failure (set it in CI).
const RequireEnv = "SCIMLAB_REQUIRE_BROWSER"

// Timeout bounds everything one test does in the browser, so a hung page
// fails the test instead of the whole run.
const Timeout = 2 * time.Minute

// browserNames are the executables looked for on PATH, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the path of the first Chromium-family browser on PATH, or ""
// when there is none.
func Find() string {
	for _, name := range browserNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Context starts a fresh headless browser for t (no sandbox, no GPU, no QUIC,
// no first-run, background-networking, component-update or sync traffic, and
// a new profile in a temporary directory) and returns a chromedp context for
// it, bounded by Timeout. The browser is closed when the returned cancel
// function is called or when t ends, whichever comes first.
//
// With no browser on PATH, Context skips t, or fails it when
// SCIMLAB_REQUIRE_BROWSER=1.
func Context(t testing.TB) (context.Context, context.CancelFunc) {
	t.Helper()
	path := Find()
	if path == "" {
		msg := "no Chromium on PATH (looked for " + strings.Join(browserNames, ", ") + "); install it, e.g. apt-get install chromium"
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s; %s=1 requires a browser", msg, RequireEnv)
		}
		t.Skip(msg)
	}
	profile := t.TempDir()
	output := &syncbuf.Buffer{} // chromedp writes it from another goroutine
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(output),
	)
	// The browser outlives t.Context, which ends before cleanups run; the
	// cleanup below closes it before the profile directory is removed.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			closeCtx, cancelClose := context.WithTimeout(browserCtx, 10*time.Second)
			if err := chromedp.Cancel(closeCtx); err != nil && t.Failed() {
				t.Logf("closing the browser: %v", err)
			}
			cancelClose()
			cancelBrowser()
			cancelAlloc()
			if t.Failed() && output.Len() > 0 {
				t.Logf("browser output:\n%s", output.String())
			}
		})
	}
	t.Cleanup(cancel)
	// The first Do starts the browser and binds its life to browserCtx, so it
	// must not carry the timeout (chromedp.NewContext); later actions do.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(browserCtx) }()
	select {
	case err := <-started:
		if err != nil {
			cancel()
			t.Fatalf("start %s: %v\nbrowser output:\n%s", path, err, output.String())
		}
	case <-time.After(Timeout):
		cancel()
		t.Fatalf("start %s: no answer within %s\nbrowser output:\n%s", path, Timeout, output.String())
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, Timeout)
	return ctx, func() {
		cancelTimeout()
		cancel()
	}
}

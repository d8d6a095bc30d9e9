package browsertest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestContext(t *testing.T) {
	ctx, cancel := Context(t)
	defer cancel()
	page := filepath.Join(t.TempDir(), "page.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><title>t</title><p id="p">hello</p><script>document.getElementById("p").textContent += " world"</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("p").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if got != "hello world" {
		t.Errorf("page text = %q, want %q: scripts did not run", got, "hello world")
	}
	ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ua, "Headless") {
		t.Errorf("browser is not headless: %s", ua)
	}
	cancel()
	cancel() // a second call is harmless
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`1`)); err == nil {
		t.Error("the browser still answers after cancel")
	}
}

// fakeTB records what Context does when there is no browser, without ending
// the real test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

// errStop stops Context at a Skip or Fatal, as runtime.Goexit would.
var errStop = errors.New("stopped")

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(errStop)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(errStop)
}

func runWithoutBrowser(t *testing.T, require string) *fakeTB {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(RequireEnv, require)
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != errStop {
				panic(p)
			}
		}()
		Context(f)
	}()
	return f
}

func TestNoBrowser(t *testing.T) {
	f := runWithoutBrowser(t, "")
	if f.skipped == "" || f.fatal != "" {
		t.Errorf("without a browser, Context should skip: skipped=%q fatal=%q", f.skipped, f.fatal)
	}
	f = runWithoutBrowser(t, "1")
	if f.fatal == "" || f.skipped != "" {
		t.Errorf("without a browser and with %s=1, Context should fail: skipped=%q fatal=%q", RequireEnv, f.skipped, f.fatal)
	}
}

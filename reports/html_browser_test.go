package reports

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/scimlab/scimlab/reports/browsertest"
)

// visibleRows counts the check rows the page shows.
const visibleRows = `Array.from(document.querySelectorAll("#checks tr.check")).filter(e => e.checkVisibility()).length`

// TestHTMLInBrowser opens the HTML report of the fixture in headless
// Chromium and uses it as a reader would: it reads the summary, filters,
// expands a failure's evidence and takes a screenshot.
func TestHTMLInBrowser(t *testing.T) {
	ctx, cancel := browsertest.Context(t)
	defer cancel()

	r := loadFixture(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var requests, exceptions []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			exceptions = append(exceptions, fmt.Sprintf("%s (line %d)", msg, d.LineNumber+1))
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.ID("checks"))); err != nil {
		t.Fatal(err)
	}

	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return n
	}
	text := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return s
	}
	click := func(sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}

	// The summary numbers in the DOM are the run's.
	sum := r.Summary()
	if got := eval(`+document.getElementById("summary-total").textContent`); got != sum.Total() {
		t.Errorf("#summary-total = %d, want %d", got, sum.Total())
	}
	for _, v := range Verdicts() {
		if got := eval(fmt.Sprintf(`+document.getElementById("summary-%s").textContent`, v)); got != sum.Of(v) {
			t.Errorf("#summary-%s = %d, want %d", v, got, sum.Of(v))
		}
	}
	if got := text(`document.getElementById("readiness-idp-okta").dataset.ready`); got != "no" {
		t.Errorf("Okta readiness data-ready = %q, want no", got)
	}
	if got := text(`document.getElementById("readiness-idp-entra").textContent`); got != "Entra-ready: yes" {
		t.Errorf("Entra readiness = %q", got)
	}
	// A response body holds <script>; escaping keeps it text, so the page
	// has only its own script.
	if got := eval(`document.scripts.length`); got != 1 {
		t.Errorf("page has %d scripts, want 1: evidence was not escaped", got)
	}

	// Filters hide rows.
	if got := eval(visibleRows); got != sum.Total() {
		t.Fatalf("%d rows visible at first, want %d", got, sum.Total())
	}
	click("#filter-verdict-pass")
	if got, want := eval(visibleRows), sum.Total()-sum.Pass; got != want {
		t.Errorf("with passes hidden, %d rows visible, want %d", got, want)
	}
	if got := eval(`Array.from(document.querySelectorAll('#checks tr.check[data-verdict="pass"]')).filter(e => e.checkVisibility()).length`); got != 0 {
		t.Errorf("%d passing rows still visible", got)
	}
	if got, want := eval(`+document.getElementById("shown-count").textContent`), sum.Total()-sum.Pass; got != want {
		t.Errorf("#shown-count = %d, want %d", got, want)
	}
	click("#filter-level-must")
	wantNoMust := 0
	for _, c := range r.Checks {
		if c.Verdict != Pass && c.Level != Must {
			wantNoMust++
		}
	}
	if got := eval(visibleRows); got != wantNoMust {
		t.Errorf("with passes and MUST hidden, %d rows visible, want %d", got, wantNoMust)
	}
	click("#show-problems")
	if got, want := eval(visibleRows), sum.Fail+sum.Error; got != want {
		t.Errorf("after 'only failures', %d rows visible, want %d", got, want)
	}
	click("#show-all")
	if got := eval(visibleRows); got != sum.Total() {
		t.Errorf("after 'show all', %d rows visible, want %d", got, sum.Total())
	}

	// A failure's evidence is hidden until expanded.
	const req = `#evidence-users-create-201 pre.request`
	if got := eval(fmt.Sprintf(`document.querySelector(%q).checkVisibility() ? 1 : 0`, req)); got != 0 {
		t.Error("evidence is visible before it is expanded")
	}
	click("#evidence-users-create-201 > summary")
	if got := eval(fmt.Sprintf(`document.querySelector(%q).checkVisibility() ? 1 : 0`, req)); got != 1 {
		t.Error("evidence is still hidden after clicking its summary")
	}
	evidence := text(`document.querySelector("#evidence-users-create-201").innerText`)
	for _, want := range []string{"POST https://scim.example.test/scim/v2/Users", "Authorization: Bearer [REDACTED]", `"password": "[REDACTED]"`, "HTTP 400 Bad Request", "name.formatted is required"} {
		if !strings.Contains(evidence, want) {
			t.Errorf("expanded evidence lacks %q:\n%s", want, evidence)
		}
	}
	for _, s := range fixtureSecrets {
		if strings.Contains(evidence, s) {
			t.Errorf("expanded evidence shows the secret %q", s)
		}
	}
	// Expand the evidence whose body was truncated too, for the screenshot.
	click("#evidence-okta-group-patch-members > summary")

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 600 {
		t.Errorf("screenshot is %dx%d, want at least 800x600", b.Dx(), b.Dy())
	}
	shotPath := filepath.Join(t.TempDir(), "report.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		// go test -artifacts keeps the screenshot for a person to look at.
		kept := filepath.Join(t.ArtifactDir(), "report.png")
		if err := os.WriteFile(kept, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", kept)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, u := range requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the report fetched %s; it must be self-contained", u)
		}
	}
	if len(requests) == 0 {
		t.Error("saw no request at all; the network listener is not working")
	}
	for _, e := range exceptions {
		t.Errorf("page script threw: %s", e)
	}
}

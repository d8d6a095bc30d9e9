package cli

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
)

// TestSimulateStoppedInCleanupSaysSo: Ctrl-C after the last phase, while
// the clean-up runs, exits 1 ("interrupted"), and the reports agree: a note
// and an error SIM-OKTA-SCENARIO check, FAILED, not ready. The clean-up
// still ends its work.
func TestSimulateStoppedInCleanupSaysSo(t *testing.T) {
	l := startReference(t, server.LocalOptions{Lenient: true})
	up, err := url.Parse(l.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: up.Scheme, Host: up.Host})
	rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.UserAgent() == "scimlab-simulator/cleanup" {
			cancel() // Ctrl-C
		}
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()

	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"simulate", "--target", srv.URL + up.Path, "--token", l.Token, "--users", "6", "--groups", "2", "--report-dir", dir}, &out, &errb)
	if code != ExitFailures || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d, want 1 and interrupted\n%s\n%s", code, out.String(), errb.String())
	}
	if s := out.String(); strings.Contains(s, "PASSED") || strings.Contains(s, "Okta-ready: yes") || !strings.Contains(s, "SIM-OKTA-SCENARIO") {
		t.Errorf("the summary reads as passed:\n%s", s)
	}
	md := readFile(t, filepath.Join(dir, "report.md"))
	if strings.Contains(md, "PASSED") || strings.Contains(md, "Okta-ready: yes") || !strings.Contains(md, "during the clean-up") {
		t.Errorf("report.md does not say the run was stopped:\n%s", md)
	}
	if js := readFile(t, filepath.Join(dir, "report.json")); !strings.Contains(js, `"id": "SIM-OKTA-SCENARIO"`) || !strings.Contains(js, "during the clean-up") {
		t.Errorf("report.json has no scenario error:\n%.2000s", js)
	}
	if junit := readFile(t, filepath.Join(dir, "junit.xml")); !strings.Contains(junit, "SIM-OKTA-SCENARIO") || !strings.Contains(junit, "<error") {
		t.Errorf("junit.xml has no error for the stop:\n%.2000s", junit)
	}
	if n := countResources(t, l, "Users"); n != 0 {
		t.Errorf("the clean-up stopped at Ctrl-C: %d users left", n)
	}
}

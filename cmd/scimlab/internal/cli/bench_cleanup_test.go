package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/store"
)

// benchHeld is how many resources of a type (User, Group) l's store holds.
func benchHeld(t *testing.T, l *server.Local, typ string) int {
	t.Helper()
	_, total, err := l.Store.List(context.Background(), store.Query{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// TestBenchCleansUpTarget: bench --target deletes the users and the group
// it created when it ends; --keep leaves them and says so; a target that
// refuses DELETE keeps them, and the run still prints its results, says
// what could not be deleted and exits 0.
func TestBenchCleansUpTarget(t *testing.T) {
	l, err := server.StartLocal(context.Background(), server.LocalOptions{DataDSN: ":memory:"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bench := func(target string, extra ...string) (ExitCode, string, string) {
		return runCLI(t, append([]string{"bench", "--target", target, "--token", l.Token, "--users", "20", "--concurrency", "2"}, extra...)...)
	}

	code, out, errs := bench(l.BaseURL)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if u, g := benchHeld(t, l, "User"), benchHeld(t, l, "Group"); u != 0 || g != 0 {
		t.Errorf("the target holds %d users and %d groups after the bench", u, g)
	}
	if !strings.Contains(out, "\nclean-up: deleted 20 users and 1 group the bench created\n") || !strings.Contains(out, "× trivial") {
		t.Errorf("no results or clean-up line:\n%s", out)
	}

	code, out, errs = bench(l.BaseURL, "--keep")
	if code != ExitOK {
		t.Fatalf("--keep: exit %d\n%s\n%s", code, out, errs)
	}
	if u, g := benchHeld(t, l, "User"), benchHeld(t, l, "Group"); u != 20 || g != 1 {
		t.Errorf("--keep: the target holds %d users and %d groups, want 20 and 1", u, g)
	}
	if !strings.Contains(out, "\nclean-up: --keep: left 20 users and 1 group the bench created on "+l.BaseURL) {
		t.Errorf("--keep: no line saying so:\n%s", out)
	}

	// A proxy in front of l that refuses every DELETE.
	u, _ := url.Parse(l.BaseURL)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			http.Error(w, "deletes are off", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer refusing.Close()
	code, out, errs = bench(refusing.URL + u.Path)
	if code != ExitOK {
		t.Fatalf("refused DELETE: exit %d, want 0\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "× trivial") || !strings.Contains(out, "PATCH user (comparison)") {
		t.Errorf("refused DELETE: no results:\n%s", out)
	}
	if !strings.Contains(out, "\nclean-up: deleted 0 users and 0 groups the bench created (21 could not be deleted: DELETE ") ||
		!strings.Contains(out, "status 403, want 204: deletes are off)\n") {
		t.Errorf("refused DELETE: no could-not-be-deleted line:\n%s", out)
	}
	if u, g := benchHeld(t, l, "User"), benchHeld(t, l, "Group"); u != 40 || g != 2 {
		t.Errorf("refused DELETE: the target holds %d users and %d groups, want 40 and 2", u, g)
	}
}

// TestBenchKeepInProcess: --keep without --target runs, and says nothing
// is kept.
func TestBenchKeepInProcess(t *testing.T) {
	t.Setenv("GOGC", "100") // the in-process bench leaves the test's GC alone
	code, out, errs := runCLI(t, "bench", "--data", ":memory:", "--users", "10", "--concurrency", "2", "--keep")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "clean-up:") || !strings.Contains(out, "--keep: nothing kept") {
		t.Errorf("in-process --keep:\n%s", out)
	}
}

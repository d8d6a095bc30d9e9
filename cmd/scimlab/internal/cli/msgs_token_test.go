package cli

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/syncbuf"
)

// TestMsgsRevokeSaysTheNextRequest: 'token revoke' says what the server
// does (TestTokenChangesReachTheServerAtOnce shows it): an SQLite server
// refuses the token from its very next request, not "within seconds".
func TestMsgsRevokeSaysTheNextRequest(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no shared auth epoch here: the server learns of it when its token cache entry expires")
	}
	db := tokenDBPath(t)
	if code, _, errs := runCLI(t, "token", "create", "--data", db, "--name", "old"); code != ExitOK {
		t.Fatal(errs)
	}
	code, _, errs := runCLI(t, "token", "revoke", "--data", db, "old")
	if code != ExitOK || strings.Contains(errs, "within seconds") || !strings.Contains(errs, "refuses it from its very next request") {
		t.Errorf("revoke: exit %d, stderr %q; want the very next request", code, errs)
	}
	for _, want := range []string{"LISTEN/NOTIFY", "within milliseconds"} {
		if !strings.Contains(revocationReach("postgres://u@h/db"), want) {
			t.Errorf("PostgreSQL: %q lacks %q", revocationReach("postgres://u@h/db"), want)
		}
	}
}

// TestMsgsTokenNameOfALiveToken: a second live token of a name would make
// 'token revoke NAME' ambiguous, so create refuses it in one line (exit 2)
// under rotation none; under replace rotation the old token is revoked
// anyway, and under overlap rotation two live tokens are the point: it
// warns there, with the id to revoke the old one by.
func TestMsgsTokenNameOfALiveToken(t *testing.T) {
	db := tokenDBPath(t)
	if code, _, errs := runCLI(t, "token", "create", "--data", db, "--name", "ci"); code != ExitOK {
		t.Fatal(errs)
	}
	// A second live token of one name is created (token create always
	// prints a token), with a warning naming the id to revoke by.
	code, out, errs := runCLI(t, "token", "create", "--data", db, "--name", "ci")
	if code != ExitOK || !tokenLine.MatchString(out) || !strings.Contains(errs, "ci is now the name of 2 live tokens (id ") || !strings.Contains(errs, "revoke by id, e.g. scimlab token revoke --data "+db+" ") {
		t.Errorf("second ci: exit %d, stdout %q, stderr %q; want the token and a warning", code, out, errs)
	}
	// The default name too.
	for range 2 {
		if code, out, errs := runCLI(t, "token", "create", "--data", db); code != ExitOK || !tokenLine.MatchString(out) {
			t.Fatalf("default name: exit %d, %q %q", code, out, errs)
		}
	}
	// Revoking by name is ambiguous now; by id it works.
	if code, _, errs := runCLI(t, "token", "revoke", "--data", db, "ci"); code != ExitUsage || !strings.Contains(errs, "ambiguous") {
		t.Errorf("revoke ci with two live: exit %d, %q", code, errs)
	}

	// Replace rotation (Alation, scope store): the old token is revoked.
	alation := tokenDBPath(t)
	for i := range 2 {
		code, _, errs := runCLI(t, "token", "create", "--data", alation, "--profile", "alation", "--name", "okta")
		if code != ExitOK || i == 1 && !strings.Contains(errs, "replaces the old token") {
			t.Errorf("alation %d: exit %d, %q", i, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "token", "revoke", "--data", alation, "okta"); code != ExitOK {
		t.Errorf("revoke okta under replace rotation: %d %q", code, errs)
	}

	// Overlap rotation (AWS): created, with a warning naming the old id.
	aws := tokenDBPath(t)
	if code, _, errs := runCLI(t, "token", "create", "--data", aws, "--profile", "aws"); code != ExitOK {
		t.Fatal(errs)
	}
	code, out, errs = runCLI(t, "token", "create", "--data", aws, "--profile", "aws")
	if code != ExitOK || !tokenLine.MatchString(out) || !strings.Contains(errs, "scim is now the name of 2 live tokens") || !strings.Contains(errs, "revoke by id, e.g. scimlab token revoke --data "+aws+" ") {
		t.Errorf("second aws token: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestMsgsMemoryTokenCreateNamesServe: 'token create --data :memory:' says
// how to get a token for a server with an in-memory store.
func TestMsgsMemoryTokenCreateNamesServe(t *testing.T) {
	code, _, errs := runCLI(t, "token", "create", "--data", ":memory:")
	if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "'scimlab serve --data :memory:' prints a token of its own on stdout at start") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// TestMsgsServeMemoryPrintsAToken: 'serve --data :memory:' creates a token
// at start and prints it once on stdout, alone; one stderr line says so,
// and no log line holds it. A served file prints nothing on stdout.
func TestMsgsServeMemoryPrintsAToken(t *testing.T) {
	serve := func(data string) (addr string, out, errs *syncbuf.Buffer) {
		t.Helper()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = l.Addr().String()
		l.Close()
		out, errs = &syncbuf.Buffer{}, &syncbuf.Buffer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan ExitCode, 1)
		go func() { done <- run(ctx, []string{"serve", "--addr", addr, "--data", data}, out, errs) }()
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != ExitOK {
				t.Errorf("serve exited %d: %s", code, errs)
			}
		})
		for i := 0; ; i++ {
			if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
				res.Body.Close()
				return addr, out, errs
			}
			if i > 100 {
				t.Fatalf("serve did not start: %s", errs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	addr, out, errs := serve(":memory:")
	if !tokenLine.MatchString(out.String()) {
		t.Fatalf("stdout %q, want the token alone", out.String())
	}
	tok := strings.TrimSpace(out.String())
	if s := listUsersStatus(t, addr, tok); s != http.StatusOK {
		t.Errorf("GET /Users with the printed token: %d", s)
	}
	var said int
	for _, l := range strings.Split(errs.String(), "\n") {
		if strings.HasPrefix(l, "scimlab serve: ") {
			said++
			if !strings.Contains(l, "printed it once on stdout, alone") {
				t.Errorf("stderr line %q", l)
			}
		}
	}
	if said != 1 || strings.Contains(errs.String(), tok) || strings.Contains(errs.String(), tok[len(tok)-20:]) {
		t.Errorf("want one stderr line about the token and never the token in stderr:\n%s", errs)
	}

	_, out, _ = serve(tokenDBPath(t))
	if out.String() != "" {
		t.Errorf("serve of a file printed %q", out.String())
	}
}

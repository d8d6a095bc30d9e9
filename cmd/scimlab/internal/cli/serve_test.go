package cli

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startServe runs `scimlab serve --addr A args…` on a free loopback port
// until the test ends and waits until it answers /healthz. It returns the
// address; the server must exit 0 when stopped.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan ExitCode, 1)
	var errs string
	go func() {
		var code ExitCode
		code, _, errs = runCLIContext(ctx, append([]string{"serve", "--addr", addr, "--log-level", "error"}, args...)...)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("serve exited %d: %s", code, errs)
		}
	})
	for i := 0; ; i++ {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			return addr
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("serve exited %d before answering: %s", code, errs)
		default:
		}
		if i == 400 {
			t.Fatalf("serve never answered: %v", err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestOneServerPerSQLiteFile: a second serve on a database file another
// serve is using is a one-line configuration error (exit 2) that names the
// holder, while token commands still work on that file, and the file can be
// served again once the first server has stopped.
func TestOneServerPerSQLiteFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "one.db")
	first := t.Run("first", func(t *testing.T) {
		startServe(t, "--data", db)
		code, out, errs := runCLI(t, "serve", "--addr", "127.0.0.1:0", "--data", db)
		if code != ExitUsage {
			t.Fatalf("a second serve on the same file: exit %d, want %d (%s%s)", code, ExitUsage, out, errs)
		}
		if !strings.Contains(errs, "another scimlab serve (pid ") || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("want one line naming the other server, got %q", errs)
		}
		if code, _, errs := runCLI(t, "token", "create", "--data", db, "--ttl", "1h"); code != ExitOK {
			t.Errorf("token create while the file is served: exit %d: %s", code, errs)
		}
	})
	if !first {
		return
	}
	startServe(t, "--data", db) // the first server's claim ended with it
}

// TestTokenChangesReachTheServerAtOnce: a revocation or an account
// deactivation made with `scimlab token` while the server runs takes
// effect on the server's very next request, although the server had just
// verified (and cached) the token.
func TestTokenChangesReachTheServerAtOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tokens.db")
	create := func(args ...string) string {
		code, out, errs := runCLI(t, append([]string{"token", "create", "--data", db, "--ttl", "1h"}, args...)...)
		if code != ExitOK {
			t.Fatalf("token create: exit %d: %s", code, errs)
		}
		return strings.TrimSpace(out)
	}
	revoked, ofAccount := create("--name", "to-revoke"), create("--name", "svc-token", "--account", "svc")
	addr := startServe(t, "--data", db)
	status := func(tok string) int { return listUsersStatus(t, addr, tok) }
	for _, c := range []struct {
		tok    string
		change []string
	}{
		{revoked, []string{"token", "revoke", "--data", db, "to-revoke"}},
		{ofAccount, []string{"token", "account", "deactivate", "--data", db, "svc"}},
	} {
		for range 2 {
			if s := status(c.tok); s != 200 {
				t.Fatalf("before %v: %d", c.change, s)
			}
		}
		if code, _, errs := runCLI(t, c.change...); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", c.change, code, errs)
		}
		if s := status(c.tok); s != 401 {
			t.Errorf("the request right after %v: %d, want 401", c.change[:2], s)
		}
	}
}

// listUsersStatus returns the status of GET /scim/v2/Users?count=1 on the
// server at addr with the bearer token tok.
func listUsersStatus(t *testing.T, addr, tok string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users?count=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// serve --admin-password-file applies the policy of 'token admin set': an
// empty or weak password is a one-line configuration error (exit 2), not a
// server that takes "a" as its admin password or ignores the file.
func TestServeAdminPasswordPolicy(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for i, tc := range []struct{ content, want string }{
		{"", "the password file is empty"},
		{"\n", "the password file is empty"},
		{"a\n", "at least 12 characters long (it has 1)"},
		{"abcdefghijk", "at least 12 characters long (it has 11)"},
	} {
		t.Run(strconv.Quote(tc.content), func(t *testing.T) {
			file := write(strconv.Itoa(i), tc.content)
			// Cancelled: a serve that accepted the file would stop at once (exit 0).
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			code, out, errs := runCLIContext(ctx, "serve", "--addr", "127.0.0.1:0", "--data", ":memory:", "--admin-password-file", file)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "--admin-password-file") || !strings.Contains(errs, tc.want) {
				t.Errorf("code %d, stdout %q, stderr %q; want 2 and one line saying %q", code, out, errs, tc.want)
			}
		})
	}
	// The same password passes both paths.
	good := write("good", "correct horse battery\n")
	if code, _, errs := runCLI(t, "token", "admin", "set", "--data", filepath.Join(dir, "db"), "--password-file", good); code != ExitOK {
		t.Fatalf("token admin set: %s", errs)
	}
	addr := startServe(t, "--data", filepath.Join(dir, "db2"), "--admin-password-file", good)
	res, err := http.PostForm("http://"+addr+"/admin/login", url.Values{"password": {"correct horse battery"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/admin" || res.StatusCode != http.StatusOK {
		t.Errorf("login with the file's password: %d at %s", res.StatusCode, res.Request.URL)
	}
}

// A refused --notify-webhook is named without its password or query values.
func TestServeWebhookURLRedacted(t *testing.T) {
	code, _, errs := runCLI(t, "serve", "--data", ":memory:", "--notify-webhook", "ftp://user:hooksecret@127.0.0.1/x?key=qsecret")
	if code != ExitUsage || !strings.Contains(errs, "ftp://user:***@127.0.0.1/x?key=*** is not an http(s) URL") ||
		strings.Contains(errs, "hooksecret") || strings.Contains(errs, "qsecret") {
		t.Errorf("code %d, stderr %q", code, errs)
	}
}

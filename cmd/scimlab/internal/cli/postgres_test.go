package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
)

// TestServeAndTokensOnPostgres: `token create` and `serve` take a
// postgres:// URL for --data, and a token created that way is accepted by a
// server on the same database.
func TestServeAndTokensOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	code, tok, errs := runCLI(t, "token", "create", "--data", dsn, "--ttl", "1h", "--name", "ci")
	if code != ExitOK {
		t.Fatalf("token create: exit %d: %s", code, errs)
	}
	tok = strings.TrimSpace(tok)
	if code, out, errs := runCLI(t, "token", "list", "--data", dsn); code != ExitOK || !strings.Contains(out, "ci") {
		t.Fatalf("token list: exit %d: %s %s", code, out, errs)
	}

	addr := startServe(t, "--data", dsn)
	if s := listUsersStatus(t, addr, tok); s != 200 {
		t.Fatalf("GET /Users with the token created on PostgreSQL: %d", s)
	}
}

// TestPostgresUnreachable: a database that cannot be reached is a one-line
// configuration error (exit 2) that never shows the URL's password.
func TestPostgresUnreachable(t *testing.T) {
	dsn := "postgres://scimlab:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2"
	for _, args := range [][]string{
		{"token", "create", "--data", dsn},
		{"serve", "--addr", "127.0.0.1:0", "--data", dsn},
	} {
		code, out, errs := runCLI(t, args...)
		if code != ExitUsage {
			t.Errorf("%s: exit %d, want %d (%s)", args[0], code, ExitUsage, errs)
		}
		if strings.Contains(out+errs, "s3cret-pw") {
			t.Errorf("%s printed the password: %s", args[0], out+errs)
		}
		if n := strings.Count(strings.TrimSpace(errs), "\n"); n > 0 || errs == "" {
			t.Errorf("%s: want one line on stderr, got %q", args[0], errs)
		}
	}
}

// runCLIContext is runCLI under ctx (serve runs until ctx ends).
func runCLIContext(ctx context.Context, args ...string) (ExitCode, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/store/postgres/pgtest"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
	"github.com/scimlab/scimlab/reports"
)

var tokenLine = regexp.MustCompile(`^scimlab_[A-Za-z0-9_-]{43}\n$`)

func tokenDBPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "scimlab.db")
}

// create prints the token alone on stdout, so that TOKEN=$(…) works.
func TestTokenCreatePrintsOnlyTheToken(t *testing.T) {
	db := tokenDBPath(t)
	code, out, errs := runCLI(t, "token", "create", "--data", db, "--ttl", "90d", "--name", "ci")
	if code != ExitOK || !tokenLine.MatchString(out) {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out, errs)
	}
	if strings.Contains(errs, strings.TrimSpace(out)) || !strings.Contains(errs, "shown only this once") {
		t.Errorf("stderr = %q", errs)
	}
	code, out, _ = runCLI(t, "token", "create", "--data", db, "--ttl", "720h")
	if code != ExitOK || !tokenLine.MatchString(out) {
		t.Fatalf("--ttl 720h: %d %q", code, out)
	}
	st, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok, err := st.TokenByHash(context.Background(), auth.Hash(strings.TrimSpace(out)))
	if err != nil || tok.Name != "scim" || tok.Expires.Sub(tok.Created).Hours() != 720 {
		t.Errorf("stored token: %+v, %v", tok, err)
	}
}

func TestTokenListNeverShowsTheSecret(t *testing.T) {
	db := tokenDBPath(t)
	var secrets []string
	for _, args := range [][]string{{"--name", "ci", "--ttl", "90d"}, {"--name", "soon", "--ttl", "10d", "--account", "svc-okta", "--email-domains", "example.com"}} {
		code, out, errs := runCLI(t, append([]string{"token", "create", "--data", db}, args...)...)
		if code != ExitOK {
			t.Fatalf("create: %s", errs)
		}
		secrets = append(secrets, strings.TrimSpace(out))
	}
	for _, extra := range [][]string{nil, {"--json"}} {
		code, out, errs := runCLI(t, append([]string{"token", "list", "--data", db}, extra...)...)
		if code != ExitOK {
			t.Fatalf("list %v: %d %s", extra, code, errs)
		}
		for _, s := range secrets {
			if strings.Contains(out, s[len(auth.TokenPrefix):len(auth.TokenPrefix)+12]) || strings.Contains(out, auth.Hash(s)) {
				t.Fatalf("list %v shows a secret or its hash:\n%s", extra, out)
			}
		}
		for _, want := range []string{"ci", "soon", "svc-okta", "expiring", "active"} {
			if !strings.Contains(out, want) {
				t.Errorf("list %v lacks %q:\n%s", extra, want, out)
			}
		}
		if extra == nil {
			if !strings.Contains(out, "LAST USED") || !strings.Contains(out, "! expires in 10d") {
				t.Errorf("the table does not mark the token inside the notice window:\n%s", out)
			}
		} else if !strings.Contains(out, `"noticeDue": true`) {
			t.Errorf("JSON lacks noticeDue:\n%s", out)
		}
	}
	// With the clock a server would run with, the short token has expired.
	_, out, _ := runCLI(t, "token", "list", "--data", db, "--clock-offset", "240h")
	if !strings.Contains(out, "expired") || !strings.Contains(out, "! expired, not replaced") {
		t.Errorf("--clock-offset 240h:\n%s", out)
	}
}

func TestTokenRevokeByNameAndID(t *testing.T) {
	db := tokenDBPath(t)
	for _, n := range []string{"ci", "okta", "entra"} {
		if code, _, errs := runCLI(t, "token", "create", "--data", db, "--name", n); code != ExitOK {
			t.Fatal(errs)
		}
	}
	if code, _, errs := runCLI(t, "token", "revoke", "--data", db, "ci"); code != ExitOK || !strings.Contains(errs, "revoked ci") {
		t.Fatalf("revoke by name: %d %s", code, errs)
	}
	_, out, _ := runCLI(t, "token", "list", "--data", db, "--json")
	ids := regexp.MustCompile(`"id": "([0-9a-f]{32})",\s*"name": "(okta|entra)"`).FindAllStringSubmatch(out, -1)
	if len(ids) != 2 {
		t.Fatalf("ids in %s", out)
	}
	// Flags may follow the argument; a full id and a short one both work.
	if code, _, errs := runCLI(t, "token", "revoke", ids[0][1], "--data", db); code != ExitOK {
		t.Fatalf("revoke by id: %s", errs)
	}
	if code, _, errs := runCLI(t, "token", "revoke", "--data", db, ids[1][1][:8]); code != ExitOK {
		t.Fatalf("revoke by short id: %s", errs)
	}
	_, out, _ = runCLI(t, "token", "list", "--data", db)
	if strings.Count(out, "revoked") != 3 {
		t.Errorf("want three revoked tokens:\n%s", out)
	}
	code, _, errs := runCLI(t, "token", "revoke", "--data", db, "ci")
	if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no token has the id or name") {
		t.Errorf("revoking a revoked name: %d %q", code, errs)
	}
	code, _, errs = runCLI(t, "token", "revoke", "--data", db, ids[0][1])
	if code != ExitUsage || !strings.Contains(errs, "already revoked") {
		t.Errorf("revoking twice by id: %d %q", code, errs)
	}
}

func TestTokenProfiles(t *testing.T) {
	db := tokenDBPath(t)
	// AWS: one year, at most two.
	for range 2 {
		if code, _, errs := runCLI(t, "token", "create", "--data", db, "--profile", "aws"); code != ExitOK {
			t.Fatal(errs)
		}
	}
	for _, extra := range [][]string{nil, {"--account", "x"}} {
		code, out, errs := runCLI(t, append([]string{"token", "create", "--data", db, "--profile", "aws"}, extra...)...)
		if code != ExitUsage || out != "" || !strings.Contains(errs, "at most 2 active tokens") || !strings.Contains(errs, "revoke one first: scim (id ") {
			t.Errorf("third aws token %v: %d %q %q", extra, code, out, errs)
		}
	}
	code, _, errs := runCLI(t, "token", "create", "--data", db, "--profile", "aws", "--ttl", "90d")
	if code != ExitUsage || !strings.Contains(errs, "365d (1 year)") {
		t.Errorf("aws with 90d: %d %q", code, errs)
	}
	// The profile the database was last served with applies by default.
	db2 := tokenDBPath(t)
	st, err := sqlite.Open(db2)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetting(context.Background(), auth.ProfileSettingKey, "resolver"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, _, errs = runCLI(t, "token", "create", "--data", db2)
	if code != ExitUsage || !strings.Contains(errs, "profile resolver") || !strings.Contains(errs, "service account") {
		t.Errorf("resolver without account: %d %q", code, errs)
	}
	if code, _, errs = runCLI(t, "token", "create", "--data", db2, "--account", "svc", "--email-domains", "example.com"); code != ExitOK {
		t.Fatalf("resolver with account: %s", errs)
	}
	if code, _, errs = runCLI(t, "token", "account", "deactivate", "--data", db2, "svc"); code != ExitOK || !strings.Contains(errs, "1 unrevoked") {
		t.Fatalf("deactivate: %d %s", code, errs)
	}
	_, out, _ := runCLI(t, "token", "list", "--data", db2)
	if !strings.Contains(out, "account-inactive") {
		t.Errorf("list after deactivation:\n%s", out)
	}
	if code, _, errs = runCLI(t, "token", "create", "--data", db, "--profile", "nope"); code != ExitUsage || !strings.Contains(errs, `unknown profile "nope"`) {
		t.Errorf("unknown profile: %d %q", code, errs)
	}
}

func TestTokenBasicAndAdmin(t *testing.T) {
	db := tokenDBPath(t)
	dir := t.TempDir()
	write := func(name, pw string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(pw+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	weak, strong := write("weak", "password1!"), write("strong", "Abcdefgh12345678!")
	code, _, errs := runCLI(t, "token", "basic", "set", "--data", db, "--profile", "alation", "--username", "svc", "--password-file", weak)
	if code != ExitUsage || !strings.Contains(errs, "at least 17 characters") {
		t.Errorf("weak password: %d %q", code, errs)
	}
	code, out, errs := runCLI(t, "token", "basic", "set", "--data", db, "--profile", "alation", "--username", "svc", "--password-file", strong)
	if code != ExitOK || out != "" || strings.Contains(errs, "Abcdefgh") {
		t.Errorf("strong password: %d %q %q", code, out, errs)
	}
	code, _, errs = runCLI(t, "token", "basic", "set", "--data", db, "--username", "svc", "--password-file", strong)
	if code != ExitUsage || !strings.Contains(errs, "not allowed by this profile") {
		t.Errorf("basic under rfc: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "token", "basic", "clear", "--data", db); code != ExitOK {
		t.Errorf("clear: %s", errs)
	}
	if code, _, errs := runCLI(t, "token", "admin", "set", "--data", db, "--password-file", strong); code != ExitOK {
		t.Errorf("admin set: %s", errs)
	}
	blank := write("blank", strings.Repeat(" ", 12))
	if code, _, errs := runCLI(t, "token", "admin", "set", "--data", db, "--password-file", blank); code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "only whitespace") {
		t.Errorf("admin set, 12 spaces: %d %q; want exit 2, one line: only whitespace", code, errs)
	}
	// The path of a password file is no secret: the error names it.
	missing := filepath.Join(dir, "missing")
	for _, args := range [][]string{{"admin", "set"}, {"basic", "set", "--username", "svc"}} {
		args = append(append([]string{"token"}, args...), "--data", db, "--password-file", missing)
		if code, _, errs := runCLI(t, args...); code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "open "+missing+": ") || strings.Contains(errs, reports.Mask) {
			t.Errorf("%v: missing password file: %d %q; want one line naming the file", args, code, errs)
		}
	}
}

func TestTokenUsageErrors(t *testing.T) {
	db := tokenDBPath(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"token", "create", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"token", "list", "--bogus"}, "flag provided but not defined"},
		{[]string{"token", "revoke", "--bogus"}, "flag provided but not defined"},
		{[]string{"token", "basic", "set", "--bogus"}, "flag provided but not defined"},
		{[]string{"token", "admin", "set", "--bogus"}, "flag provided but not defined"},
		{[]string{"token", "account", "deactivate", "--bogus"}, "flag provided but not defined"},
		{[]string{"token", "frobnicate"}, `unknown subcommand "frobnicate"`},
		{[]string{"token", "create"}, "--data is required"},
		{[]string{"token", "create", "--data", ":memory:"}, "in-memory database"},
		{[]string{"token", "create", "--data", "mysql://x/y"}, "want an SQLite file or a postgres:// URL"},
		{[]string{"token", "create", "--data", db, "--ttl", "soon"}, "invalid lifespan"},
		{[]string{"token", "create", "--data", db, "--ttl", "99999999d"}, "--ttl: lifespan 99999999d is too long: the longest allowed is 36500d (100 years)"},
		{[]string{"token", "create", "--data", db, "--ttl", "2147483647d"}, "the longest allowed is 36500d"},
		{[]string{"token", "create", "--data", db, "--ttl", "106752d"}, "the longest allowed is 36500d"},
		{[]string{"token", "create", "--data", db, "--ttl", "9999999999h"}, "the longest allowed is 36500d"},
		{[]string{"token", "create", "--data", db, "--ttl", "1ns"}, "lifespan 1ns is under a second"},
		{[]string{"token", "create", "--data", db, "--ttl", "0d"}, "lifespan 0d is not positive"},
		{[]string{"token", "create", "--data", db, "--ttl", "-1d"}, "lifespan -1d is not positive"},
		{[]string{"token", "create", "--data", db, "extra"}, `unexpected argument "extra"`},
		{[]string{"token", "list", "--data", filepath.Join(t.TempDir(), "none.db")}, "no database at"},
		{[]string{"token", "revoke", "--data", db}, "want one token name or id"},
		{[]string{"token", "basic", "set", "--data", db}, "--username and --password-file are required"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("code %d, stdout %q, stderr %q; want 2, nothing, one line with %q", code, out, errs, tc.want)
			}
		})
	}
	for _, args := range [][]string{{"token", "create", "--help"}, {"token", "list", "--help"}, {"token", "revoke", "-h"}, {"token", "basic", "--help"}, {"token", "basic", "set", "--help"}, {"token", "admin", "--help"}, {"token", "account", "--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != ExitOK || !strings.Contains(out, "Usage: scimlab token") {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
}

// A token may not be named after another token's id, so that 'token revoke
// REF' never takes one for the other (the name "71302e86" revoked the token
// "first", whose id starts so).
func TestTokenNameThatIsAnID(t *testing.T) {
	db := tokenDBPath(t)
	if code, _, errs := runCLI(t, "token", "create", "--data", db, "--name", "first"); code != ExitOK {
		t.Fatal(errs)
	}
	_, out, _ := runCLI(t, "token", "list", "--data", db, "--json")
	m := regexp.MustCompile(`"id": "([0-9a-f]{32})"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %s", out)
	}
	for _, name := range []string{m[1][:8], m[1]} {
		code, out, errs := runCLI(t, "token", "create", "--data", db, "--name", name)
		if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "is the id (or the start of the id) of token first") {
			t.Errorf("--name %s: %d %q %q; want exit 2 naming token first", name, code, out, errs)
		}
	}
}

// A password file loses exactly one final line break (LF or CRLF), nothing
// else: spaces and a second line break are part of the password.
func TestReadPasswordFileStripsOneLineBreak(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"secret":       "secret",
		"secret\n":     "secret",
		"secret\r\n":   "secret",
		"secret\n\n":   "secret\n",
		" secret \n":   " secret ",
		"secret\t\n":   "secret\t",
		"line1\nline2": "line1\nline2",
	} {
		p := filepath.Join(dir, "pw")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := readPasswordFile(p)
		if err != nil || got != want {
			t.Errorf("readPasswordFile(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
}

// A token or account name that is not valid UTF-8, holds a control
// character, or (for an account) is "." or "..", is refused before it
// reaches the store: one line, exit 2, on SQLite and (with
// SCIMLAB_TEST_POSTGRES) PostgreSQL alike, never a database error.
func TestTokenCreateRefusesBadNames(t *testing.T) {
	dbs := map[string]func(*testing.T) string{"sqlite": tokenDBPath, "postgres": func(t *testing.T) string { return pgtest.DSN(t) }}
	for backend, db := range dbs {
		t.Run(backend, func(t *testing.T) {
			data := db(t)
			for _, tc := range []struct {
				flag, value, want string
			}{
				{"--name", "a\xffb", `token name "a\xffb" is not valid UTF-8`},
				{"--name", "a\x01b", "contains a control character"},
				{"--account", "svc\xfe", `account name "svc\xfe" is not valid UTF-8`},
				{"--account", "svc\x7f", "contains a control character"},
				{"--account", ".", `account name "." is not allowed`},
				{"--account", "..", `account name ".." is not allowed`},
			} {
				code, out, errs := runCLI(t, "token", "create", "--data", data, "--ttl", "1h", tc.flag, tc.value)
				if code != ExitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) || !utf8.ValidString(errs) || strings.Contains(errs, "ERROR") {
					t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.flag, tc.value, code, out, errs, tc.want)
				}
			}
			if code, out, _ := runCLI(t, "token", "list", "--data", data); code != ExitOK || strings.Contains(out, "\xff") {
				t.Errorf("token list after refusals: %d %q", code, out)
			}
			code, _, errs := runCLI(t, "token", "account", "deactivate", "--data", data, "svc\xff")
			if code != ExitUsage || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "not valid UTF-8") {
				t.Errorf("account deactivate of invalid UTF-8: %d %q", code, errs)
			}
		})
	}
}

// Package pgtest gives tests a PostgreSQL schema of their own, from the
// server named by the environment variable SCIMLAB_TEST_POSTGRES, e.g.
//
//	SCIMLAB_TEST_POSTGRES='postgres://scimlab:scimlab@127.0.0.1:5432/scimlab_test?sslmode=disable'
//
// The role needs to be allowed to create schemas in that database. Without
// the variable, tests that ask for a DSN are skipped, unless
// SCIMLAB_REQUIRE_POSTGRES=1 (CI sets it) makes them fail instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "SCIMLAB_TEST_POSTGRES"

// RequireVar, set to 1, turns a missing EnvVar into a test failure: CI
// starts a PostgreSQL (.ci/postgres) and must not skip these tests silently.
const RequireVar = "SCIMLAB_REQUIRE_POSTGRES"

// timeout bounds each of DSN's own statements (connect, create, drop).
const timeout = 30 * time.Second

// DSN returns the URL of a new, empty schema (named t_ and 16 hex digits)
// on the server in SCIMLAB_TEST_POSTGRES, dropped with everything in it
// when the test ends. The URL is the variable's with search_path=<schema>
// added to its query, so that tables created through it go in that schema
// (pgx sends unknown URL parameters to the server as run-time parameters).
// Without the variable, DSN skips the test (fails it under RequireVar).
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		if os.Getenv(RequireVar) == "1" {
			t.Fatal(EnvVar + " is not set and " + RequireVar + "=1: no PostgreSQL to test against")
		}
		t.Skip(EnvVar + " is not set: no PostgreSQL to test against")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not quoted: the variable holds a password.
		t.Fatalf("pgtest: %s must be a postgres:// or postgresql:// URL", EnvVar)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("pgtest: random schema name: %v", err)
	}
	schema := "t_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()
	if err := exec(base, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("pgtest: create schema %s on %s: %v", schema, u.Redacted(), clean(err, u))
	}
	t.Cleanup(func() {
		if err := exec(base, "DROP SCHEMA IF EXISTS "+ident+" CASCADE"); err != nil {
			t.Errorf("pgtest: drop schema %s on %s: %v", schema, u.Redacted(), clean(err, u))
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// exec runs one statement on a connection of its own.
func exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// clean returns err's text without u's password (pgx masks it already;
// this is for safety in test logs).
func clean(err error, u *url.URL) string {
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && len(pw) >= 3 {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

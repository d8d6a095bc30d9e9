// Package backend opens the store a --data value names: a PostgreSQL URL
// (postgres:// or postgresql://), ":memory:", or an SQLite file.
package backend

import (
	"net/url"
	"strings"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	d := strings.ToLower(strings.TrimSpace(dsn))
	return strings.HasPrefix(d, "postgres://") || strings.HasPrefix(d, "postgresql://")
}

// Open opens the store dsn names: PostgreSQL for a postgres:// or
// postgresql:// URL (the backend shared by several server replicas),
// otherwise SQLite (a file path, a file: URI, or ":memory:").
func Open(dsn string) (store.Store, error) {
	if IsPostgres(dsn) {
		return postgres.Open(strings.TrimSpace(dsn))
	}
	return sqlite.Open(dsn)
}

// Redact returns dsn with the passwords of a URL replaced by "xxxxx", for
// logs and error messages (a PostgreSQL URL's as the store masks them, in
// the query too).
func Redact(dsn string) string {
	if IsPostgres(dsn) {
		return postgres.Redact(strings.TrimSpace(dsn))
	}
	u, err := url.Parse(strings.TrimSpace(dsn))
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); !has {
		return dsn
	}
	return u.Redacted()
}

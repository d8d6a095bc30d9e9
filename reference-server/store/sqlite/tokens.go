package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

const tokenCols = "id, name, account, hash, prefix, profile, email_domains, created, expires, last_used, revoked"

// PutToken implements store.Tokens.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	return s.UpdateTokens(ctx, func([]store.Token) ([]store.Token, error) { return []store.Token{t}, nil })
}

// UpdateTokens implements store.Tokens: fn runs on the write connection,
// inside the writer's transaction, which holds SQLite's write lock against
// every other process on the file.
func (s *Store) UpdateTokens(ctx context.Context, fn func([]store.Token) ([]store.Token, error)) error {
	wrote := false
	err := s.do(ctx, func(w *wtx) error {
		rows, err := w.query("SELECT " + tokenCols + " FROM tokens ORDER BY created, id")
		current, err := s.scanTokens(rows, err)
		if err != nil {
			return err
		}
		put, err := fn(current)
		if err != nil {
			return err
		}
		for _, t := range put {
			if err := putToken(w, t); err != nil {
				return err
			}
		}
		wrote = len(put) > 0
		return nil
	})
	if err == nil && wrote {
		s.authChanged()
	}
	return err
}

// putToken inserts or replaces t by its ID; another token's hash is
// ErrConflict.
func putToken(w *wtx, t store.Token) error {
	if t.ID == "" {
		return errors.New("store: PutToken needs an ID")
	}
	domains := t.EmailDomains
	if domains == nil {
		domains = []string{}
	}
	ed, err := json.Marshal(domains)
	if err != nil {
		return err
	}
	rows, err := w.query("SELECT id FROM tokens WHERE hash = ?", t.Hash)
	if err != nil {
		return err
	}
	var other string
	if rows.Next() {
		err = rows.Scan(&other)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if other != "" && other != t.ID {
		return fmt.Errorf("%w: token hash", store.ErrConflict)
	}
	_, err = w.exec(`INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, account = excluded.account, hash = excluded.hash,
		prefix = excluded.prefix, profile = excluded.profile, email_domains = excluded.email_domains,
		created = excluded.created, expires = excluded.expires, last_used = excluded.last_used, revoked = excluded.revoked`,
		t.ID, t.Name, t.Account, t.Hash, t.Prefix, t.Profile, string(ed),
		micros(doc.Time(t.Created)), micros(doc.Time(t.Expires)), micros(doc.Time(t.LastUsed)), micros(doc.Time(t.Revoked)))
	return err
}

func (s *Store) scanTokens(rows *sql.Rows, err error) ([]store.Token, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var (
			t                               store.Token
			ed                              string
			created, expires, used, revoked int64
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Account, &t.Hash, &t.Prefix, &t.Profile, &ed, &created, &expires, &used, &revoked); err != nil {
			return nil, s.readErr(err)
		}
		if err := json.Unmarshal([]byte(ed), &t.EmailDomains); err != nil {
			return nil, fmt.Errorf("store/sqlite: token %q: email domains: %w", t.ID, err)
		}
		if len(t.EmailDomains) == 0 {
			t.EmailDomains = nil
		}
		t.Created, t.Expires, t.LastUsed, t.Revoked = fromMicros(created), fromMicros(expires), fromMicros(used), fromMicros(revoked)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.readErr(err)
	}
	// Uses not yet written count already.
	s.touches.Apply(out)
	return out, nil
}

// TokenByHash implements store.Tokens.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	if s.closed.Load() {
		return store.Token{}, store.ErrClosed
	}
	rows, err := s.query(ctx, nil, "SELECT "+tokenCols+" FROM tokens WHERE hash = ?", hash)
	ts, err := s.scanTokens(rows, err)
	if err != nil {
		return store.Token{}, err
	}
	if len(ts) == 0 {
		return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
	}
	return ts[0], nil
}

// ListTokens implements store.Tokens.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.query(ctx, nil, "SELECT "+tokenCols+" FROM tokens ORDER BY created, id")
	return s.scanTokens(rows, err)
}

// TouchToken implements store.Tokens. Uses are kept in memory and written
// at most once per touchEvery (and at Close), never one fsync per request.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	rows, err := s.query(ctx, nil, "SELECT 1 FROM tokens WHERE id = ?", id)
	if err != nil {
		return err
	}
	found := rows.Next()
	if err := rows.Close(); err != nil {
		return s.readErr(err)
	}
	if !found {
		return fmt.Errorf("%w: token %q", store.ErrNotFound, id)
	}
	s.touches.Note(id, doc.Time(at))
	return nil
}

// Setting implements store.Settings.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	if s.closed.Load() {
		return "", false, store.ErrClosed
	}
	rows, err := s.query(ctx, nil, "SELECT value FROM settings WHERE key = ?", key)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return "", false, s.readErr(rows.Err())
	}
	var v string
	if err := rows.Scan(&v); err != nil {
		return "", false, s.readErr(err)
	}
	return v, true, nil
}

// PutSetting implements store.Settings.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	err := s.do(ctx, func(w *wtx) error {
		_, err := w.exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
		return err
	})
	if err == nil {
		s.authChanged() // settings hold accounts and Basic credentials
	}
	return err
}

// SettingsWithPrefix implements store.Settings.
func (s *Store) SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	// Keys compare bytewise; no UTF-8 key contains the byte 0xff.
	rows, err := s.query(ctx, nil, "SELECT key, value FROM settings WHERE key >= ? AND key < ? ORDER BY key", prefix, prefix+"\xff")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.readErr(err)
		}
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, s.readErr(rows.Err())
}

// PutSettingIfAbsent implements store.Settings.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	var stored bool
	err := s.do(ctx, func(w *wtx) error {
		n, err := w.exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value)
		stored = n > 0
		return err
	})
	if stored && err == nil {
		s.authChanged()
	}
	return stored && err == nil, err
}

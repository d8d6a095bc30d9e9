package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

const tokenCols = "id, name, account, hash, prefix, profile, email_domains, created, expires, last_used, revoked"

// nullTime is t normalised as the store keeps it, or NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = doc.Time(t)
	return &t
}

// upsertToken inserts or replaces a token by id ($1 … $11 in tokenCols
// order). The unique index on hash rejects another token's hash, whichever
// replica wrote it.
const upsertToken = `INSERT INTO tokens (` + tokenCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, account = excluded.account, hash = excluded.hash,
	prefix = excluded.prefix, profile = excluded.profile, email_domains = excluded.email_domains,
	created = excluded.created, expires = excluded.expires, last_used = excluded.last_used, revoked = excluded.revoked`

// tokenArgs are t's values for upsertToken.
func tokenArgs(t store.Token) []any {
	domains := t.EmailDomains
	if domains == nil {
		domains = []string{}
	}
	return []any{t.ID, t.Name, t.Account, t.Hash, t.Prefix, t.Profile, domains,
		nullTime(t.Created), nullTime(t.Expires), nullTime(t.LastUsed), nullTime(t.Revoked)}
}

// tokenErr turns a unique violation on the hash into ErrConflict.
func tokenErr(ctx context.Context, t store.Token, err error) error {
	if code, _ := pgCode(err); code == codeUniqueViolation {
		return fmt.Errorf("%w: token hash", store.ErrConflict)
	}
	if err != nil {
		return dbErr(ctx, fmt.Sprintf("put token %q", t.ID), err)
	}
	return nil
}

// PutToken implements store.Tokens: one statement (upsertToken), which
// waits for an UpdateTokens in progress (its table lock).
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	if t.ID == "" {
		return errors.New("store: PutToken needs an ID")
	}
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.pool.Exec(ctx, upsertToken, tokenArgs(t)...)
	if err := tokenErr(ctx, t, err); err != nil {
		return err
	}
	s.authChanged(ctx)
	return nil
}

// UpdateTokens implements store.Tokens: one transaction that first locks
// the tokens table against every other writer of it (SHARE ROW EXCLUSIVE:
// reads go on, and so do token checks), on every replica.
func (s *Store) UpdateTokens(ctx context.Context, fn func([]store.Token) ([]store.Token, error)) error {
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	tx, err := s.pool.BeginTx(ctx, writeTx)
	if err != nil {
		return dbErr(ctx, "update tokens", err)
	}
	defer rollback(tx)
	if _, err := tx.Exec(ctx, "LOCK TABLE tokens IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return dbErr(ctx, "update tokens: lock", err)
	}
	rows, err := tx.Query(ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY created NULLS FIRST, id")
	var current []store.Token
	if err == nil {
		current, err = s.scanTokens(rows)
	}
	if err != nil {
		return dbErr(ctx, "update tokens: list", err)
	}
	put, err := fn(current)
	if err != nil {
		return err
	}
	for _, t := range put {
		if t.ID == "" {
			return errors.New("store: PutToken needs an ID")
		}
		_, err := tx.Exec(ctx, upsertToken, tokenArgs(t)...)
		if err := tokenErr(ctx, t, err); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return dbErr(ctx, "update tokens: commit", err)
	}
	if len(put) > 0 {
		s.authChanged(ctx)
	}
	return nil
}

// scanTokens reads rows of tokenCols; uses not yet written count already.
func (s *Store) scanTokens(rows pgx.Rows) ([]store.Token, error) {
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		var (
			t                               store.Token
			created, expires, used, revoked *time.Time
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Account, &t.Hash, &t.Prefix, &t.Profile, &t.EmailDomains,
			&created, &expires, &used, &revoked); err != nil {
			return nil, err
		}
		if len(t.EmailDomains) == 0 {
			t.EmailDomains = nil
		}
		t.Created, t.Expires, t.LastUsed, t.Revoked = fromNull(created), fromNull(expires), fromNull(used), fromNull(revoked)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.touches.Apply(out)
	return out, nil
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return doc.Time(*t)
}

// TokenByHash implements store.Tokens.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return store.Token{}, err
	}
	defer release()
	rows, err := s.pool.Query(ctx, "SELECT "+tokenCols+" FROM tokens WHERE hash = $1", hash)
	var ts []store.Token
	if err == nil {
		ts, err = s.scanTokens(rows)
	}
	if err != nil {
		return store.Token{}, dbErr(ctx, "token by hash", err)
	}
	if len(ts) == 0 {
		return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
	}
	return ts[0], nil
}

// ListTokens implements store.Tokens: by creation time (never-set first),
// then id.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := s.pool.Query(ctx, "SELECT "+tokenCols+" FROM tokens ORDER BY created NULLS FIRST, id")
	var ts []store.Token
	if err == nil {
		ts, err = s.scanTokens(rows)
	}
	if err != nil {
		return nil, dbErr(ctx, "list tokens", err)
	}
	return ts, nil
}

// TouchToken implements store.Tokens. Uses are kept in memory and written
// at most once per touchEvery (and at Close), in one statement for all of
// them, never one commit per request. A token with a use pending is known
// to exist (tokens are never deleted), so only its first use in a period
// asks the database.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	at = doc.Time(at)
	if s.touches.NoteIfPending(id, at) {
		return nil
	}
	var found bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM tokens WHERE id = $1)", id).Scan(&found); err != nil {
		return dbErr(ctx, fmt.Sprintf("touch token %q", id), err)
	}
	if !found {
		return fmt.Errorf("%w: token %q", store.ErrNotFound, id)
	}
	s.touches.Note(id, at)
	return nil
}

// touchLoop writes coalesced token uses every touchEvery until touchStop
// closes. A failed write keeps them pending for the next tick.
func (s *Store) touchLoop() {
	defer close(s.touchEnd)
	tick := time.NewTicker(touchEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), touchEvery*10)
			_ = s.flushTouches(ctx)
			cancel()
		case <-s.touchStop:
			return
		}
	}
}

// flushTouches writes the pending token uses in one statement. LastUsed
// never moves back: GREATEST keeps a later use another replica wrote (and
// ignores a NULL, never used).
func (s *Store) flushTouches(ctx context.Context) error {
	batch := s.touches.Take()
	if batch == nil {
		return nil
	}
	ids := make([]string, 0, len(batch))
	ats := make([]time.Time, 0, len(batch))
	for id, at := range batch {
		ids = append(ids, id)
		ats = append(ats, at)
	}

	if _, err := s.pool.Exec(ctx, `UPDATE tokens SET last_used = GREATEST(tokens.last_used, u.at)
FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) WHERE tokens.id = u.id`, ids, ats); err != nil {
		return dbErr(ctx, "write token uses", err)
	}
	s.touches.Written(batch)
	return nil
}

// Setting implements store.Settings.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return "", false, err
	}
	defer release()
	var v string
	err = s.pool.QueryRow(ctx, "SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, dbErr(ctx, fmt.Sprintf("setting %q", key), err)
	}
	return v, true, nil
}

// PutSetting implements store.Settings.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	_, err = s.pool.Exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	if err != nil {
		return dbErr(ctx, fmt.Sprintf("put setting %q", key), err)
	}
	s.authChanged(ctx) // settings hold accounts and Basic credentials
	return nil
}

// SettingsWithPrefix implements store.Settings (keys compare bytewise:
// the column is COLLATE "C").
func (s *Store) SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := s.pool.Query(ctx, "SELECT key, value FROM settings WHERE starts_with(key, $1) ORDER BY key", prefix)
	if err != nil {
		return nil, dbErr(ctx, "settings", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, dbErr(ctx, "settings", err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, "settings", err)
	}
	return out, nil
}

// PutSettingIfAbsent implements store.Settings. The primary key makes it
// exactly-once across callers and replicas: of concurrent inserts of one
// key, PostgreSQL lets one insert and the others, having waited for it to
// commit, do nothing.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	tag, err := s.pool.Exec(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", key, value)
	if err != nil {
		return false, dbErr(ctx, fmt.Sprintf("put setting %q", key), err)
	}
	if tag.RowsAffected() != 1 {
		return false, nil
	}
	s.authChanged(ctx)
	return true, nil
}

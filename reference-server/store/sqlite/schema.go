package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] takes the schema from version i to i+1 (PRAGMA user_version).
// Append only; never edit a released migration.
//
// There are no foreign keys: members name groups and members by id alone
// (the store.Tx contract), and Delete removes memberships itself.
var migrations = []string{
	// 1: resources, members, tokens, settings.
	`
CREATE TABLE resources (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	type        TEXT    NOT NULL,
	id          TEXT    NOT NULL,
	key         TEXT    NOT NULL DEFAULT '',
	external_id TEXT    NOT NULL DEFAULT '',
	doc         TEXT    NOT NULL,
	created     INTEGER NOT NULL,
	modified    INTEGER NOT NULL,
	version     INTEGER NOT NULL
);
-- (id, type) rather than (type, id): equality on both is served either way,
-- and the members table names groups by id alone.
CREATE UNIQUE INDEX resources_id ON resources (id, type);
-- Entries are ordered by (type, seq): a scan of one type needs no sort.
CREATE INDEX resources_type ON resources (type);
CREATE UNIQUE INDEX resources_key ON resources (type, key) WHERE key <> '';
CREATE INDEX resources_external_id ON resources (type, external_id) WHERE external_id <> '';

CREATE TABLE members (
	group_id TEXT    NOT NULL,
	value    TEXT    NOT NULL,
	type     TEXT    NOT NULL DEFAULT '',
	display  TEXT    NOT NULL DEFAULT '',
	pos      INTEGER NOT NULL,
	PRIMARY KEY (group_id, value)
) WITHOUT ROWID;
CREATE INDEX members_pos ON members (group_id, pos);
CREATE INDEX members_value ON members (value);

CREATE TABLE tokens (
	id            TEXT    PRIMARY KEY,
	name          TEXT    NOT NULL DEFAULT '',
	account       TEXT    NOT NULL DEFAULT '',
	hash          TEXT    NOT NULL,
	prefix        TEXT    NOT NULL DEFAULT '',
	profile       TEXT    NOT NULL DEFAULT '',
	email_domains TEXT    NOT NULL DEFAULT '[]',
	created       INTEGER NOT NULL DEFAULT 0,
	expires       INTEGER NOT NULL DEFAULT 0,
	last_used     INTEGER NOT NULL DEFAULT 0,
	revoked       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);

CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`,
	// 2: per-type row counts, kept by triggers, so that a page of a type's
	// full listing needs no COUNT(*) over the type (O(n) per page), and a
	// counter of rows that left each type, which tells the List position
	// marks (marks.go) whether positions may have moved.
	`
CREATE TABLE type_stats (
	type    TEXT    PRIMARY KEY,
	live    INTEGER NOT NULL, -- rows of the type
	removed INTEGER NOT NULL  -- rows that ever left it (deleted or retyped)
) WITHOUT ROWID;
INSERT INTO type_stats (type, live, removed) SELECT type, COUNT(*), 0 FROM resources GROUP BY type;
CREATE TRIGGER resources_counted AFTER INSERT ON resources BEGIN
	INSERT INTO type_stats (type, live, removed) VALUES (NEW.type, 1, 0)
		ON CONFLICT (type) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER resources_uncounted AFTER DELETE ON resources BEGIN
	UPDATE type_stats SET live = live - 1, removed = removed + 1 WHERE type = OLD.type;
END;
-- The store never changes a row's type; should anything, both types'
-- positions move (the row joins the other type in the middle of its order).
CREATE TRIGGER resources_retyped AFTER UPDATE OF type ON resources WHEN OLD.type <> NEW.type BEGIN
	UPDATE type_stats SET live = live - 1, removed = removed + 1 WHERE type = OLD.type;
	INSERT INTO type_stats (type, live, removed) VALUES (NEW.type, 1, 1)
		ON CONFLICT (type) DO UPDATE SET live = live + 1, removed = removed + 1;
END;
`,
}

// SchemaVersion is the schema version this package writes.
const SchemaVersion = 2

// migrate brings the database to SchemaVersion in one immediate transaction,
// so that two processes opening a new file at once do not both migrate.
func migrate(ctx context.Context, c *sql.Conn) (err error) {
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	var v int
	if err := c.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("store/sqlite: the database has schema version %d; this scimlab knows up to %d (upgrade scimlab)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := c.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("store/sqlite: migrate to schema version %d: %w", i+1, err)
		}
	}
	if v < len(migrations) {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return err
		}
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

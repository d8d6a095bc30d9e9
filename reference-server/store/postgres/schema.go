package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MigrationLock is the key of the advisory lock (pg_advisory_xact_lock)
// that Open holds while it migrates the schema: a fixed number that no
// other application sharing the database should use ("scimlab" in ASCII).
// An operator changing the schema by hand can take it to keep replicas
// from migrating meanwhile. It is one lock for the whole database, not per
// schema: replicas opening different schemas at once wait for each other a
// moment, which is harmless.
const MigrationLock int64 = 0x7363696d6c6162

// migrations[i] takes the schema from version i to i+1 (the highest version
// in versionTable). Append only; never edit a released migration.
//
// Design notes:
//   - doc is bytea holding the document exactly as doc.Encode wrote it, not
//     jsonb: jsonb would re-normalise numbers (1e300, -0, 9007199254740993
//     keep their text only as bytes), reorder and dedupe keys, and reject
//     "\u0000" in strings, all of which documents must survive unchanged.
//   - Identifier columns are COLLATE "C": comparisons and ordering are
//     bytewise, as in the SQLite backend, faster than a locale's, and the
//     indexes cannot be invalidated by an operating-system collation update.
//   - Times are timestamptz (microseconds, as the store keeps them); the
//     store writes them in UTC and reads them back in UTC. A token's zero
//     time is NULL.
//   - seq is an identity column: unique across types, never reused (a
//     failed insert leaves a gap). It is drawn at insert time, so with
//     concurrent writers a smaller seq may commit after a larger one.
//   - There are no foreign keys: members name groups and members by id
//     alone (the store.Tx contract), and Delete removes memberships itself.
//   - members has one row per member, ordered by pos, so that a membership
//     change costs O(changed members) whatever the group's size.
var migrations = []string{
	// 1: resources, members, tokens, settings.
	`
CREATE TABLE resources (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	type        text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	key         text COLLATE "C" NOT NULL DEFAULT '',
	external_id text COLLATE "C" NOT NULL DEFAULT '',
	doc         bytea       NOT NULL,
	created     timestamptz NOT NULL,
	modified    timestamptz NOT NULL,
	version     bigint      NOT NULL
);
-- (id, type): the members table names groups by id alone.
CREATE UNIQUE INDEX resources_id ON resources (id, type);
-- A type's listing walks this index in seq order, without a sort.
CREATE INDEX resources_type ON resources (type, seq);
-- Key is unique per type when set: the database enforces it for every replica.
CREATE UNIQUE INDEX resources_key ON resources (type, key) WHERE key <> '';
CREATE INDEX resources_external_id ON resources (type, external_id) WHERE external_id <> '';

CREATE TABLE members (
	group_id text COLLATE "C" NOT NULL,
	value    text COLLATE "C" NOT NULL,
	type     text NOT NULL DEFAULT '',
	display  text NOT NULL DEFAULT '',
	pos      bigint NOT NULL,
	PRIMARY KEY (group_id, value)
);
-- A group's members in insertion order, and its next position (max(pos)).
CREATE INDEX members_pos ON members (group_id, pos);
-- GroupsOf, HasMember and Delete look members up by value.
CREATE INDEX members_value ON members (value);

CREATE TABLE tokens (
	id            text COLLATE "C" PRIMARY KEY,
	name          text   NOT NULL DEFAULT '',
	account       text   NOT NULL DEFAULT '',
	hash          text COLLATE "C" NOT NULL,
	prefix        text   NOT NULL DEFAULT '',
	profile       text   NOT NULL DEFAULT '',
	email_domains text[] NOT NULL DEFAULT '{}',
	created       timestamptz,
	expires       timestamptz,
	last_used     timestamptz,
	revoked       timestamptz
);
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);

CREATE TABLE settings (
	key   text COLLATE "C" PRIMARY KEY,
	value text NOT NULL
);
`,
}

// SchemaVersion is the schema version this package writes (len(migrations)).
const SchemaVersion = 1

// versionTable records the migrations applied, one row each. The name is
// the store's own: "schema_version" was Flyway's default, and another tool's
// table of that name would be misread.
const versionTable = "scimlab_schema_version"

// migrate brings the schema to SchemaVersion.
//
// A schema already current is only read: no lock, no DDL, so replicas do
// not queue behind each other at start and a role without CREATE on the
// schema can run a store that its owner migrated.
//
// Otherwise it migrates in one transaction holding the advisory lock
// MigrationLock. Without the lock, replicas starting together on a new
// database would race: CREATE TABLE IF NOT EXISTS is not safe against a
// concurrent CREATE of the same table (one fails on the catalog's unique
// index), and two could both apply the same migration. With it, the first
// migrates and the others, once it has committed, find the schema current.
// The lock is transaction-scoped, so it is released on commit or rollback
// even when the process dies mid-migration.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	v, err := currentVersion(ctx, pool)
	if err != nil {
		return err
	}
	if v == len(migrations) {
		return nil
	}
	if v > len(migrations) {
		return newerSchema(v)
	}
	return pgx.BeginTxFunc(ctx, pool, writeTx, func(tx pgx.Tx) error {
		// A replica waits for another's migration as long as it takes
		// (Open's own timeout bounds it), not LockTimeout.
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = 0"); err != nil {
			return fmt.Errorf("lift the lock timeout: %w", err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", MigrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+versionTable+` (
	version integer PRIMARY KEY,
	applied timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("create %s: %w", versionTable, err)
		}
		var v int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+versionTable).Scan(&v); err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		if v > len(migrations) {
			return newerSchema(v)
		}
		for i := v; i < len(migrations); i++ {
			// No arguments: pgx sends it with the simple protocol, which
			// runs several statements.
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO "+versionTable+" (version) VALUES ($1)", i+1); err != nil {
				return fmt.Errorf("record schema version %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// currentVersion returns the schema version recorded in the schema the
// store's tables go to (the first of the search_path that exists), or -1
// when there is none recorded there. It looks in that schema only: a
// version table further down the search_path belongs to another store.
func currentVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	var schema *string
	var exists bool
	if err := pool.QueryRow(ctx, "SELECT current_schema(), to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL",
		versionTable).Scan(&schema, &exists); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	if schema == nil || !exists {
		return -1, nil // no schema to create in: the migration says so
	}
	var v int
	if err := pool.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+pgx.Identifier{*schema, versionTable}.Sanitize()).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return v, nil
}

func newerSchema(v int) error {
	return fmt.Errorf("the database has schema version %d; this scimlab knows up to %d (upgrade scimlab)", v, len(migrations))
}

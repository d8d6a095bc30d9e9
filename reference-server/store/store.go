// Package store is the reference server's persistence: SCIM resources, group
// membership kept per member (so that one membership change costs O(changed
// members), not O(group size)), bearer-token records and small settings.
//
// Backends: SQLite through modernc.org/sqlite (the embedded default, durable:
// a returned Create/Update means the data is on disk), PostgreSQL through pgx
// (one database shared by several server replicas) and an in-memory store;
// package backend opens the one a --data value names. Every backend passes
// the conformance tests in storetest.
//
// Times are kept in UTC to the microsecond. Documents are kept as JSON: what
// comes back is what encoding/json decodes (string, float64, bool, nil, []any,
// map[string]any).
package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors every backend returns (wrapped or bare; test with errors.Is).
var (
	// ErrNotFound: no resource (or token, setting) with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: the resource's Key is already taken by another resource of the same type.
	ErrConflict = errors.New("store: unique key already in use")
	// ErrVersionMismatch: the caller's expected version is not the current one (If-Match).
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
	// ErrUnavailable: the backend cannot be reached or refuses connections
	// for now (a database restarting, failing over or out of connections);
	// the same call may succeed later. Backends add it to the error chain.
	ErrUnavailable = errors.New("store: unavailable for now")
	// ErrUnstorable: a value the backend cannot store or index (a NUL
	// character in an indexed text column, a value too long for an index).
	// The server checks its input so that this does not happen; a backend
	// that still meets one returns this rather than a bare database error.
	ErrUnstorable = errors.New("store: value cannot be stored")
)

// Storable reports whether s can be an id, a Key, an ExternalID or a
// member value on every backend: valid UTF-8 without NUL (U+0000), which
// PostgreSQL's text columns refuse. Backends treat a lookup of a value that
// is not storable as a lookup that finds nothing.
func Storable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsRune(s, 0)
}

// Resource is one stored SCIM resource. Doc holds its attributes without id,
// meta and (for groups) members, which the store keeps in their own table: a
// top-level "members" attribute in Doc is never stored.
type Resource struct {
	Type string // resource type name: "User", "Group"
	ID   string
	// Key must be unique among resources of Type when non-empty: the
	// normalised userName of a User or displayName of a Group (the caller
	// lower-cases it where the attribute is case-insensitive).
	Key string
	// ExternalID is indexed for `externalId eq` lookups; not unique.
	ExternalID string
	Doc        map[string]any
	Created    time.Time
	Modified   time.Time
	// Version increases by one on every successful write; the server derives
	// the ETag and meta.version from it.
	Version int64
	// Seq orders resources by creation, stably, for paging; it is unique
	// across types and never reused.
	Seq int64
	// Groups, when not nil, are the groups the resource is a direct member
	// of, as GroupsOf lists them: List sets it for Query.WithGroups where
	// the backend reads them in the same query. Writes ignore it.
	Groups []GroupRef
}

// Member is one group member.
type Member struct {
	Value   string `json:"value"`             // the member's resource id
	Type    string `json:"type,omitempty"`    // "User" or "Group"
	Display string `json:"display,omitempty"` // as sent; the server may refresh it
}

// GroupRef is one group a resource belongs to (for User.groups).
type GroupRef struct {
	ID      string
	Display string // the group's Key-bearing display name as stored in its Doc
}

// Query selects resources of one type. At most one of ID, Key and ExternalID
// is used as an index; Match (if set) filters what the index yields, or every
// resource of the type when no index field is set. Results come in Seq order.
//
// Every field that is set must hold (they combine with AND). Match sees each
// candidate read-only and must not call the store.
type Query struct {
	Type       string // "" searches every type (RFC 7644 §3.4.2: a query at the server root)
	ID         string
	Key        string
	ExternalID string
	// MemberOf, when set, keeps only resources that are members of that group.
	MemberOf string
	// HasMember, when set, keeps only groups that have that member.
	HasMember string
	// Match is called with each candidate; members are loaded into
	// Doc["members"] first when LoadMembers is set.
	Match       func(r *Resource) bool
	LoadMembers bool
	// WithGroups asks for each User's groups in Resource.Groups, which a
	// backend may honour where reading them in the same query saves a
	// round trip (a database across a network); callers must fall back to
	// GroupsOf where Groups is nil.
	WithGroups bool
	// Offset and Limit page the matched results (Limit < 0: no limit;
	// Limit 0: an empty page, only the total, as for SCIM count=0).
	Offset int
	Limit  int
}

// Tx is a write transaction. Its changes become visible and durable together
// when the function passed to Store.Update or Store.Write returns nil; they are
// discarded when it returns an error. The function must use only tx, never
// the Store (the store may run it on its single writer).
//
// A group whose members change gets Version+1 and a new Modified time once
// per transaction, so that its ETag follows its members. Member methods return
// ErrNotFound when no resource has the group id.
type Tx interface {
	// Get reads a resource inside the transaction (members not loaded).
	Get(typ, id string) (*Resource, error)
	// Exists reports whether a resource of that type and id exists.
	Exists(typ, id string) (bool, error)
	// Members returns a group's members in insertion order.
	Members(groupID string) ([]Member, error)
	// AddMembers adds members that are not there yet (existing ones keep their
	// type and display) and returns how many were added. A member with an
	// empty Value is an error.
	AddMembers(groupID string, m []Member) (int, error)
	// RemoveMembers removes the members with those values and returns how many were removed.
	RemoveMembers(groupID string, values []string) (int, error)
	// SetMembers replaces the whole member list (repeated values: the first wins).
	SetMembers(groupID string, m []Member) error
	// Create stores r as Store.Create does, inside the transaction, so that
	// what the transaction checked before (its members exist, through Get
	// or Exists) still holds when it commits: a group create that checks
	// its members this way cannot race a Delete of one of them into a
	// membership of a resource that is gone. ErrConflict when the id or Key
	// is taken; r's Created, Modified, Version and Seq are set.
	Create(r *Resource, members []Member) error
}

// Store is a backend. All methods are safe for concurrent use; writes to one
// resource are serialised so that no update is lost (idp-traffic.md B19:
// concurrent group PATCHes must both land).
type Store interface {
	// Create stores r (ID set by the caller) with its members (groups), setting
	// Created, Modified, Version (1) and Seq. ErrConflict when Key is taken.
	Create(ctx context.Context, r *Resource, members []Member) error
	// Get returns the resource; with members true a group's members are loaded
	// into Doc["members"] as []any of map[string]any{"value","type","display"}
	// ("type" and "display" only when not empty; no "members" when there are none).
	Get(ctx context.Context, typ, id string, members bool) (*Resource, error)
	// Update runs fn on the current resource inside a write transaction. fn
	// changes r.Doc/Key/ExternalID in place and may change members through tx.
	// ifVersion > 0 makes the update conditional (ErrVersionMismatch). When fn
	// returns nil the resource is saved with Version+1 and a new Modified time,
	// unless fn returned ErrUnchanged, which commits member changes (if any)
	// without bumping the version only when there were none. r is a copy
	// without members. Update returns the resource as saved (for ErrUnchanged
	// without member changes: as it was, and a nil error).
	Update(ctx context.Context, typ, id string, ifVersion int64, fn func(tx Tx, r *Resource) error) (*Resource, error)
	// Delete removes the resource and every membership that names it as a member.
	Delete(ctx context.Context, typ, id string, ifVersion int64) error
	// List returns one page of matches and the total number of matches.
	List(ctx context.Context, q Query) (page []*Resource, total int, err error)
	// GroupsOf lists the groups that have id as a direct member.
	GroupsOf(ctx context.Context, id string) ([]GroupRef, error)
	// Write runs fn in a write transaction with no particular resource (bulk, checks).
	Write(ctx context.Context, fn func(tx Tx) error) error

	Tokens
	Settings

	// Close flushes and releases the backend; later calls return ErrClosed.
	// Closing twice is not an error.
	Close() error
}

// GroupsOfMany is implemented by backends for which one query for many
// resources' groups is much cheaper than one per resource (a database
// across a network): the server asks it for a page of users at once. The
// map holds each id's groups as GroupsOf returns them (ids in no group may
// be absent).
type GroupsOfMany interface {
	GroupsOfMany(ctx context.Context, ids []string) (map[string][]GroupRef, error)
}

// GetWithGroups is implemented by backends that read a resource and the
// groups it belongs to (as GroupsOf lists them) in one round trip; the server
// uses it to answer GET of a User, whose "groups" attribute needs both. The
// groups are never nil.
type GetWithGroups interface {
	GetWithGroups(ctx context.Context, typ, id string) (*Resource, []GroupRef, error)
}

// AuthEpoch is implemented by backends that can tell cheaply (a memory
// read) whether tokens or settings may have changed since an earlier call,
// in any process or replica that shares the data: the value changes after
// each such change is committed. A server compares it with the value it saw
// when it cached a verified token, so that a revocation, an account
// deactivation or a rotation made by `scimlab token` in another process
// takes effect on its next request rather than when the cache entry ages
// out.
type AuthEpoch interface {
	AuthEpoch() uint64
}

// ErrUnchanged may be returned by an Update function to say nothing changed:
// the resource keeps its Version and Modified time.
var ErrUnchanged = errors.New("store: unchanged")

// Token is a stored bearer-token record; the secret itself is never stored,
// only its hash.
type Token struct {
	ID           string
	Name         string
	Account      string // service account the token is bound to ("" = none)
	Hash         string // hex SHA-256 of the secret
	Prefix       string // first characters of the secret, for display ("scimlab_ab12…")
	Profile      string
	EmailDomains []string
	Created      time.Time
	Expires      time.Time // zero = never
	LastUsed     time.Time // zero = never used
	Revoked      time.Time // zero = not revoked
}

// Tokens stores token records.
type Tokens interface {
	PutToken(ctx context.Context, t Token) error // insert or replace by ID; ErrConflict when another token has the Hash
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	// TouchToken records a use; backends may coalesce frequent touches.
	// LastUsed never moves back; ErrNotFound for an unknown id.
	TouchToken(ctx context.Context, id string, at time.Time) error
	// UpdateTokens calls fn with every token (ListTokens order) and writes
	// the tokens it returns (as PutToken would, ErrConflict for another
	// token's hash), all in one transaction that no other UpdateTokens or
	// PutToken, from any process or replica, interleaves with: a rule that
	// counts tokens (at most two live, or one replacing the others) holds
	// however many creations run at once. fn must not call the store; its
	// error is returned and nothing is written.
	UpdateTokens(ctx context.Context, fn func(current []Token) (put []Token, err error)) error
}

// Settings is a small key/value table for server state (profile last served,
// basic-auth credential hash, accounts, notices already sent).
type Settings interface {
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string) error
	// Settings lists every key with the prefix, sorted.
	SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error)
	// PutSettingIfAbsent stores value only when key is absent and reports whether it did
	// (used to emit each expiry notice exactly once, across restarts and replicas).
	PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error)
}

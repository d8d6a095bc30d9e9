package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// wtx is the store.Tx of one attempt at a write transaction (Update, Write).
type wtx struct {
	ctx     context.Context
	tx      pgx.Tx
	locked  map[string]bool     // ids whose rows this transaction holds FOR NO KEY UPDATE
	holds   bool                // it holds a row lock of any kind
	want    []string            // a group it could not lock without waiting
	changed map[string]struct{} // groups whose members changed
	joined  map[string]struct{} // member values whose groups changed (Users get a new version)
	// conflict is the error that aborted the transaction because of a
	// concurrent one (deadlock, lock not available): whatever fn makes of
	// it, the attempt is run again.
	conflict error
}

var _ store.Tx = (*wtx)(nil)

func newWtx(ctx context.Context, tx pgx.Tx) *wtx {
	return &wtx{ctx: ctx, tx: tx, locked: map[string]bool{}}
}

// err wraps a database error; one that aborted the transaction because of
// a concurrent one becomes the attempt's conflict.
func (w *wtx) err(what string, err error) error {
	err = dbErr(w.ctx, what, err)
	if retryable(err) && w.conflict == nil {
		w.conflict = err
	}
	return err
}

// learned adds to ids the groups this attempt locked or wanted: the next
// attempt takes them first, in order (lockFirst).
func (w *wtx) learned(ids []string) []string {
	for id := range w.locked {
		ids = append(ids, id)
	}
	ids = append(ids, w.want...)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// lockFirst is the statement with which a repeated attempt takes, before
// anything else, the rows of every id ($1) the attempts before it locked or
// wanted. They are taken in one order, by (id, type), the same for every
// transaction; a transaction waits for a lock only while taking these (or
// its first one), so two of them cannot wait for each other in a cycle
// (see group).
const lockFirst = "SELECT id FROM resources WHERE id = ANY($1::text[]) ORDER BY id, type FOR NO KEY UPDATE"

// lockedFirst marks the ids lockFirst returned as locked.
func (w *wtx) lockedFirst(rows pgx.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		w.locked[id] = true
		w.holds = true
	}
	return rows.Err()
}

// Get implements store.Tx. The row is locked FOR KEY SHARE (as a foreign
// key check would): it cannot be deleted until the transaction ends.
func (w *wtx) Get(typ, id string) (*store.Resource, error) {
	if w.conflict != nil {
		return nil, w.conflict
	}
	if !store.Storable(id) {
		return nil, notFound(typ, id)
	}
	rows, err := w.tx.Query(w.ctx, "SELECT "+resourceCols+" FROM resources r WHERE r.id = $1 AND r.type = $2 FOR KEY SHARE", id, typ)
	r, err := one(rows, err, 0)
	if err != nil {
		return nil, w.err(fmt.Sprintf("get %s %q", typ, id), err)
	}
	if r == nil {
		return nil, notFound(typ, id)
	}
	w.holds = true
	return r, nil
}

// Exists implements store.Tx; a resource found stays until the transaction
// ends (FOR KEY SHARE, as Get).
func (w *wtx) Exists(typ, id string) (bool, error) {
	if w.conflict != nil {
		return false, w.conflict
	}
	if !store.Storable(id) {
		return false, nil
	}
	rows, err := w.tx.Query(w.ctx, "SELECT 1 FROM resources WHERE id = $1 AND type = $2 FOR KEY SHARE", id, typ)
	n, err := countRows(rows, err)
	if err != nil {
		return false, w.err(fmt.Sprintf("look up %s %q", typ, id), err)
	}
	w.holds = w.holds || n > 0
	return n > 0, nil
}

// Create implements store.Tx: the insert runs in the transaction, after
// whatever it read (a member's Get or Exists holds that row FOR KEY SHARE
// until the commit, so a concurrent Delete of the member waits for this
// transaction and then removes the new membership, or ran first and the
// read found nothing). The new group's row is invisible to others until
// the commit, so adding its members takes no group lock.
func (w *wtx) Create(r *store.Resource, members []store.Member) error {
	d, ms, err := doc.ForCreate(r, members)
	if err != nil {
		return err
	}
	if w.conflict != nil {
		return w.conflict
	}
	what := fmt.Sprintf("create %s %q", r.Type, r.ID)
	now := doc.Now()
	var seq int64
	if err := w.tx.QueryRow(w.ctx, insertResource, r.Type, r.ID, r.Key, r.ExternalID, d, now).Scan(&seq); err != nil {
		if cerr := conflict(err, r.Type, r.ID, r.Key); cerr != err {
			return cerr
		}
		return w.err(what, err)
	}
	w.locked[r.ID], w.holds = true, true
	if len(ms) > 0 {
		values, types, displays := memberColumns(ms)
		if _, err := w.touchRows(w.tx.Query(w.ctx, insertMembers, r.ID, values, types, displays)); err != nil {
			return w.err(what, err)
		}
	}
	r.Created, r.Modified, r.Version, r.Seq = now, now, 1, seq
	return nil
}

// group locks the rows with id (normally one group) FOR NO KEY UPDATE,
// once per transaction, or returns ErrNotFound when there is none. Every
// change to a group's members happens under this lock, so members' reads,
// plans and next positions are never stale, whichever replica writes.
//
// A transaction that holds a row lock already does not wait for this one
// (NOWAIT): two transactions changing two groups in opposite orders would
// otherwise deadlock, and PostgreSQL takes deadlock_timeout (a second by
// default) to notice. The attempt fails at once instead, and the next one
// takes every group this one locked or wanted first, in order (lockFirst).
func (w *wtx) group(id string) error {
	if w.locked[id] {
		return nil
	}
	if w.conflict != nil {
		return w.conflict
	}
	if !store.Storable(id) {
		return fmt.Errorf("%w: group %q", store.ErrNotFound, id)
	}
	q := "SELECT 1 FROM resources WHERE id = $1 FOR NO KEY UPDATE"
	if w.holds {
		q += " NOWAIT"
	}
	rows, err := w.tx.Query(w.ctx, q, id)
	n, err := countRows(rows, err)
	if err != nil {
		if code, _ := pgCode(err); code == codeLockNotAvailable && w.holds {
			err = &nowaitError{err}
		}
		if retryable(err) {
			w.want = append(w.want, id)
		}
		return w.err(fmt.Sprintf("lock group %q", id), err)
	}
	if n == 0 {
		return fmt.Errorf("%w: group %q", store.ErrNotFound, id)
	}
	w.locked[id] = true
	w.holds = true
	return nil
}

// Members implements store.Tx.
func (w *wtx) Members(groupID string) ([]store.Member, error) {
	if err := w.group(groupID); err != nil {
		return nil, err
	}
	rows, err := w.tx.Query(w.ctx, "SELECT value, type, display FROM members WHERE group_id = $1 ORDER BY pos", groupID)
	if err != nil {
		return nil, w.err(fmt.Sprintf("members of %q", groupID), err)
	}
	defer rows.Close()
	ms := []store.Member{}
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Value, &m.Type, &m.Display); err != nil {
			return nil, w.err(fmt.Sprintf("members of %q", groupID), err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, w.err(fmt.Sprintf("members of %q", groupID), err)
	}
	return ms, nil
}

// insertMembers appends the members ($2, $3, $4: values, types, displays)
// that group $1 does not have yet after its last one, in the order given.
// Positions start after the group's highest (found through members_pos);
// the ones a skipped member would have had are left unused.
const insertMembers = `INSERT INTO members (group_id, value, type, display, pos)
SELECT $1, m.v, m.t, m.d, b.base + m.o
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS m(v, t, d, o),
	(SELECT COALESCE(max(pos), 0) AS base FROM members WHERE group_id = $1) AS b
ON CONFLICT (group_id, value) DO NOTHING
RETURNING value`

// bumpUsers gives the Users among the ids $1 (sorted, so that row locks
// are taken in one order) Version+1 and a new Modified ($2, never moving
// back): their groups attribute changed.
const bumpUsers = `UPDATE resources SET version = version + 1, modified = GREATEST(modified, $2)
WHERE type = 'User' AND id = ANY($1::text[])`

// memberColumns splits ms into the arrays insertMembers takes.
func memberColumns(ms []store.Member) (values, types, displays []string) {
	values, types, displays = make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		values[i], types[i], displays[i] = m.Value, m.Type, m.Display
	}
	return values, types, displays
}

// AddMembers implements store.Tx.
func (w *wtx) AddMembers(groupID string, ms []store.Member) (int, error) {
	for _, m := range ms {
		if m.Value == "" {
			return 0, doc.ErrEmptyValue
		}
	}
	if err := w.group(groupID); err != nil {
		return 0, err
	}
	return w.add(groupID, ms)
}

// add inserts the members that are not there yet (the first of repeated
// values wins), with the group already locked.
func (w *wtx) add(groupID string, ms []store.Member) (int, error) {
	ms, err := doc.Dedupe(ms)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	values, types, displays := memberColumns(ms)
	n, err := w.touchRows(w.tx.Query(w.ctx, insertMembers, groupID, values, types, displays))
	if err != nil {
		return 0, w.err(fmt.Sprintf("add members to %q", groupID), err)
	}
	if n > 0 {
		w.markChanged(groupID)
	}
	return n, nil
}

// touchRows touches the member value each row holds and counts the rows.
func (w *wtx) touchRows(rows pgx.Rows, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return n, err
		}
		w.touch(v)
		n++
	}
	return n, rows.Err()
}

// touch records that value's groups changed: a User with that id gets a
// new version with the transaction (its groups attribute is computed from
// them).
func (w *wtx) touch(value string) {
	if w.joined == nil {
		w.joined = map[string]struct{}{}
	}
	w.joined[value] = struct{}{}
}

// touchMembers touches every member of group.
func (w *wtx) touchMembers(group string) error {
	_, err := w.touchRows(w.tx.Query(w.ctx, "SELECT value FROM members WHERE group_id = $1", group))
	if err != nil {
		return w.err(fmt.Sprintf("members of %q", group), err)
	}
	return nil
}

// RemoveMembers implements store.Tx.
func (w *wtx) RemoveMembers(groupID string, values []string) (int, error) {
	if err := w.group(groupID); err != nil {
		return 0, err
	}
	values = slices.DeleteFunc(slices.Clone(values), func(v string) bool { return !store.Storable(v) }) // never members
	if len(values) == 0 {
		return 0, nil
	}
	n, err := w.touchRows(w.tx.Query(w.ctx, "DELETE FROM members WHERE group_id = $1 AND value = ANY($2::text[]) RETURNING value", groupID, values))
	if err != nil {
		return 0, w.err(fmt.Sprintf("remove members from %q", groupID), err)
	}
	if n > 0 {
		w.markChanged(groupID)
	}
	return n, nil
}

// SetMembers implements store.Tx. It changes only what differs (doc.PlanSet),
// all of it in one round trip, unless the order changed, when the list is
// rewritten.
func (w *wtx) SetMembers(groupID string, ms []store.Member) error {
	next, err := doc.Dedupe(ms)
	if err != nil {
		return err
	}
	old, err := w.Members(groupID) // locks the group
	if err != nil {
		return err
	}
	p := doc.PlanSet(old, next)
	if !p.Changed() {
		return nil
	}
	b := &pgx.Batch{}
	add := p.Added
	if p.Rewrite {
		b.Queue("DELETE FROM members WHERE group_id = $1", groupID)
		add = next
	} else {
		if len(p.Removed) > 0 {
			b.Queue("DELETE FROM members WHERE group_id = $1 AND value = ANY($2::text[])", groupID, p.Removed)
		}
		if len(p.Updated) > 0 {
			values, types, displays := memberColumns(p.Updated)
			b.Queue(`UPDATE members SET type = u.t, display = u.d
FROM unnest($2::text[], $3::text[], $4::text[]) AS u(v, t, d)
WHERE members.group_id = $1 AND members.value = u.v`, groupID, values, types, displays)
		}
	}
	if len(add) > 0 {
		values, types, displays := memberColumns(add)
		b.Queue(insertMembers, groupID, values, types, displays)
	}
	if err := w.tx.SendBatch(w.ctx, b).Close(); err != nil {
		return w.err(fmt.Sprintf("set members of %q", groupID), err)
	}
	w.markChanged(groupID)
	for _, v := range doc.Moved(old, next) {
		w.touch(v)
	}
	return nil
}

func (w *wtx) markChanged(group string) {
	if w.changed == nil {
		w.changed = map[string]struct{}{}
	}
	w.changed[group] = struct{}{}
}

// bumpChanged gives every group whose members changed Version+1 and a new
// Modified, once per transaction; an Update removes its own resource from
// the set first, having saved it. The groups are locked already (group).
// Modified never moves back, even when this replica's clock is behind the
// one that wrote last.
func (w *wtx) bumpChanged() error {
	if w.conflict != nil {
		return w.conflict
	}
	if len(w.changed) > 0 {
		ids := make([]string, 0, len(w.changed))
		for g := range w.changed {
			ids = append(ids, g)
		}
		slices.Sort(ids)
		if _, err := w.tx.Exec(w.ctx, "UPDATE resources SET version = version + 1, modified = GREATEST(modified, $2) WHERE id = ANY($1::text[])",
			ids, doc.Now()); err != nil {
			return w.err("bump the versions of changed groups", err)
		}
		w.changed = nil
	}
	if len(w.joined) > 0 {
		ids := make([]string, 0, len(w.joined))
		for v := range w.joined {
			ids = append(ids, v)
		}
		slices.Sort(ids)
		if _, err := w.tx.Exec(w.ctx, bumpUsers, ids, doc.Now()); err != nil {
			return w.err("bump the versions of users whose groups changed", err)
		}
		w.joined = nil
	}
	return nil
}

// countRows counts the rows of a query and closes them.
func countRows(rows pgx.Rows, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

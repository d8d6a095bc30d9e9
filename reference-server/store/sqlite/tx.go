package sqlite

import (
	"database/sql"
	"fmt"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// wtx is the store.Tx of one write request; it runs with the write lock held.
type wtx struct {
	s       *Store
	changed map[string]struct{} // groups whose members changed
	joined  map[string]struct{} // member values whose groups changed (Users get a new version)

	// The request's savepoint is opened lazily (see write).
	guarded   bool // the savepoint "req" is open
	wrote     bool // a write statement succeeded
	unguarded bool // one succeeded before any savepoint: it cannot be undone alone
}

var _ store.Tx = (*wtx)(nil)

const resourceCols = "seq, type, id, key, external_id, doc, created, modified, version"

// scanResource reads one row of resourceCols.
func scanResource(rows *sql.Rows) (*store.Resource, error) {
	var (
		r                 store.Resource
		d                 sql.RawBytes
		created, modified int64
	)
	if err := rows.Scan(&r.Seq, &r.Type, &r.ID, &r.Key, &r.ExternalID, &d, &created, &modified, &r.Version); err != nil {
		return nil, err
	}
	var err error
	if r.Doc, err = doc.Decode(d); err != nil {
		return nil, fmt.Errorf("%s %q: %w", r.Type, r.ID, err)
	}
	r.Created, r.Modified = fromMicros(created), fromMicros(modified)
	return &r, nil
}

// one returns the single resource rows yields, or ErrNotFound.
func one(rows *sql.Rows, err error, typ, id string) (*store.Resource, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, notFound(typ, id)
	}
	r, err := scanResource(rows)
	if err != nil {
		return nil, err
	}
	return r, rows.Close()
}

func notFound(typ, id string) error {
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, typ, id)
}

// query runs a read on the write connection.
func (w *wtx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.s.wstmt(q)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// exec runs a write statement that may be followed by others.
func (w *wtx) exec(q string, args ...any) (int64, error) {
	res, err := w.write(false, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// write runs a statement that changes data. A request's changes must be
// undoable on their own when it fails (the rest of its batch commits), which
// a savepoint gives; but a savepoint costs two statements on the writer, and
// most requests write once: a failed single statement changes nothing
// (SQLite undoes it), so a request whose only write is its last (final)
// needs none. The savepoint is therefore opened just before the first write
// that is not known to be the last.
func (w *wtx) write(final bool, q string, args ...any) (sql.Result, error) {
	if !w.guarded && !(final && !w.wrote) {
		if _, err := w.s.exec("SAVEPOINT req"); err != nil {
			return nil, err
		}
		w.guarded = true
	}
	res, err := w.s.exec(q, args...)
	if err == nil {
		w.wrote = true
		w.unguarded = w.unguarded || !w.guarded
	}
	return res, err
}

// exists runs a query that yields at most one row and reports whether it did.
func (w *wtx) exists(q string, args ...any) (bool, error) {
	rows, err := w.query(q, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, err
	}
	return found, rows.Close()
}

func (w *wtx) Get(typ, id string) (*store.Resource, error) {
	rows, err := w.query("SELECT "+resourceCols+" FROM resources WHERE id = ? AND type = ?", id, typ)
	return one(rows, err, typ, id)
}

func (w *wtx) Exists(typ, id string) (bool, error) {
	return w.exists("SELECT 1 FROM resources WHERE id = ? AND type = ?", id, typ)
}

func (w *wtx) group(id string) error {
	ok, err := w.exists("SELECT 1 FROM resources WHERE id = ? LIMIT 1", id)
	if err == nil && !ok {
		err = fmt.Errorf("%w: group %q", store.ErrNotFound, id)
	}
	return err
}

func (w *wtx) Members(groupID string) ([]store.Member, error) {
	if err := w.group(groupID); err != nil {
		return nil, err
	}
	rows, err := w.query(membersQuery, groupID)
	return scanMembers(rows, err)
}

const membersQuery = "SELECT value, type, display FROM members WHERE group_id = ? ORDER BY pos"

func scanMembers(rows *sql.Rows, err error) ([]store.Member, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ms := []store.Member{}
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.Value, &m.Type, &m.Display); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ms, rows.Close()
}

func (w *wtx) nextPos(groupID string) (int64, error) {
	var pos int64
	st, err := w.s.wstmt("SELECT COALESCE(MAX(pos), 0) FROM members WHERE group_id = ?")
	if err != nil {
		return 0, err
	}
	err = st.QueryRow(groupID).Scan(&pos)
	return pos + 1, err
}

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

// add inserts the members that are not there yet, after the last one.
func (w *wtx) add(groupID string, ms []store.Member) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	pos, err := w.nextPos(groupID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		k, err := w.exec("INSERT INTO members (group_id, value, type, display, pos) VALUES (?, ?, ?, ?, ?) ON CONFLICT (group_id, value) DO NOTHING",
			groupID, m.Value, m.Type, m.Display, pos)
		if err != nil {
			return n, err
		}
		if k > 0 {
			n++
			pos++
			w.touch(m.Value)
		}
	}
	if n > 0 {
		w.markChanged(groupID)
	}
	return n, nil
}

func (w *wtx) RemoveMembers(groupID string, values []string) (int, error) {
	if err := w.group(groupID); err != nil {
		return 0, err
	}
	n := 0
	for _, v := range values {
		k, err := w.exec("DELETE FROM members WHERE group_id = ? AND value = ?", groupID, v)
		if err != nil {
			return n, err
		}
		if k > 0 {
			n++
			w.touch(v)
		}
	}
	if n > 0 {
		w.markChanged(groupID)
	}
	return n, nil
}

func (w *wtx) SetMembers(groupID string, ms []store.Member) error {
	next, err := doc.Dedupe(ms)
	if err != nil {
		return err
	}
	old, err := w.Members(groupID)
	if err != nil {
		return err
	}
	p := doc.PlanSet(old, next)
	if !p.Changed() {
		return nil
	}
	w.markChanged(groupID)
	if p.Rewrite {
		if _, err := w.exec("DELETE FROM members WHERE group_id = ?", groupID); err != nil {
			return err
		}
		if _, err := w.add(groupID, next); err != nil {
			return err
		}
		w.joined = nil // add touched every member; only those that moved count
		for _, v := range doc.Moved(old, next) {
			w.touch(v)
		}
		return nil
	}
	for _, v := range p.Removed {
		if _, err := w.exec("DELETE FROM members WHERE group_id = ? AND value = ?", groupID, v); err != nil {
			return err
		}
		w.touch(v)
	}
	for _, m := range p.Updated {
		if _, err := w.exec("UPDATE members SET type = ?, display = ? WHERE group_id = ? AND value = ?", m.Type, m.Display, groupID, m.Value); err != nil {
			return err
		}
	}
	_, err = w.add(groupID, p.Added)
	return err
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
	rows, err := w.query("SELECT value FROM members WHERE group_id = ?", group)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		w.touch(v)
	}
	return rows.Err()
}

func (w *wtx) markChanged(group string) {
	if w.changed == nil {
		w.changed = map[string]struct{}{}
	}
	w.changed[group] = struct{}{}
}

// bumpChanged gives every group whose members changed, and every User
// whose groups changed, a new version; an Update removes its own resource
// from the set first, having saved it.
func (w *wtx) bumpChanged() error {
	if len(w.changed) == 0 && len(w.joined) == 0 {
		return nil
	}
	now := micros(doc.Now())
	for g := range w.changed {
		if _, err := w.exec("UPDATE resources SET version = version + 1, modified = ? WHERE id = ?", now, g); err != nil {
			return err
		}
	}
	for v := range w.joined {
		if _, err := w.exec("UPDATE resources SET version = version + 1, modified = ? WHERE id = ? AND type = 'User'", now, v); err != nil {
			return err
		}
	}
	w.changed, w.joined = nil, nil
	return nil
}

// keyTaken reports a Key already used by another resource of the type.
func (w *wtx) keyTaken(typ, key, id string) error {
	if key == "" {
		return nil
	}
	taken, err := w.exists("SELECT 1 FROM resources WHERE type = ? AND key = ? AND key <> '' AND id <> ?", typ, key, id)
	if err == nil && taken {
		err = fmt.Errorf("%w: %s %q", store.ErrConflict, typ, key)
	}
	return err
}

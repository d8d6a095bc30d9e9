package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, r *store.Resource, members []store.Member) error {
	d, ms, err := doc.ForCreate(r, members) // on the caller's goroutine, not the writer's
	if err != nil {
		return err
	}
	var saved store.Resource
	err = s.do(ctx, func(w *wtx) error {
		var err error
		saved, err = w.create(r, d, ms, true)
		return err
	})
	if err != nil {
		return err
	}
	r.Created, r.Modified, r.Version, r.Seq = saved.Created, saved.Modified, saved.Version, saved.Seq
	return nil
}

// Create implements store.Tx.
func (w *wtx) Create(r *store.Resource, members []store.Member) error {
	d, ms, err := doc.ForCreate(r, members)
	if err != nil {
		return err
	}
	saved, err := w.create(r, d, ms, false)
	if err != nil {
		return err
	}
	r.Created, r.Modified, r.Version, r.Seq = saved.Created, saved.Modified, saved.Version, saved.Seq
	return nil
}

// create inserts r (its document encoded as d) with its members ms; alone
// says it is the request's only write (Store.Create), which then needs no
// savepoint when it has no members.
func (w *wtx) create(r *store.Resource, d []byte, ms []store.Member, alone bool) (store.Resource, error) {
	// The unique indexes on (id, type) and on (type, key) where key <> ''
	// make the INSERT fail exactly when the id or the key is taken, so
	// the checks that name the conflict run only when it failed (a failed
	// statement changes nothing).
	now := doc.Now()
	res, err := w.write(alone && len(ms) == 0, "INSERT INTO resources (type, id, key, external_id, doc, created, modified, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
		r.Type, r.ID, r.Key, r.ExternalID, d, micros(now), micros(now))
	if err != nil {
		if kerr := w.keyTaken(r.Type, r.Key, r.ID); kerr != nil {
			return store.Resource{}, kerr
		}
		if ok, xerr := w.Exists(r.Type, r.ID); xerr != nil || ok {
			if xerr == nil {
				xerr = fmt.Errorf("%w: %s id %q already exists", store.ErrConflict, r.Type, r.ID)
			}
			return store.Resource{}, xerr
		}
		return store.Resource{}, err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return store.Resource{}, err
	}
	if _, err := w.add(r.ID, ms); err != nil {
		return store.Resource{}, err
	}
	delete(w.changed, r.ID) // a new group starts at version 1 with its members
	return store.Resource{Created: now, Modified: now, Version: 1, Seq: seq}, nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, typ, id string, members bool) (*store.Resource, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	if !members {
		rows, err := s.query(ctx, nil, "SELECT "+resourceCols+" FROM resources WHERE id = ? AND type = ?", id, typ)
		return one(rows, err, typ, id)
	}
	tx, err := s.readTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := s.query(ctx, tx, "SELECT "+resourceCols+" FROM resources WHERE id = ? AND type = ?", id, typ)
	r, err := one(rows, err, typ, id)
	if err != nil {
		return nil, err
	}
	if err := s.loadMembers(ctx, tx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// loadMembers puts r's members into r.Doc["members"] when it has any.
func (s *Store) loadMembers(ctx context.Context, tx *sql.Tx, r *store.Resource) error {
	rows, err := s.query(ctx, tx, membersQuery, r.ID)
	ms, err := scanMembers(rows, err)
	if err != nil {
		return s.readErr(err)
	}
	if len(ms) > 0 {
		r.Doc[doc.MembersAttr] = doc.Members(ms)
	}
	return nil
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, typ, id string, ifVersion int64, fn func(tx store.Tx, r *store.Resource) error) (*store.Resource, error) {
	var (
		out    *store.Resource
		stored []byte // the saved document, when saved
	)
	err := s.do(ctx, func(w *wtx) error {
		stored = nil
		r, err := w.Get(typ, id)
		if err != nil {
			return err
		}
		if ifVersion > 0 && r.Version != ifVersion {
			return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, r.Version, ifVersion)
		}
		orig := *r
		oldName := doc.GroupName(r.Doc) // fn changes r.Doc in place
		ferr := fn(w, r)
		unchanged := errors.Is(ferr, store.ErrUnchanged)
		if ferr != nil && !unchanged {
			return ferr
		}
		_, membersChanged := w.changed[id]
		if unchanged && !membersChanged {
			out, err = w.Get(typ, id) // as it was, whatever fn did to r
			return err
		}
		d, err := doc.Encode(r.Doc)
		if err != nil {
			return err
		}
		if typ == "Group" && doc.GroupName(r.Doc) != oldName {
			// Renamed: its members' groups show the new name.
			if err := w.touchMembers(id); err != nil {
				return err
			}
		}
		if r.Key != orig.Key {
			if err := w.keyTaken(typ, r.Key, id); err != nil {
				return err
			}
		}
		now := doc.Now()
		// The last write, unless fn changed members (which wrote already).
		if _, err := w.write(true, "UPDATE resources SET key = ?, external_id = ?, doc = ?, modified = ?, version = ? WHERE seq = ?",
			r.Key, r.ExternalID, d, micros(now), orig.Version+1, orig.Seq); err != nil {
			return err
		}
		delete(w.changed, id)
		saved := *r
		saved.Type, saved.ID, saved.Seq, saved.Created = orig.Type, orig.ID, orig.Seq, orig.Created
		saved.Version, saved.Modified = orig.Version+1, now
		saved.Doc, stored = nil, d
		out = &saved
		return nil
	})
	if err != nil {
		return nil, err
	}
	if stored != nil {
		// Decoded here, off the writer: the document exactly as a Get returns it.
		if out.Doc, err = doc.Decode(stored); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, typ, id string, ifVersion int64) error {
	return s.do(ctx, func(w *wtx) error {
		st, err := s.wstmt("SELECT version FROM resources WHERE id = ? AND type = ?")
		if err != nil {
			return err
		}
		var v int64
		if err := st.QueryRow(id, typ).Scan(&v); errors.Is(err, sql.ErrNoRows) {
			return notFound(typ, id)
		} else if err != nil {
			return err
		}
		if ifVersion > 0 && v != ifVersion {
			return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, v, ifVersion)
		}
		if typ == "Group" {
			if err := w.touchMembers(id); err != nil { // it leaves their groups
				return err
			}
		}
		if _, err := w.exec("DELETE FROM resources WHERE id = ? AND type = ?", id, typ); err != nil {
			return err
		}
		if _, err := w.exec("DELETE FROM members WHERE group_id = ?", id); err != nil {
			return err
		}
		rows, err := w.query("SELECT group_id FROM members WHERE value = ?", id)
		if err != nil {
			return err
		}
		var groups []string
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				rows.Close()
				return err
			}
			groups = append(groups, g)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(groups) == 0 {
			return nil
		}
		for _, g := range groups {
			w.markChanged(g)
		}
		_, err = w.exec("DELETE FROM members WHERE value = ?", id)
		return err
	})
}

// where returns the WHERE clause of q. The first field set among ID, Key,
// ExternalID, HasMember and MemberOf is the index; the others are written
// with a unary + so that SQLite cannot pick a worse index for them. With no
// index field, the type index yields the type's rows in seq order.
func where(q store.Query) (string, []any) {
	var conds []string
	var args []any
	term := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	var index string
	switch {
	case q.ID != "":
		index = "id"
	case q.Key != "":
		index = "key"
	case q.ExternalID != "":
		index = "external_id"
	case q.HasMember != "":
		index = "has"
	case q.MemberOf != "":
		index = "of"
	}
	plus := func(field string) string {
		if field == index {
			return ""
		}
		return "+"
	}
	if q.Type != "" {
		switch index {
		case "has", "of":
			term("+type = ?", q.Type)
		default:
			term("type = ?", q.Type)
		}
	}
	if q.ID != "" {
		term(plus("id")+"id = ?", q.ID)
	}
	if q.Key != "" {
		if index == "key" {
			conds = append(conds, "key <> ''") // the key index is partial
		}
		term(plus("key")+"key = ?", q.Key)
	}
	if q.ExternalID != "" {
		if index == "external_id" {
			conds = append(conds, "external_id <> ''")
		}
		term(plus("external_id")+"external_id = ?", q.ExternalID)
	}
	if q.HasMember != "" {
		term(plus("has")+"id IN (SELECT group_id FROM members WHERE value = ?)", q.HasMember)
	}
	if q.MemberOf != "" {
		term(plus("of")+"id IN (SELECT value FROM members WHERE group_id = ?)", q.MemberOf)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// List implements store.Store. Without Match, it counts with COUNT(*) and
// reads only the page; with Match, or when ID or Key make the result a single
// row at most, it streams the candidates in one statement and counts them.
// Several statements share one read transaction, hence one snapshot.
func (s *Store) List(ctx context.Context, q store.Query) ([]*store.Resource, int, error) {
	if s.closed.Load() {
		return nil, 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	w, args := where(q)
	offset := max(q.Offset, 0)
	stream := q.Match != nil || q.ID != "" || q.Key != ""
	var tx *sql.Tx
	if q.LoadMembers || !stream {
		var err error
		if tx, err = s.readTx(ctx); err != nil {
			return nil, 0, err
		}
		defer tx.Rollback() //nolint:errcheck // read-only
	}
	var (
		rows  *sql.Rows
		err   error
		total int
	)
	// A type's full listing counts from type_stats and pages from a
	// position mark (marks.go); any other listing counts its matches.
	whole := !stream && q.Type != "" && q.ExternalID == "" && q.MemberOf == "" && q.HasMember == ""
	var removed int64 // type_stats.removed in this snapshot (whole only)
	if stream {
		rows, err = s.query(ctx, tx, "SELECT "+resourceCols+" FROM resources"+w+" ORDER BY seq", args...)
	} else {
		if whole {
			rows, err = s.query(ctx, tx, "SELECT live, removed FROM type_stats WHERE type = ?", q.Type)
		} else {
			rows, err = s.query(ctx, tx, "SELECT COUNT(*) FROM resources"+w, args...)
		}
		if err != nil {
			return nil, 0, err
		}
		if rows.Next() {
			if whole {
				err = rows.Scan(&total, &removed)
			} else {
				err = rows.Scan(&total)
			}
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, 0, s.readErr(err)
		}
		if q.Limit == 0 || offset >= total {
			return []*store.Resource{}, total, nil
		}
		var pos int
		var after int64
		var marked bool
		if whole {
			pos, after, marked = s.marks.find(q.Type, removed, offset)
		}
		if marked {
			rows, err = s.query(ctx, tx, "SELECT "+resourceCols+" FROM resources WHERE type = ? AND seq > ? ORDER BY seq LIMIT ? OFFSET ?",
				q.Type, after, q.Limit, offset-pos)
		} else {
			rows, err = s.query(ctx, tx, "SELECT "+resourceCols+" FROM resources"+w+" ORDER BY seq LIMIT ? OFFSET ?",
				append(args, q.Limit, offset)...)
		}
	}
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	page := []*store.Resource{}
	n := 0 // matches seen while streaming
	for rows.Next() {
		if stream && q.Match == nil && !(n >= offset && (q.Limit < 0 || len(page) < q.Limit)) {
			n++ // counted, not on the page: no need to decode it
			continue
		}
		r, err := scanResource(rows)
		if err != nil {
			return nil, 0, s.readErr(err)
		}
		if q.LoadMembers {
			if err := s.loadMembers(ctx, tx, r); err != nil {
				return nil, 0, err
			}
		}
		if q.Match != nil && !q.Match(r) {
			continue
		}
		if !stream || (n >= offset && (q.Limit < 0 || len(page) < q.Limit)) {
			page = append(page, r)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.readErr(err)
	}
	if stream {
		total = n
	}
	if whole && len(page) > 0 {
		s.marks.record(q.Type, removed, offset, page[0].Seq-1)
		s.marks.record(q.Type, removed, offset+len(page), page[len(page)-1].Seq)
	}
	return page, total, nil
}

// GroupsOf implements store.Store.
func (s *Store) GroupsOf(ctx context.Context, id string) ([]store.GroupRef, error) {
	if s.closed.Load() {
		return nil, store.ErrClosed
	}
	rows, err := s.query(ctx, nil, `SELECT r.id,
		CASE json_type(r.doc, '$.displayName') WHEN 'text' THEN json_extract(r.doc, '$.displayName') ELSE '' END
		FROM members m JOIN resources r ON r.id = m.group_id
		WHERE m.value = ? ORDER BY r.seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.GroupRef{}
	for rows.Next() {
		var g store.GroupRef
		if err := rows.Scan(&g.ID, &g.Display); err != nil {
			return nil, s.readErr(err)
		}
		out = append(out, g)
	}
	return out, s.readErr(rows.Err())
}

// Write implements store.Store.
func (s *Store) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	return s.do(ctx, func(w *wtx) error { return fn(w) })
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// resourceCols are the columns scanResource reads, from resources AS r.
const resourceCols = "r.seq, r.type, r.id, r.key, r.external_id, r.doc, r.created, r.modified, r.version"

// The columns a read of resources may add to resourceCols, each from a
// LEFT JOIN LATERAL in the same statement: one round trip and one snapshot
// for a resource with its members or its groups, or for a whole page of them.
type extras uint8

const (
	// withMembers adds a group's members, in order, as three arrays (NULL
	// when it has none).
	withMembers extras = 1 << iota
	// withGroups adds the groups the resource is a direct member of, in
	// creation order, as two arrays of ids and documents (NULL when none).
	withGroups
)

const (
	membersJoin = ` LEFT JOIN LATERAL (SELECT array_agg(m.value ORDER BY m.pos) AS v, array_agg(m.type ORDER BY m.pos) AS t,
	array_agg(m.display ORDER BY m.pos) AS d FROM members m WHERE m.group_id = r.id) AS ms ON true`
	memberCols = ", ms.v, ms.t, ms.d"
	groupsJoin = ` LEFT JOIN LATERAL (SELECT array_agg(g.id ORDER BY g.seq) AS ids, array_agg(g.doc ORDER BY g.seq) AS docs
	FROM members m JOIN resources g ON g.id = m.group_id AND g.type = 'Group' WHERE m.value = r.id) AS gs ON true`
	groupCols = ", gs.ids, gs.docs"
)

// membersIf returns withMembers when members is set.
func membersIf(members bool) extras {
	if members {
		return withMembers
	}
	return 0
}

// selectFrom returns the SELECT … FROM of resources with the extras x.
func selectFrom(x extras) string { return selectOver("resources", x) }

// selectOver is selectFrom over src, a table or a parenthesised subquery
// of resources' rows. A page is a subquery, so that the extras are read for
// the rows on the page only, not for those an OFFSET skips.
func selectOver(src string, x extras) string {
	cols, from := resourceCols, " FROM "+src+" r"
	if x&withMembers != 0 {
		cols, from = cols+memberCols, from+membersJoin
	}
	if x&withGroups != 0 {
		cols, from = cols+groupCols, from+groupsJoin
	}
	return "SELECT " + cols + from
}

// scanResource reads one row of selectFrom(x) and returns the resource and
// its stored document bytes. With withGroups, r.Groups is set (never nil).
func scanResource(row pgx.Row, x extras) (*store.Resource, []byte, error) {
	var (
		r                 store.Resource
		d                 []byte
		created, modified time.Time
		mv, mt, md        []string
		gids              []string
		gdocs             [][]byte
	)
	dest := []any{&r.Seq, &r.Type, &r.ID, &r.Key, &r.ExternalID, &d, &created, &modified, &r.Version}
	if x&withMembers != 0 {
		dest = append(dest, &mv, &mt, &md)
	}
	if x&withGroups != 0 {
		dest = append(dest, &gids, &gdocs)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, nil, err
	}
	var err error
	if r.Doc, err = doc.Decode(d); err != nil {
		return nil, nil, fmt.Errorf("%s %q: %w", r.Type, r.ID, err)
	}
	r.Created, r.Modified = doc.Time(created), doc.Time(modified)
	if len(mv) > 0 {
		if len(mt) != len(mv) || len(md) != len(mv) {
			return nil, nil, fmt.Errorf("%s %q: member columns of different lengths", r.Type, r.ID)
		}
		ms := make([]store.Member, len(mv))
		for i := range mv {
			ms[i] = store.Member{Value: mv[i], Type: mt[i], Display: md[i]}
		}
		r.Doc[doc.MembersAttr] = doc.Members(ms)
	}
	if x&withGroups != 0 {
		if len(gdocs) != len(gids) {
			return nil, nil, fmt.Errorf("%s %q: group columns of different lengths", r.Type, r.ID)
		}
		r.Groups = make([]store.GroupRef, len(gids))
		for i, gid := range gids {
			m, err := doc.Decode(gdocs[i])
			if err != nil {
				return nil, nil, fmt.Errorf("%s %q: group %q: %w", r.Type, r.ID, gid, err)
			}
			r.Groups[i].ID = gid
			r.Groups[i].Display = doc.GroupName(m)
		}
	}
	return &r, d, nil
}

// one returns the first resource rows yields, or nil when there is none.
func one(rows pgx.Rows, err error, x extras) (*store.Resource, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	r, _, err := scanResource(rows, x)
	return r, err
}

func notFound(typ, id string) error {
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, typ, id)
}

// conflict turns a unique violation into store.ErrConflict (naming what is
// taken) and returns other errors as they are.
func conflict(err error, typ, id, key string) error {
	code, constraint := pgCode(err)
	if code != codeUniqueViolation {
		return err
	}
	switch constraint {
	case "resources_id":
		return fmt.Errorf("%w: %s id %q already exists", store.ErrConflict, typ, id)
	case "resources_key":
		return fmt.Errorf("%w: %s %q", store.ErrConflict, typ, key)
	default:
		return fmt.Errorf("%w: %s %q: %v", store.ErrConflict, typ, id, err)
	}
}

// insertResource inserts a resource at version 1 and returns its seq.
const insertResource = `INSERT INTO resources (type, id, key, external_id, doc, created, modified, version)
VALUES ($1, $2, $3, $4, $5, $6, $6, 1) RETURNING seq`

// Create implements store.Store. One round trip: the resource alone is one
// statement; with members, the two statements go in one batch, which
// PostgreSQL runs as one implicit transaction. The unique indexes on
// (id, type) and (type, key) decide conflicts, for every replica at once.
func (s *Store) Create(ctx context.Context, r *store.Resource, members []store.Member) error {
	d, ms, err := doc.ForCreate(r, members)
	if err != nil {
		return err
	}
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	now := doc.Now()
	var seq int64
	if len(ms) == 0 {
		err = s.pool.QueryRow(ctx, insertResource, r.Type, r.ID, r.Key, r.ExternalID, d, now).Scan(&seq)
	} else {
		b := &pgx.Batch{}
		b.Queue(insertResource, r.Type, r.ID, r.Key, r.ExternalID, d, now)
		values, types, displays := memberColumns(ms)
		b.Queue(insertMembers, r.ID, values, types, displays)
		// The members' groups changed (one implicit transaction: a batch
		// outside BEGIN runs as one).
		b.Queue(bumpUsers, slices.Sorted(slices.Values(values)), now)
		br := s.pool.SendBatch(ctx, b)
		err = br.QueryRow().Scan(&seq)
		if err == nil {
			_, err = br.Exec()
		}
		if err == nil {
			_, err = br.Exec()
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		if cerr := conflict(err, r.Type, r.ID, r.Key); cerr != err {
			return cerr
		}
		return dbErr(ctx, fmt.Sprintf("create %s %q", r.Type, r.ID), err)
	}
	r.Created, r.Modified, r.Version, r.Seq = now, now, 1, seq
	return nil
}

// Get implements store.Store: one statement, with or without members.
func (s *Store) Get(ctx context.Context, typ, id string, members bool) (*store.Resource, error) {
	if !store.Storable(id) {
		return nil, notFound(typ, id) // PostgreSQL's text refuses it: no resource has it
	}
	release, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	rows, err := s.pool.Query(ctx, selectFrom(membersIf(members))+" WHERE r.id = $1 AND r.type = $2", id, typ)
	r, err := one(rows, err, membersIf(members))
	if err != nil {
		return nil, dbErr(ctx, fmt.Sprintf("get %s %q", typ, id), err)
	}
	if r == nil {
		return nil, notFound(typ, id)
	}
	return r, nil
}

// GetWithGroups implements store.GetWithGroups: the resource and the groups
// it belongs to (as GroupsOf lists them) in one statement, so one round
// trip and one snapshot.
func (s *Store) GetWithGroups(ctx context.Context, typ, id string) (*store.Resource, []store.GroupRef, error) {
	if !store.Storable(id) {
		return nil, nil, notFound(typ, id)
	}
	release, err := s.enter(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	rows, err := s.pool.Query(ctx, selectFrom(withGroups)+" WHERE r.id = $1 AND r.type = $2", id, typ)
	r, err := one(rows, err, withGroups)
	if err != nil {
		return nil, nil, dbErr(ctx, fmt.Sprintf("get %s %q with its groups", typ, id), err)
	}
	if r == nil {
		return nil, nil, notFound(typ, id)
	}
	groups := r.Groups
	r.Groups = nil
	return r, groups, nil
}

// Update implements store.Store. BEGIN and the locking read of the resource
// go in one round trip. The read takes every row with the id FOR NO KEY
// UPDATE (normally one), so that concurrent updates of the resource, from
// this process or another, run one after the other, each on what the one
// before it committed; that also locks the group, when the resource is
// one, for fn's member changes.
func (s *Store) Update(ctx context.Context, typ, id string, ifVersion int64, fn func(tx store.Tx, r *store.Resource) error) (*store.Resource, error) {
	if !store.Storable(id) {
		return nil, notFound(typ, id)
	}
	release, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var (
		out     *store.Resource
		stored  []byte   // the document as saved or, unchanged, as it was
		learned []string // groups the attempts so far locked or wanted
	)
	what := fmt.Sprintf("update %s %q", typ, id)
	err = retry(ctx, func() error {
		out, stored = nil, nil
		b := &pgx.Batch{}
		b.BeginTx(writeTx)
		if len(learned) > 0 {
			b.Queue(lockFirst, slices.Concat(learned, []string{id}))
		}
		b.Queue(selectFrom(0)+" WHERE r.id = $1 FOR NO KEY UPDATE", id)
		br := s.pool.SendBatch(ctx, b)
		tx := br.Tx()
		defer rollback(tx)
		w := newWtx(ctx, tx)
		var (
			cur  *store.Resource
			orig []byte
		)
		_, err := br.Exec() // BEGIN
		if err == nil && len(learned) > 0 {
			rows, qerr := br.Query()
			err = w.lockedFirst(rows, qerr)
		}
		if err == nil {
			var rows pgx.Rows
			if rows, err = br.Query(); err == nil {
				for rows.Next() {
					r, d, serr := scanResource(rows, 0)
					if serr != nil {
						err = serr
						break
					}
					if r.Type == typ {
						cur, orig = r, d
					}
				}
				rows.Close()
				if err == nil {
					err = rows.Err()
				}
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return dbErr(ctx, what, err)
		}
		if cur == nil {
			return notFound(typ, id)
		}
		if ifVersion > 0 && cur.Version != ifVersion {
			return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, cur.Version, ifVersion)
		}
		w.locked[id], w.holds = true, true
		r := *cur
		oldName := doc.GroupName(cur.Doc) // fn changes the shared Doc in place
		ferr := fn(w, &r)
		if w.conflict != nil {
			learned = w.learned(learned)
			return w.conflict // run fn again, whatever it made of the conflict
		}
		unchanged := errors.Is(ferr, store.ErrUnchanged)
		if ferr != nil && !unchanged {
			return ferr
		}
		_, membersChanged := w.changed[id]
		if unchanged && !membersChanged {
			// Nothing to save here; other groups' member changes commit.
			if err := w.bumpChanged(); err != nil {
				return err
			}
			if err := tx.Commit(ctx); err != nil {
				return dbErr(ctx, what, err)
			}
			saved := *cur
			out, stored = &saved, orig // as it was, whatever fn did to r
			return nil
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
		now := doc.Now()
		if now.Before(cur.Modified) {
			now = cur.Modified // another replica's clock was ahead: never move back
		}
		if _, err := tx.Exec(ctx, "UPDATE resources SET key = $1, external_id = $2, doc = $3, modified = $4, version = $5 WHERE seq = $6",
			r.Key, r.ExternalID, d, now, cur.Version+1, cur.Seq); err != nil {
			if cerr := conflict(err, typ, id, r.Key); cerr != err {
				return cerr
			}
			return dbErr(ctx, what, err)
		}
		delete(w.changed, id)
		if err := w.bumpChanged(); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return dbErr(ctx, what, err)
		}
		saved := r
		saved.Type, saved.ID, saved.Seq, saved.Created = cur.Type, cur.ID, cur.Seq, cur.Created
		saved.Version, saved.Modified = cur.Version+1, now
		out, stored = &saved, d
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Decoded from the bytes saved: the document exactly as a Get returns it.
	if out.Doc, err = doc.Decode(stored); err != nil {
		return nil, err
	}
	return out, nil
}

// Delete implements store.Store. The first round trip begins, locks the
// groups that have the resource as a member (in (id, type) order, the one
// every transaction uses, see lockFirst) and then the resource FOR UPDATE
// (which waits for transactions that hold it FOR KEY SHARE, having seen it
// through Tx.Get or Tx.Exists); the second removes it, its own members and
// its memberships, and bumps those groups' versions.
func (s *Store) Delete(ctx context.Context, typ, id string, ifVersion int64) error {
	if !store.Storable(id) {
		return notFound(typ, id)
	}
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	what := fmt.Sprintf("delete %s %q", typ, id)
	return retry(ctx, func() error {
		b := &pgx.Batch{}
		b.BeginTx(writeTx)
		b.Queue("SELECT 1 FROM resources WHERE id IN (SELECT group_id FROM members WHERE value = $1) ORDER BY id, type FOR NO KEY UPDATE", id)
		b.Queue("SELECT seq, version FROM resources WHERE id = $1 AND type = $2 FOR UPDATE", id, typ)
		br := s.pool.SendBatch(ctx, b)
		tx := br.Tx()
		defer rollback(tx)
		var seq, version int64
		found := true
		_, err := br.Exec() // BEGIN
		if err == nil {
			_, err = br.Exec() // the groups' locks
		}
		if err == nil {
			err = br.QueryRow().Scan(&seq, &version)
			if errors.Is(err, pgx.ErrNoRows) {
				found, err = false, nil
			}
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return dbErr(ctx, what, err)
		}
		if !found {
			return notFound(typ, id)
		}
		if ifVersion > 0 && version != ifVersion {
			return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, version, ifVersion)
		}
		b = &pgx.Batch{}
		b.Queue("DELETE FROM resources WHERE seq = $1", seq)
		// A group leaves its members' groups.
		b.Queue(`WITH gone AS (DELETE FROM members WHERE group_id = $1 RETURNING value)
UPDATE resources SET version = version + 1, modified = GREATEST(modified, $2)
WHERE type = 'User' AND id IN (SELECT value FROM gone)`, id, doc.Now())
		b.Queue(`WITH gone AS (DELETE FROM members WHERE value = $1 RETURNING group_id)
UPDATE resources SET version = version + 1, modified = GREATEST(modified, $2) WHERE id IN (SELECT group_id FROM gone)`, id, doc.Now())
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return dbErr(ctx, what, err)
		}
		return dbErr(ctx, what, tx.Commit(ctx))
	})
}

// storableQuery reports whether every index value of q could be stored;
// one that could not matches nothing (and PostgreSQL would refuse it as a
// parameter).
func storableQuery(q store.Query) bool {
	for _, v := range []string{q.ID, q.Key, q.ExternalID, q.MemberOf, q.HasMember} {
		if !store.Storable(v) {
			return false
		}
	}
	return true
}

// where returns the WHERE clause of q over resources AS r, with its
// arguments numbered from $1. Every field set is a condition; PostgreSQL
// picks the index. Key and ExternalID also state the partial indexes'
// predicates, which a generic plan of a prepared statement cannot infer
// from "key = $n".
func where(q store.Query) (string, []any) {
	var conds []string
	var args []any
	term := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if q.Type != "" {
		term("r.type = ?", q.Type)
	}
	if q.ID != "" {
		term("r.id = ?", q.ID)
	}
	if q.Key != "" {
		term("r.key = ?", q.Key)
		conds = append(conds, "r.key <> ''")
	}
	if q.ExternalID != "" {
		term("r.external_id = ?", q.ExternalID)
		conds = append(conds, "r.external_id <> ''")
	}
	if q.HasMember != "" {
		term("r.id IN (SELECT group_id FROM members WHERE value = ?)", q.HasMember)
	}
	if q.MemberOf != "" {
		term("r.id IN (SELECT value FROM members WHERE group_id = ?)", q.MemberOf)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// pageSQL reads a page of the resources where w holds (w's n arguments,
// then LIMIT and OFFSET) with the extras x, read for the page's rows only.
func pageSQL(w string, n int, x extras) string {
	return selectOver("(SELECT * FROM resources r"+w+" ORDER BY r.seq LIMIT $"+strconv.Itoa(n+1)+" OFFSET $"+strconv.Itoa(n+2)+")", x) + " ORDER BY r.seq"
}

// List implements store.Store. With Match, or when ID or Key make the
// result a row or two at most, it streams the candidates in Seq order from
// one statement (one snapshot), members first when LoadMembers is set, and
// counts the matches as they come. Otherwise it sends the COUNT(*) and the
// page in one batch inside one REPEATABLE READ READ ONLY transaction, so
// that the total and the page agree.
func (s *Store) List(ctx context.Context, q store.Query) ([]*store.Resource, int, error) {
	release, err := s.enter(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer release()
	if !storableQuery(q) {
		return []*store.Resource{}, 0, nil // an index value no row can hold
	}
	w, args := where(q)
	x := membersIf(q.LoadMembers)
	// Groups come with a page (LIMIT/OFFSET below), where they save the
	// page's second round trip. Not with Match, which would look up every
	// candidate's groups, nor for an ID or Key lookup: measured end to end
	// (scimlab bench --data postgres://…, 3,000 users, right after they were
	// created), userName eq lookups ran at 5,721–5,790/s with the lateral
	// join against 6,367–6,804/s as a list plus GroupsOf.
	withPageGroups := q.WithGroups && q.Type == "User" && q.Match == nil
	offset := max(q.Offset, 0)
	onPage := func(n, got int) bool { return n >= offset && (q.Limit < 0 || got < q.Limit) }
	page := []*store.Resource{}
	if q.Match != nil || q.ID != "" || q.Key != "" {
		rows, err := s.pool.Query(ctx, selectFrom(x)+w+" ORDER BY r.seq", args...)
		if err != nil {
			return nil, 0, dbErr(ctx, "list", err)
		}
		defer rows.Close()
		n := 0 // matches so far
		for rows.Next() {
			if q.Match == nil && !onPage(n, len(page)) {
				n++ // counted, not on the page: no need to decode it
				continue
			}
			r, _, err := scanResource(rows, x)
			if err != nil {
				return nil, 0, dbErr(ctx, "list", err)
			}
			if q.Match != nil && !q.Match(r) {
				continue
			}
			if onPage(n, len(page)) {
				page = append(page, r)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			return nil, 0, dbErr(ctx, "list", err)
		}
		return page, n, nil
	}

	px := x // the page's extras
	if withPageGroups {
		px |= withGroups
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	b.Queue("SELECT count(*) FROM resources r"+w, args...)
	if q.Limit != 0 {
		var limit any // NULL: LIMIT ALL
		if q.Limit > 0 {
			limit = int64(q.Limit)
		}
		n := len(args)
		b.Queue(pageSQL(w, n, px),
			append(args, limit, int64(offset))...)
	}
	b.Queue("COMMIT")
	// A failure leaves the connection inside the transaction; the pool
	// then discards it rather than reuse it.
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	var total int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&total)
	}
	if err == nil && q.Limit != 0 {
		var rows pgx.Rows
		if rows, err = br.Query(); err == nil {
			for rows.Next() {
				r, _, serr := scanResource(rows, px)
				if serr != nil {
					err = serr
					break
				}
				page = append(page, r)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
	}
	if err == nil {
		_, err = br.Exec() // COMMIT
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, dbErr(ctx, "list", err)
	}
	return page, int(total), nil
}

// GroupsOf implements store.Store. The display name is read from each
// group's document here rather than in SQL: documents are bytes, not jsonb
// (see migrations).
func (s *Store) GroupsOf(ctx context.Context, id string) ([]store.GroupRef, error) {
	m, err := s.GroupsOfMany(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if g := m[id]; g != nil {
		return g, nil
	}
	return []store.GroupRef{}, nil
}

// GroupsOfMany implements store.GroupsOfMany: the groups of every id in one
// query, so that a page of users costs one round trip for their groups,
// not one per user. Each group's document is decoded once.
func (s *Store) GroupsOfMany(ctx context.Context, ids []string) (map[string][]store.GroupRef, error) {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !store.Storable(id) }) // in no group
	if len(ids) == 0 {
		return map[string][]store.GroupRef{}, nil
	}
	release, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	what := func() string {
		if len(ids) == 1 {
			return fmt.Sprintf("groups of %q", ids[0])
		}
		return fmt.Sprintf("groups of %d resources", len(ids))
	}
	const q = `SELECT m.value, r.id, r.type, r.doc FROM members m JOIN resources r ON r.id = m.group_id WHERE `
	var rows pgx.Rows
	if len(ids) == 1 { // GroupsOf: a plain equality, the cheapest plan
		rows, err = s.pool.Query(ctx, q+`m.value = $1 ORDER BY r.seq`, ids[0])
	} else {
		rows, err = s.pool.Query(ctx, q+`m.value = ANY($1) ORDER BY r.seq`, ids)
	}
	if err != nil {
		return nil, dbErr(ctx, what(), err)
	}
	defer rows.Close()
	out := make(map[string][]store.GroupRef, len(ids))
	display := map[string]string{} // group id → displayName, decoded once
	for rows.Next() {
		var (
			member, typ string
			g           store.GroupRef
			d           []byte
		)
		if err := rows.Scan(&member, &g.ID, &typ, &d); err != nil {
			return nil, dbErr(ctx, what(), err)
		}
		name, ok := display[g.ID]
		if !ok {
			m, err := doc.Decode(d)
			if err != nil {
				return nil, fmt.Errorf("store/postgres: %s: %s %q: %w", what(), typ, g.ID, err)
			}
			name = doc.GroupName(m)
			display[g.ID] = name
		}
		g.Display = name
		out[member] = append(out[member], g)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(ctx, what(), err)
	}
	return out, nil
}

// Write implements store.Store: fn runs in one READ COMMITTED transaction,
// which commits when fn returns nil (groups whose members changed get their
// new version first) and rolls back otherwise.
func (s *Store) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	release, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer release()
	var learned []string // groups the attempts so far locked or wanted
	return retry(ctx, func() error {
		w, err := s.beginWrite(ctx, learned)
		if err != nil {
			return dbErr(ctx, "write: begin", err)
		}
		defer rollback(w.tx)
		err = fn(w)
		if w.conflict != nil {
			learned = w.learned(learned)
			return w.conflict // run fn again, whatever it made of the conflict
		}
		if err != nil {
			return err
		}
		if err := w.bumpChanged(); err != nil {
			return err
		}
		return dbErr(ctx, "write: commit", w.tx.Commit(ctx))
	})
}

// beginWrite begins a write transaction; when learned is not empty, it
// takes those groups' locks first (lockFirst), in the same round trip.
func (s *Store) beginWrite(ctx context.Context, learned []string) (*wtx, error) {
	if len(learned) == 0 {
		tx, err := s.pool.BeginTx(ctx, writeTx)
		if err != nil {
			return nil, err
		}
		return newWtx(ctx, tx), nil
	}
	b := &pgx.Batch{}
	b.BeginTx(writeTx)
	b.Queue(lockFirst, learned)
	br := s.pool.SendBatch(ctx, b)
	w := newWtx(ctx, br.Tx())
	_, err := br.Exec() // BEGIN
	if err == nil {
		rows, qerr := br.Query()
		err = w.lockedFirst(rows, qerr)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rollback(w.tx)
		return nil, err
	}
	return w, nil
}

// Package memory is an in-memory store.Store for unit tests and speed
// comparisons: maps under one RWMutex, resources per type in creation order,
// and each group's members as an ordered slice plus an index by value, so
// that adding or removing a member costs O(changed members).
package memory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// Store is the in-memory backend. The zero value is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	closed   bool
	seq      int64
	tables   map[string]*table
	groups   map[string]*memberList         // group id → members
	memberOf map[string]map[string]struct{} // member value → group ids
	tokens   map[string]store.Token
	settings map[string]string
	epoch    atomic.Uint64 // store.AuthEpoch
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		tables:   map[string]*table{},
		groups:   map[string]*memberList{},
		memberOf: map[string]map[string]struct{}{},
		tokens:   map[string]store.Token{},
		settings: map[string]string{},
	}
}

// row is one stored resource; res.Doc is private to the store.
type row struct {
	res store.Resource
	pos int // index in table.order
}

// table holds the resources of one type.
type table struct {
	byID  map[string]*row
	byKey map[string]*row
	byExt map[string][]*row
	order []*row // Seq order; nil where deleted
	dead  int
}

func (s *Store) table(typ string, create bool) *table {
	t := s.tables[typ]
	if t == nil && create {
		t = &table{byID: map[string]*row{}, byKey: map[string]*row{}, byExt: map[string][]*row{}}
		s.tables[typ] = t
	}
	return t
}

func (t *table) insert(r *row) {
	r.pos = len(t.order)
	t.order = append(t.order, r)
	t.byID[r.res.ID] = r
	if r.res.Key != "" {
		t.byKey[r.res.Key] = r
	}
	t.addExt(r)
}

func (t *table) addExt(r *row) {
	if r.res.ExternalID != "" {
		t.byExt[r.res.ExternalID] = append(t.byExt[r.res.ExternalID], r)
	}
}

func (t *table) removeExt(r *row) {
	l := t.byExt[r.res.ExternalID]
	for i, x := range l {
		if x == r {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(t.byExt, r.res.ExternalID)
	} else {
		t.byExt[r.res.ExternalID] = l
	}
}

func (t *table) remove(r *row) {
	delete(t.byID, r.res.ID)
	if r.res.Key != "" {
		delete(t.byKey, r.res.Key)
	}
	if r.res.ExternalID != "" {
		t.removeExt(r)
	}
	t.order[r.pos] = nil
	t.dead++
	if t.dead > 64 && t.dead > len(t.order)/2 {
		live := t.order[:0]
		for _, x := range t.order {
			if x != nil {
				x.pos = len(live)
				live = append(live, x)
			}
		}
		clear(t.order[len(live):])
		t.order = live
		t.dead = 0
	}
}

// find returns the resource with that id whatever its type (groups are
// named by id alone in the members table).
func (s *Store) find(id string) *row {
	for _, t := range s.tables {
		if r := t.byID[id]; r != nil {
			return r
		}
	}
	return nil
}

func (s *Store) get(typ, id string) *row {
	if t := s.tables[typ]; t != nil {
		return t.byID[id]
	}
	return nil
}

func notFound(typ, id string) error {
	return fmt.Errorf("%w: %s %q", store.ErrNotFound, typ, id)
}

// out returns a copy of a stored resource for a caller.
func (s *Store) out(r *row, members bool) *store.Resource {
	c := r.res
	c.Doc = doc.CloneStored(r.res.Doc)
	if members {
		if ml := s.groups[r.res.ID]; ml != nil && ml.live > 0 {
			c.Doc[doc.MembersAttr] = doc.Members(ml.list())
		}
	}
	return &c
}

// check returns ErrClosed or the context's error under s.mu.
func (s *Store) check(ctx context.Context) error {
	if s.closed {
		return store.ErrClosed
	}
	return ctx.Err()
}

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, r *store.Resource, members []store.Member) error {
	d, ms, err := forCreate(r, members)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	tx := &tx{s: s}
	if err := tx.create(r, d, ms); err != nil {
		return err
	}
	tx.commit(r.ID) // the members' versions; the group starts at 1
	return nil
}

// forCreate checks what a Create is given and returns a private copy of
// the document and the members deduplicated.
func forCreate(r *store.Resource, members []store.Member) (map[string]any, []store.Member, error) {
	if r.Type == "" || r.ID == "" {
		return nil, nil, doc.ErrNoIdentity
	}
	d, err := doc.Clone(r.Doc)
	if err != nil {
		return nil, nil, err
	}
	ms, err := doc.Dedupe(members)
	if err != nil {
		return nil, nil, err
	}
	return d, ms, nil
}

// create inserts r (its document d, a private copy) and its members ms,
// undoably.
func (t *tx) create(r *store.Resource, d map[string]any, ms []store.Member) error {
	s := t.s
	tb := s.table(r.Type, true)
	if tb.byID[r.ID] != nil {
		return fmt.Errorf("%w: %s id %q already exists", store.ErrConflict, r.Type, r.ID)
	}
	if r.Key != "" && tb.byKey[r.Key] != nil {
		return fmt.Errorf("%w: %s %q", store.ErrConflict, r.Type, r.Key)
	}
	now := doc.Now()
	s.seq++
	r.Created, r.Modified, r.Version, r.Seq = now, now, 1, s.seq
	stored := *r
	stored.Doc = d
	stored.Groups = nil
	row := &row{res: stored}
	tb.insert(row)
	t.undo = append(t.undo, func() { tb.remove(row) })
	for _, m := range ms {
		t.add(r.ID, m)
	}
	delete(t.changed, r.ID)
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, typ, id string, members bool) (*store.Resource, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	r := s.get(typ, id)
	if r == nil {
		return nil, notFound(typ, id)
	}
	return s.out(r, members), nil
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, typ, id string, ifVersion int64, fn func(tx store.Tx, r *store.Resource) error) (*store.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	cur := s.get(typ, id)
	if cur == nil {
		return nil, notFound(typ, id)
	}
	if ifVersion > 0 && cur.res.Version != ifVersion {
		return nil, fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, cur.res.Version, ifVersion)
	}
	r := s.out(cur, false)
	tx := &tx{s: s}
	ferr := fn(tx, r)
	unchanged := errors.Is(ferr, store.ErrUnchanged)
	if ferr != nil && !unchanged {
		tx.rollback()
		return nil, ferr
	}
	_, membersChanged := tx.changed[id]
	if unchanged && !membersChanged {
		tx.commit(id)
		return s.out(cur, false), nil
	}
	d, err := doc.Clone(r.Doc)
	if err != nil {
		tx.rollback()
		return nil, err
	}
	t := s.tables[typ]
	if typ == "Group" && doc.GroupName(cur.res.Doc) != doc.GroupName(r.Doc) {
		// Renamed: its members' groups show the new name.
		if l := s.groups[id]; l != nil {
			for _, m := range l.list() {
				tx.touch(m.Value)
			}
		}
	}
	if r.Key != "" && r.Key != cur.res.Key {
		if o := t.byKey[r.Key]; o != nil && o != cur {
			tx.rollback()
			return nil, fmt.Errorf("%w: %s %q", store.ErrConflict, typ, r.Key)
		}
	}
	if cur.res.Key != r.Key {
		if cur.res.Key != "" {
			delete(t.byKey, cur.res.Key)
		}
		if r.Key != "" {
			t.byKey[r.Key] = cur
		}
	}
	if cur.res.ExternalID != r.ExternalID {
		if cur.res.ExternalID != "" {
			t.removeExt(cur)
		}
		cur.res.ExternalID = r.ExternalID
		t.addExt(cur)
	}
	cur.res.Key = r.Key
	cur.res.Doc = d
	cur.res.Version++
	cur.res.Modified = doc.Now()
	tx.commit(id)
	return s.out(cur, false), nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, typ, id string, ifVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	r := s.get(typ, id)
	if r == nil {
		return notFound(typ, id)
	}
	if ifVersion > 0 && r.res.Version != ifVersion {
		return fmt.Errorf("%w: %s %q is at version %d, not %d", store.ErrVersionMismatch, typ, id, r.res.Version, ifVersion)
	}
	s.tables[typ].remove(r)
	tx := &tx{s: s}
	if ml := s.groups[id]; ml != nil {
		for _, m := range ml.list() {
			s.unlinkMember(m.Value, id)
			tx.touch(m.Value) // the group leaves its members' groups
		}
		delete(s.groups, id)
	}
	for g := range s.memberOf[id] {
		tx.remove(g, id)
	}
	tx.commit(id)
	return nil
}

func (s *Store) linkMember(value, group string) {
	set := s.memberOf[value]
	if set == nil {
		set = map[string]struct{}{}
		s.memberOf[value] = set
	}
	set[group] = struct{}{}
}

func (s *Store) unlinkMember(value, group string) {
	if set := s.memberOf[value]; set != nil {
		delete(set, group)
		if len(set) == 0 {
			delete(s.memberOf, value)
		}
	}
}

// isMember reports whether value is a direct member of group.
func (s *Store) isMember(group, value string) bool {
	_, ok := s.memberOf[value][group]
	return ok
}

// List implements store.Store.
func (s *Store) List(ctx context.Context, q store.Query) ([]*store.Resource, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, 0, err
	}
	var page []*row
	total := 0
	for _, r := range s.candidates(q) {
		if !s.matches(r, q) {
			continue
		}
		if q.Match != nil {
			view := r.res
			if q.LoadMembers {
				if ml := s.groups[r.res.ID]; ml != nil && ml.live > 0 {
					d := make(map[string]any, len(view.Doc)+1)
					for k, v := range view.Doc {
						d[k] = v
					}
					d[doc.MembersAttr] = doc.Members(ml.list())
					view.Doc = d
				}
			}
			if !q.Match(&view) {
				continue
			}
		}
		if total >= q.Offset && (q.Limit < 0 || len(page) < q.Limit) {
			page = append(page, r)
		}
		total++
	}
	out := make([]*store.Resource, len(page))
	for i, r := range page {
		out[i] = s.out(r, q.LoadMembers)
	}
	return out, total, nil
}

// candidates returns the rows an index yields for q, in Seq order.
func (s *Store) candidates(q store.Query) []*row {
	var tables []*table
	if q.Type == "" {
		for _, t := range s.tables {
			tables = append(tables, t)
		}
	} else if t := s.tables[q.Type]; t != nil {
		tables = []*table{t}
	}
	var rows []*row
	sorted := false
	for _, t := range tables {
		switch {
		case q.ID != "":
			if r := t.byID[q.ID]; r != nil {
				rows = append(rows, r)
			}
		case q.Key != "":
			if r := t.byKey[q.Key]; r != nil {
				rows = append(rows, r)
			}
		case q.ExternalID != "":
			rows = append(rows, t.byExt[q.ExternalID]...)
		case q.HasMember != "":
			for g := range s.memberOf[q.HasMember] {
				if r := t.byID[g]; r != nil {
					rows = append(rows, r)
				}
			}
		case q.MemberOf != "":
			if ml := s.groups[q.MemberOf]; ml != nil {
				for _, m := range ml.list() {
					if r := t.byID[m.Value]; r != nil {
						rows = append(rows, r)
					}
				}
			}
		default:
			if len(tables) == 1 {
				sorted = true
			}
			for _, r := range t.order {
				if r != nil {
					rows = append(rows, r)
				}
			}
		}
	}
	if !sorted {
		sort.Slice(rows, func(i, j int) bool { return rows[i].res.Seq < rows[j].res.Seq })
	}
	return rows
}

// matches applies every index field of q to r.
func (s *Store) matches(r *row, q store.Query) bool {
	switch {
	case q.ID != "" && r.res.ID != q.ID,
		q.Key != "" && r.res.Key != q.Key,
		q.ExternalID != "" && r.res.ExternalID != q.ExternalID,
		q.MemberOf != "" && !s.isMember(q.MemberOf, r.res.ID),
		q.HasMember != "" && !s.isMember(r.res.ID, q.HasMember):
		return false
	}
	return true
}

// GroupsOf implements store.Store.
func (s *Store) GroupsOf(ctx context.Context, id string) ([]store.GroupRef, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	var rows []*row
	for g := range s.memberOf[id] {
		if r := s.find(g); r != nil {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].res.Seq < rows[j].res.Seq })
	out := make([]store.GroupRef, len(rows))
	for i, r := range rows {
		display := doc.GroupName(r.res.Doc)
		out[i] = store.GroupRef{ID: r.res.ID, Display: display}
	}
	return out, nil
}

// Write implements store.Store.
func (s *Store) Write(ctx context.Context, fn func(tx store.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	tx := &tx{s: s}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	tx.commit("")
	return nil
}

// PutToken implements store.Tokens.
func (s *Store) PutToken(ctx context.Context, t store.Token) error {
	return s.UpdateTokens(ctx, func([]store.Token) ([]store.Token, error) { return []store.Token{t}, nil })
}

// UpdateTokens implements store.Tokens, under the store's lock.
func (s *Store) UpdateTokens(ctx context.Context, fn func([]store.Token) ([]store.Token, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	put, err := fn(s.listTokens())
	if err != nil {
		return err
	}
	next := maps.Clone(s.tokens)
	for _, t := range put {
		if t.ID == "" {
			return errors.New("store: PutToken needs an ID")
		}
		for _, o := range next {
			if o.Hash == t.Hash && o.ID != t.ID {
				return fmt.Errorf("%w: token hash", store.ErrConflict)
			}
		}
		next[t.ID] = normToken(t)
	}
	if len(put) > 0 {
		s.tokens = next
		s.epoch.Add(1)
	}
	return nil
}

func normToken(t store.Token) store.Token {
	t.EmailDomains = append([]string(nil), t.EmailDomains...)
	t.Created = doc.Time(t.Created)
	t.Expires = doc.Time(t.Expires)
	t.LastUsed = doc.Time(t.LastUsed)
	t.Revoked = doc.Time(t.Revoked)
	return t
}

// TokenByHash implements store.Tokens.
func (s *Store) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return store.Token{}, err
	}
	for _, t := range s.tokens {
		if t.Hash == hash {
			return normToken(t), nil
		}
	}
	return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
}

// ListTokens implements store.Tokens.
func (s *Store) ListTokens(ctx context.Context) ([]store.Token, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	return s.listTokens(), nil
}

// listTokens copies the tokens, oldest first; the caller holds mu.
func (s *Store) listTokens() []store.Token {
	out := make([]store.Token, 0, len(s.tokens))
	for _, t := range s.tokens {
		out = append(out, normToken(t))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// TouchToken implements store.Tokens.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	t, ok := s.tokens[id]
	if !ok {
		return fmt.Errorf("%w: token %q", store.ErrNotFound, id)
	}
	if at = doc.Time(at); at.After(t.LastUsed) {
		t.LastUsed = at
		s.tokens[id] = t
	}
	return nil
}

// Setting implements store.Settings.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return "", false, err
	}
	v, ok := s.settings[key]
	return v, ok, nil
}

// PutSetting implements store.Settings.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return err
	}
	s.settings[key] = value
	s.epoch.Add(1)
	return nil
}

// SettingsWithPrefix implements store.Settings.
func (s *Store) SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range s.settings {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

// PutSettingIfAbsent implements store.Settings.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(ctx); err != nil {
		return false, err
	}
	if _, ok := s.settings[key]; ok {
		return false, nil
	}
	s.settings[key] = value
	s.epoch.Add(1)
	return true, nil
}

// AuthEpoch implements store.AuthEpoch.
func (s *Store) AuthEpoch() uint64 { return s.epoch.Load() }

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

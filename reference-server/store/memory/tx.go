package memory

import (
	"fmt"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/internal/doc"
)

// memberList is one group's members in insertion order. Removed members
// leave a dead slot (so that a rollback can revive it in place) until the
// list is compacted at the end of a transaction.
type memberList struct {
	slots []slot
	idx   map[string]int // value → live slot
	live  int
}

type slot struct {
	m    store.Member
	live bool
}

func (l *memberList) list() []store.Member {
	out := make([]store.Member, 0, l.live)
	for _, s := range l.slots {
		if s.live {
			out = append(out, s.m)
		}
	}
	return out
}

func (l *memberList) compact() {
	if dead := len(l.slots) - l.live; dead <= 32 || dead <= l.live {
		return
	}
	live := l.slots[:0]
	for _, s := range l.slots {
		if s.live {
			l.idx[s.m.Value] = len(live)
			live = append(live, s)
		}
	}
	clear(l.slots[len(live):])
	l.slots = live
}

func newMemberList(ms []store.Member) *memberList {
	l := &memberList{slots: make([]slot, len(ms)), idx: make(map[string]int, len(ms)), live: len(ms)}
	for i, m := range ms {
		l.slots[i] = slot{m: m, live: true}
		l.idx[m.Value] = i
	}
	return l
}

// tx is a write transaction under Store.mu: member changes are applied at
// once and recorded in an undo log that rollback replays backwards.
type tx struct {
	s       *Store
	undo    []func()
	changed map[string]struct{} // groups whose members changed
	joined  map[string]struct{} // member values whose groups changed (Users get a new version)
}

// touch records that value's groups changed: a User with that id gets a
// new version at commit (its groups attribute is computed from them).
func (t *tx) touch(value string) {
	if t.joined == nil {
		t.joined = map[string]struct{}{}
	}
	t.joined[value] = struct{}{}
}

var _ store.Tx = (*tx)(nil)

func (t *tx) Get(typ, id string) (*store.Resource, error) {
	r := t.s.get(typ, id)
	if r == nil {
		return nil, notFound(typ, id)
	}
	return t.s.out(r, false), nil
}

// Create implements store.Tx.
func (t *tx) Create(r *store.Resource, members []store.Member) error {
	d, ms, err := forCreate(r, members)
	if err != nil {
		return err
	}
	return t.create(r, d, ms)
}

func (t *tx) Exists(typ, id string) (bool, error) {
	return t.s.get(typ, id) != nil, nil
}

func (t *tx) group(id string) error {
	if t.s.find(id) == nil {
		return fmt.Errorf("%w: group %q", store.ErrNotFound, id)
	}
	return nil
}

func (t *tx) Members(groupID string) ([]store.Member, error) {
	if err := t.group(groupID); err != nil {
		return nil, err
	}
	if l := t.s.groups[groupID]; l != nil {
		return l.list(), nil
	}
	return []store.Member{}, nil
}

func (t *tx) AddMembers(groupID string, ms []store.Member) (int, error) {
	if err := t.group(groupID); err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if m.Value == "" {
			return n, doc.ErrEmptyValue
		}
		if t.add(groupID, m) {
			n++
		}
	}
	return n, nil
}

func (t *tx) RemoveMembers(groupID string, values []string) (int, error) {
	if err := t.group(groupID); err != nil {
		return 0, err
	}
	n := 0
	for _, v := range values {
		if t.remove(groupID, v) {
			n++
		}
	}
	return n, nil
}

func (t *tx) SetMembers(groupID string, ms []store.Member) error {
	if err := t.group(groupID); err != nil {
		return err
	}
	next, err := doc.Dedupe(ms)
	if err != nil {
		return err
	}
	var old []store.Member
	l := t.s.groups[groupID]
	if l != nil {
		old = l.list()
	}
	p := doc.PlanSet(old, next)
	if !p.Changed() {
		return nil
	}
	if !p.Rewrite {
		for _, v := range p.Removed {
			t.remove(groupID, v)
		}
		for _, m := range p.Updated {
			i := l.idx[m.Value]
			prev := l.slots[i].m
			l.slots[i].m = m
			t.undo = append(t.undo, func() { l.slots[i].m = prev })
		}
		for _, m := range p.Added {
			t.add(groupID, m)
		}
		t.markChanged(groupID)
		return nil
	}
	s := t.s
	for _, m := range old {
		s.unlinkMember(m.Value, groupID)
	}
	for _, m := range next {
		s.linkMember(m.Value, groupID)
	}
	for _, v := range doc.Moved(old, next) {
		t.touch(v)
	}
	s.groups[groupID] = newMemberList(next)
	t.undo = append(t.undo, func() {
		for _, m := range next {
			s.unlinkMember(m.Value, groupID)
		}
		for _, m := range old {
			s.linkMember(m.Value, groupID)
		}
		if l == nil {
			delete(s.groups, groupID)
		} else {
			s.groups[groupID] = l
		}
	})
	t.markChanged(groupID)
	return nil
}

func (t *tx) markChanged(group string) {
	if t.changed == nil {
		t.changed = map[string]struct{}{}
	}
	t.changed[group] = struct{}{}
}

// add appends m to group unless it is there; it reports whether it did.
func (t *tx) add(group string, m store.Member) bool {
	s := t.s
	l := s.groups[group]
	if l == nil {
		l = &memberList{idx: map[string]int{}}
		s.groups[group] = l
	}
	if _, ok := l.idx[m.Value]; ok {
		return false
	}
	i := len(l.slots)
	l.slots = append(l.slots, slot{m: m, live: true})
	l.idx[m.Value] = i
	l.live++
	s.linkMember(m.Value, group)
	t.markChanged(group)
	t.touch(m.Value)
	t.undo = append(t.undo, func() {
		l.slots[i].live = false
		delete(l.idx, m.Value)
		l.live--
		s.unlinkMember(m.Value, group)
	})
	return true
}

// remove takes value out of group; it reports whether it was there.
func (t *tx) remove(group, value string) bool {
	s := t.s
	l := s.groups[group]
	if l == nil {
		return false
	}
	i, ok := l.idx[value]
	if !ok {
		return false
	}
	l.slots[i].live = false
	delete(l.idx, value)
	l.live--
	s.unlinkMember(value, group)
	t.markChanged(group)
	t.touch(value)
	t.undo = append(t.undo, func() {
		l.slots[i].live = true
		l.idx[value] = i
		l.live++
		s.linkMember(value, group)
	})
	return true
}

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	t.changed, t.joined = nil, nil
}

// commit bumps the version of every group whose members changed and of
// every User whose groups changed, except self (which Update saves
// itself), and compacts the groups' member lists.
func (t *tx) commit(self string) {
	if len(t.changed) == 0 && len(t.joined) == 0 {
		return
	}
	now := doc.Now()
	for v := range t.joined {
		if r := t.s.get("User", v); r != nil && v != self {
			r.res.Version++
			r.res.Modified = now
		}
	}
	t.joined = nil
	for g := range t.changed {
		if l := t.s.groups[g]; l != nil {
			l.compact()
			if l.live == 0 {
				delete(t.s.groups, g)
			}
		}
		if g == self {
			continue
		}
		if r := t.s.find(g); r != nil {
			r.res.Version++
			r.res.Modified = now
		}
	}
	t.undo = nil
}

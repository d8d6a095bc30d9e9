package sqlite

import (
	"slices"
	"sync"
)

// Position marks let a page of a type's full listing (no filter: what an IdP
// reads when it imports every user, startIndex 1, 101, 201, ...) start where
// an earlier page ended instead of stepping over every row before it: with
// LIMIT/OFFSET, page k costs O(k·count) index steps, and a pass through n
// users O(n²/count).
//
// A mark (pos, after) says: in the type's order by seq, the rows with
// seq > after start at position pos (0-based), i.e. exactly pos rows of the
// type have seq <= after. List records one at both ends of each page it
// returns, and a later page at offset o >= pos asks for
// "seq > after ... OFFSET o-pos" instead of "OFFSET o".
//
// Why a mark stays true: seq is AUTOINCREMENT, so a new row always sorts
// after every row that exists, and the rows before a mark stay where they
// are; an update never moves a row. Only a row leaving the type (deleted)
// moves later positions, and that bumps type_stats.removed in the same
// transaction (schema migration 2). Marks are kept per value of removed,
// which a reader reads inside its own snapshot: it uses and records marks
// only for the state of the type it actually sees. A reader whose snapshot
// is older than a mark's (same removed, fewer rows) can only be told about
// rows it has; a mark past its last row is past its total too, and List
// answers such an offset before looking for a mark.
type pageMarks struct {
	mu    sync.Mutex
	types map[string]*typeMarks
}

type typeMarks struct {
	removed int64   // type_stats.removed the marks hold for
	pos     []int   // ascending
	after   []int64 // after[i] belongs to pos[i]
}

// maxMarks bounds the marks kept per type (about 16 bytes each): at
// count=100, enough for every page of 400,000 resources.
const maxMarks = 4096

// find returns the mark at or before offset for the type as of removed.
func (m *pageMarks) find(typ string, removed int64, offset int) (pos int, after int64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.types[typ]
	if t == nil || t.removed != removed {
		return 0, 0, false
	}
	i, found := slices.BinarySearch(t.pos, offset)
	if !found {
		if i == 0 {
			return 0, 0, false
		}
		i--
	}
	return t.pos[i], t.after[i], true
}

// record remembers that the type's rows with seq > after start at pos, as
// of removed. Marks for an older removed are dropped; a record for one older
// than the marks held is ignored.
func (m *pageMarks) record(typ string, removed int64, pos int, after int64) {
	if pos <= 0 {
		return // position 0 needs no mark
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.types == nil {
		m.types = map[string]*typeMarks{}
	}
	t := m.types[typ]
	switch {
	case t == nil:
		t = &typeMarks{removed: removed}
		m.types[typ] = t
	case removed < t.removed:
		return
	case removed > t.removed || len(t.pos) >= maxMarks:
		*t = typeMarks{removed: removed}
	}
	i, found := slices.BinarySearch(t.pos, pos)
	if found {
		t.after[i] = after
		return
	}
	t.pos = slices.Insert(t.pos, i, pos)
	t.after = slices.Insert(t.after, i, after)
}

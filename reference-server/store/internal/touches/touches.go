// Package touches keeps the token uses (store.Tokens.TouchToken) a backend
// has not written yet. A server touches its token on every request, so the
// backends coalesce: they note each use here and write the latest use per
// token about once a second, and they show noted uses in what they return
// before those are written.
package touches

import (
	"sync"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// Pending is the set of uses not yet written: per token id, the latest.
// The zero value is ready to use; it is safe for concurrent use.
type Pending struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// Note records a use at at; an earlier one than the use already pending
// changes nothing (LastUsed never moves back).
func (p *Pending) Note(id string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at.After(p.m[id]) {
		if p.m == nil {
			p.m = map[string]time.Time{}
		}
		p.m[id] = at
	}
}

// NoteIfPending records a use only when a use of id is pending already,
// and reports whether one was: such a token is known to exist.
func (p *Pending) NoteIfPending(id string, at time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, ok := p.m[id]
	if ok && at.After(prev) {
		p.m[id] = at
	}
	return ok
}

// Apply moves each token's LastUsed up to its pending use, if later.
func (p *Pending) Apply(ts []store.Token) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range ts {
		if at, ok := p.m[ts[i].ID]; ok && at.After(ts[i].LastUsed) {
			ts[i].LastUsed = at
		}
	}
}

// Take returns a copy of the pending uses to write (nil when there are
// none). They stay pending until Written is called with them.
func (p *Pending) Take() map[string]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) == 0 {
		return nil
	}
	batch := make(map[string]time.Time, len(p.m))
	for id, at := range p.m {
		batch[id] = at
	}
	return batch
}

// Written forgets the uses of batch that are still the pending ones; a use
// noted since Take stays for the next write.
func (p *Pending) Written(batch map[string]time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, at := range batch {
		if p.m[id].Equal(at) {
			delete(p.m, id)
		}
	}
}

// Len is how many tokens have a use pending.
func (p *Pending) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

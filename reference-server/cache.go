package server

import (
	"sync"

	"github.com/scimlab/scimlab/reference-server/store"
)

// readCache remembers, per resource, the JSON the server last rendered for
// it (per attributes/excludedAttributes view and base URL, never with a
// Group's members) and its version, plus users' computed groups. A GET by
// id or a userName/displayName lookup that hits it costs no store access
// and no encoding.
//
// It is only correct while this server is the only writer of its store, so
// New turns it on for the embedded SQLite and in-memory backends only
// (Config.DisableReadCache turns it off).
//
// Consistency: every write through the server calls invalidate after the
// store has committed, which bumps a generation counter; a reader takes the
// generation before it reads the store and fills the cache only if the
// generation is unchanged, so a value read before a write can never be
// cached after that write's invalidation. A write to any Group forgets every
// user's groups and every rendered body (membership and group names show in
// users' "groups").
type readCache struct {
	mu      sync.Mutex
	gen     uint64
	ggen    uint64                      // bumped by every Group write: users' bodies show their groups
	entries map[typeAnd]*cacheEntry     // type and id
	keys    map[typeAnd]string          // type and key → id (checked against the entry on use)
	groups  map[string][]store.GroupRef // user id → groups
	max     int                         // entries kept at most
	bytes   int                         // rendered bytes held
	maxB    int                         // rendered bytes kept at most
}

// typeAnd names a resource by its type and its id or Key.
type typeAnd struct{ typ, name string }

// maxViews is how many renderings of one resource the cache keeps.
const maxViews = 8

type cacheEntry struct {
	id      string
	key     string
	version int64
	ggen    uint64         // c.ggen when a User's bodies were rendered
	bodies  []renderedView // at most maxViews, each view once
}

// renderedView is one rendering of a resource: view is the view key +
// "\x00" + base.
type renderedView struct {
	view string
	body []byte
}

// body returns the rendering for view.
func (e *cacheEntry) body(view string) ([]byte, bool) {
	for _, b := range e.bodies {
		if b.view == view {
			return b.body, true
		}
	}
	return nil, false
}

// valid reports whether e's bodies are current (c.mu held).
func (c *readCache) valid(typ string, e *cacheEntry) bool {
	return typ != "User" || e.ggen == c.ggen
}

func newReadCache(max, maxBytes int) *readCache {
	return &readCache{entries: map[typeAnd]*cacheEntry{}, keys: map[typeAnd]string{}, groups: map[string][]store.GroupRef{}, max: max, maxB: maxBytes}
}

// dropEntry forgets an entry and the bytes it held (c.mu held).
func (c *readCache) dropEntry(k typeAnd) {
	if e, ok := c.entries[k]; ok {
		for _, b := range e.bodies {
			c.bytes -= len(b.body)
		}
		delete(c.entries, k)
	}
}

func (c *readCache) snapshot() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// body returns the rendered resource and its version.
func (c *readCache) body(typ, id, view string) ([]byte, int64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[typeAnd{typ, id}]
	if !ok || !c.valid(typ, e) {
		return nil, 0, false
	}
	b, ok := e.body(view)
	return b, e.version, ok
}

// bodyByKey returns the rendered resource whose Key is key.
func (c *readCache) bodyByKey(typ, key, view string) (id string, body []byte, version int64, ok bool) {
	if c == nil || key == "" {
		return "", nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok = c.keys[typeAnd{typ, key}]
	if !ok {
		return "", nil, 0, false
	}
	e, ok := c.entries[typeAnd{typ, id}]
	if !ok || e.key != key || !c.valid(typ, e) {
		return "", nil, 0, false
	}
	body, ok = e.body(view)
	return id, body, e.version, ok
}

// putBody caches the rendering of r (read at generation gen) for view.
func (c *readCache) putBody(gen uint64, r *store.Resource, view string, body []byte) {
	if c == nil || r == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	k := typeAnd{r.Type, r.ID}
	e := c.entries[k]
	if c.bytes+len(body) > c.maxB || (e == nil && len(c.entries) >= c.max) {
		clear(c.entries)
		clear(c.keys)
		c.bytes = 0
		e = nil
	}
	if e == nil || e.version != r.Version || e.key != r.Key || !c.valid(r.Type, e) {
		c.dropEntry(k)
		e = &cacheEntry{id: r.ID, key: r.Key, version: r.Version, ggen: c.ggen}
		c.entries[k] = e
		if r.Key != "" {
			c.keys[typeAnd{r.Type, r.Key}] = r.ID
		}
	}
	for i := range e.bodies {
		if e.bodies[i].view == view {
			c.bytes += len(body) - len(e.bodies[i].body)
			e.bodies[i].body = body
			return
		}
	}
	if len(e.bodies) >= maxViews {
		return
	}
	e.bodies = append(e.bodies, renderedView{view, body})
	c.bytes += len(body)
}

func (c *readCache) getGroups(id string) ([]store.GroupRef, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.groups[id]
	return g, ok
}

func (c *readCache) putGroups(gen uint64, id string, g []store.GroupRef) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.groups) >= c.max {
		clear(c.groups)
	}
	c.groups[id] = g
}

// invalidate forgets a resource after a write; a write to a Group also
// makes every user's groups and rendered bodies stale. A user's own writes
// do not change its groups; its deletion forgets them.
func (c *readCache) invalidate(typ, id string) { c.forget(typ, id, false) }

// deleted forgets a resource after its deletion.
func (c *readCache) deleted(typ, id string) { c.forget(typ, id, true) }

func (c *readCache) forget(typ, id string, deleted bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.dropEntry(typeAnd{typ, id})
	switch typ {
	case "Group":
		c.ggen++
		if len(c.groups) > 0 {
			clear(c.groups)
		}
	case "User":
		if deleted {
			delete(c.groups, id)
		}
	}
}

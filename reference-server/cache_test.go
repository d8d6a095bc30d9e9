package server

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
)

// The read cache never serves a value a write has replaced.
func TestReadCacheStaysFresh(t *testing.T) {
	e := newEnv(t)
	if e.srv.cache == nil {
		t.Fatal("no read cache on the sqlite store")
	}
	lookup := func(name string) int {
		total, _ := listOf(t, e.must(200, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), nil))
		return total
	}
	id := e.createUser("fresh@example.test")["id"].(string)
	e.must(200, "GET", "/Users/"+id, nil)
	if lookup("fresh@example.test") != 1 {
		t.Fatal("lookup")
	}
	e.must(200, "PATCH", "/Users/"+id, patchBody(op("replace", "userName", "renamed@example.test")))
	if lookup("fresh@example.test") != 0 || lookup("renamed@example.test") != 1 {
		t.Error("lookup after rename")
	}
	if got := e.must(200, "GET", "/Users/"+id, nil).obj()["userName"]; got != "renamed@example.test" {
		t.Errorf("GET after PATCH: %v", got)
	}
	// Group membership and group renames show in the user's groups.
	gid := e.createGroup("Fresh", id)["id"].(string)
	gs := e.must(200, "GET", "/Users/"+id, nil).obj()["groups"].([]any)
	if len(gs) != 1 || gs[0].(map[string]any)["display"] != "Fresh" {
		t.Fatalf("groups %v", gs)
	}
	e.must(200, "PATCH", "/Groups/"+gid, patchBody(op("replace", "displayName", "Fresher")))
	gs = e.must(200, "GET", "/Users/"+id, nil).obj()["groups"].([]any)
	if gs[0].(map[string]any)["display"] != "Fresher" {
		t.Errorf("groups after group rename %v", gs)
	}
	e.must(204, "DELETE", "/Groups/"+gid, nil)
	if gs := e.must(200, "GET", "/Users/"+id, nil).obj()["groups"].([]any); len(gs) != 0 {
		t.Errorf("groups after group delete %v", gs)
	}
	e.must(204, "DELETE", "/Users/"+id, nil)
	wantError(t, e.do("GET", "/Users/"+id, nil), 404, "")
	if lookup("renamed@example.test") != 0 {
		t.Error("lookup after delete")
	}
	// Views are cached apart.
	id = e.createUser("views@example.test")["id"].(string)
	if o := e.must(200, "GET", "/Users/"+id+"?attributes=userName", nil).obj(); o["emails"] != nil {
		t.Errorf("view %v", o)
	}
	if o := e.must(200, "GET", "/Users/"+id, nil).obj(); o["emails"] == nil {
		t.Errorf("full view %v", o)
	}
}

func TestReadCacheBoundsAndGenerations(t *testing.T) {
	c := newReadCache(2, 100)
	r := func(id string, v int64) *store.Resource {
		return &store.Resource{Type: "User", ID: id, Key: "k" + id, Version: v}
	}
	g := c.snapshot()
	c.putBody(g, r("a", 1), "v", []byte("0123456789"))
	c.putBody(g, r("b", 1), "v", []byte("0123456789"))
	c.putBody(g, r("c", 1), "v", []byte("0123456789"))
	if len(c.entries) > 2 {
		t.Errorf("%d entries kept", len(c.entries))
	}
	c.putBody(g, r("d", 1), "v", make([]byte, 95))
	if c.bytes > 100 {
		t.Errorf("%d bytes kept", c.bytes)
	}
	if _, _, ok := c.body("User", "d", "v"); !ok {
		t.Error("d not cached")
	}
	// A fill that read before a write is refused after that write.
	g = c.snapshot()
	c.invalidate("User", "d")
	c.putBody(g, r("d", 1), "v", []byte("x"))
	if _, _, ok := c.body("User", "d", "v"); ok {
		t.Error("stale fill accepted")
	}
	// A group write makes users' bodies stale.
	g = c.snapshot()
	c.putBody(g, r("e", 1), "v", []byte("x"))
	c.invalidate("Group", "g")
	if _, _, ok := c.body("User", "e", "v"); ok {
		t.Error("user body survived a group write")
	}
	if _, _, _, ok := c.bodyByKey("User", "ke", "v"); ok {
		t.Error("user body by key survived a group write")
	}
	var nilCache *readCache
	nilCache.invalidate("User", "x")
	if _, _, ok := nilCache.body("User", "x", "v"); ok {
		t.Error("nil cache hit")
	}
}

// A resource keeps one rendering per view, at most maxViews of them, and
// the byte count follows what is kept.
func TestReadCacheViews(t *testing.T) {
	c := newReadCache(10, 1000)
	r := &store.Resource{Type: "User", ID: "a", Key: "ka", Version: 1}
	g := c.snapshot()
	c.putBody(g, r, "v", []byte("12345"))
	c.putBody(g, r, "v", []byte("123"))
	if b, _, _ := c.body("User", "a", "v"); string(b) != "123" || c.bytes != 3 {
		t.Errorf("after replacing a view: %q, %d bytes", b, c.bytes)
	}
	for i := range maxViews {
		c.putBody(g, r, "w"+strconv.Itoa(i), []byte("x"))
	}
	if c.bytes != 3+maxViews-1 {
		t.Errorf("%d bytes for %d views", c.bytes, maxViews)
	}
	if _, _, ok := c.body("User", "a", "w"+strconv.Itoa(maxViews-1)); ok {
		t.Errorf("view %d of a resource kept", maxViews+1)
	}
	if _, _, ok := c.body("User", "a", "w0"); !ok {
		t.Error("view w0 not kept")
	}
	c.invalidate("User", "a")
	if c.bytes != 0 {
		t.Errorf("%d bytes after invalidation", c.bytes)
	}
}

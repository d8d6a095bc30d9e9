package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// downStore is a memory store whose resource reads (reads) or token
// lookups (tokens) fail, once set, as a database that cannot be reached
// does (store.ErrUnavailable).
type downStore struct {
	*memory.Store
	reads, tokens atomic.Bool
}

func unreachable() error {
	return fmt.Errorf("store/test: %w: dial tcp 127.0.0.1:5432: connection refused", store.ErrUnavailable)
}

func (d *downStore) Get(ctx context.Context, typ, id string, members bool) (*store.Resource, error) {
	if d.reads.Load() {
		return nil, unreachable()
	}
	return d.Store.Get(ctx, typ, id, members)
}

func (d *downStore) List(ctx context.Context, q store.Query) ([]*store.Resource, int, error) {
	if d.reads.Load() {
		return nil, 0, unreachable()
	}
	return d.Store.List(ctx, q)
}

func (d *downStore) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	if d.tokens.Load() {
		return store.Token{}, unreachable()
	}
	return d.Store.TokenByHash(ctx, hash)
}

// TestStoreUnavailable: while the store cannot be reached, requests get a
// 503 SCIM error with an integer Retry-After (which IdPs honour and retry
// after), never a 500: for resource reads, and for the token check.
func TestStoreUnavailable(t *testing.T) {
	st := &downStore{Store: memory.New()}
	e := newEnvOn(t, st, func(_ *profile.Profile, cfg *Config) { cfg.TokenCacheTTL = -1 })
	id := e.createUser("down@example.test")["id"].(string)
	check := func(what string, flag *atomic.Bool, paths ...string) {
		t.Helper()
		flag.Store(true)
		defer flag.Store(false)
		for _, path := range paths {
			r := e.do("GET", path, nil)
			se := wantError(t, r, http.StatusServiceUnavailable, "")
			if r.Header.Get("Retry-After") != unavailableRetryAfter {
				t.Errorf("%s, GET %s: Retry-After %q, want %q", what, path, r.Header.Get("Retry-After"), unavailableRetryAfter)
			}
			if !strings.Contains(se.Detail, "unavailable") {
				t.Errorf("%s, GET %s: detail %q", what, path, se.Detail)
			}
		}
	}
	check("resources unreachable", &st.reads, "/Users/"+id, "/Users?filter="+url.QueryEscape(`userName eq "down@example.test"`), "/Users")
	check("tokens unreachable", &st.tokens, "/Users/"+id)
	if n := strings.Count(e.logs.String(), `"msg":"store unavailable"`); n != 4 {
		t.Errorf("%d error logs for the unavailable store, want 4:\n%s", n, e.logs.String())
	}
	e.must(200, "GET", "/Users/"+id, nil)
}

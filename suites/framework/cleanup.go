package framework

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2"

	"github.com/scimlab/scimlab/internal/leftover"
	"github.com/scimlab/scimlab/reports"
)

// Cleanup registers the deletion of a resource this run created at path
// ("/Users/<id>", or its absolute URL). It runs after the spec, even when
// the spec failed, and then checks that the resource is gone: a GET by id,
// and a lookup by its userName or displayName (a target whose DELETE only
// deactivates keeps listing it). A resource that cannot be deleted, or that
// still reads back, is listed as an orphan in the report, with why.
func Cleanup(path string) {
	t := Current()
	per := t.RequestTimeout + t.retryPolicy().Effective().MaxTotal
	ginkgo.DeferCleanup(func(ctx context.Context) {
		remove(ctx, NewClient(), path)
	}, ginkgo.NodeTimeout(4*per))
}

// remove deletes the resource at path and lists it as an orphan when it
// stays. Up to four quiet requests: a GET to learn its name when no answer
// of the run has shown it, the DELETE, a GET by id, a lookup by name.
func remove(ctx context.Context, c *Client, path string) {
	url := c.URL(path)
	kind, id, known := leftover.Of(strings.TrimPrefix(url, c.t.BaseURL))
	name := ""
	if known {
		name = names.get(kind, id)
		if name == "" {
			c.Do(ctx, Request{Method: http.MethodGet, Path: url, Quiet: true}) // observeName keeps it
			name = names.get(kind, id)
		}
	}
	del := c.Do(ctx, Request{Method: http.MethodDelete, Path: url, Quiet: true})
	switch {
	case del.Err != nil:
		addOrphan(url, "DELETE: "+del.Err.Error())
	case del.Status/100 != 2 && del.Status != http.StatusNotFound:
		addOrphan(url, fmt.Sprintf("DELETE answered %d%s", del.Status, errorSummary(del)))
	case known:
		verifyGone(ctx, c, url, kind, id, name, leftover.Deleted(del.Status), del.Status != http.StatusNotFound)
	}
}

// verifyGone checks that the resource of kind with id, named name, which
// was deleted as was says, is gone: a GET by id (when byID; a DELETE that
// answered 404 already said it), then a lookup by name. What still answers
// is an orphan, with the reason.
func verifyGone(ctx context.Context, c *Client, url string, kind leftover.Kind, id, name, was string, byID bool) {
	if byID {
		get := c.Do(ctx, Request{Method: http.MethodGet, Path: url, Quiet: true})
		switch {
		case get.Err != nil:
			cleanupChecks.unchecked(kind, get.Summary())
			return
		case get.Status == http.StatusOK:
			addOrphan(url, leftover.ReadBack(was, get.Body))
			cleanupChecks.kept()
			return
		}
	}
	if name == "" {
		return
	}
	if why := cleanupChecks.refused(kind); why != "" {
		cleanupChecks.unchecked(kind, why)
		return
	}
	lp, q := kind.Lookup(name)
	list := c.Do(ctx, Request{Method: http.MethodGet, Path: lp, RawQuery: q, Quiet: true})
	switch {
	case list.Err != nil:
		cleanupChecks.unchecked(kind, list.Summary())
		return
	case list.Status != http.StatusOK:
		cleanupChecks.refuse(kind, list.Summary())
		return
	}
	reason, err := kind.Listed(was, name, id, list.Body)
	switch {
	case err != nil:
		cleanupChecks.refuse(kind, fmt.Sprintf("GET %s?%s: %v", pathOf(c.URL(lp)), q, err))
	case reason != "":
		addOrphan(url, reason)
		cleanupChecks.kept()
	}
}

// CreationLog watches the requests a tool of a spec's own sends to the
// target (the bug pack's replayer) for the users and groups they create,
// so that the spec can check afterwards that the tool removed them.
type CreationLog struct {
	mu      sync.Mutex
	created []string
}

// Wrap returns rt, noting every user or group a POST through it created.
func (l *CreationLog) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil || req.Method != http.MethodPost || resp.StatusCode != http.StatusCreated {
			return resp, err
		}
		kind, ok := collection(req.URL.String())
		if !ok {
			return resp, err
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr != nil {
			return resp, err
		}
		if id, name := kind.Name(body); id != "" {
			names.set(kind, id, name)
			l.mu.Lock()
			l.created = append(l.created, "/"+kind.Endpoint+"/"+neturl.PathEscape(id))
			l.mu.Unlock()
		}
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// CheckGone checks that every user and group the log saw created is gone,
// after by (the tool that should have removed them) did its clean-up; the
// resources in skip (URLs already listed as orphans) are left out. What
// still reads back is an orphan.
func (l *CreationLog) CheckGone(ctx context.Context, by string, skip map[string]bool) {
	l.mu.Lock()
	paths := append([]string(nil), l.created...)
	l.mu.Unlock()
	c := NewClient()
	for _, p := range paths {
		url := c.URL(p)
		kind, id, _ := leftover.Of(p)
		if skip[url] {
			continue
		}
		verifyGone(ctx, c, url, kind, id, names.get(kind, id), by, true)
	}
}

// cleanupStats is what the clean-up could not check, and how many deleted
// resources it found still there, for the report's notes.
type cleanupStats struct {
	mu sync.Mutex
	// refusals holds, per kind, why a lookup by name could not be used (the
	// target refused the filter); later deletions of that kind skip it.
	refusals map[string]string
	// skipped counts, per noun, the deletions that could not be checked,
	// and says why the first could not.
	skipped map[string]*uncheckedCount
	stayed  int
}

type uncheckedCount struct {
	n     int
	first string
}

var cleanupChecks cleanupStats

func (s *cleanupStats) refused(k leftover.Kind) string {
	if Current().Caps.DeclaredUnsupported("filter") {
		return "the target declares no filter support, so a deleted " + k.Noun + " cannot be looked up by " + k.Attr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refusals[k.Endpoint]
}

func (s *cleanupStats) refuse(k leftover.Kind, why string) {
	s.mu.Lock()
	if s.refusals == nil {
		s.refusals = map[string]string{}
	}
	if _, seen := s.refusals[k.Endpoint]; !seen {
		s.refusals[k.Endpoint] = "the lookup by " + k.Attr + " did not work: " + why
	}
	s.mu.Unlock()
	s.unchecked(k, s.refused(k))
}

func (s *cleanupStats) unchecked(k leftover.Kind, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.skipped == nil {
		s.skipped = map[string]*uncheckedCount{}
	}
	u := s.skipped[k.Noun]
	if u == nil {
		u = &uncheckedCount{first: why}
		s.skipped[k.Noun] = u
	}
	u.n++
}

func (s *cleanupStats) kept() {
	s.mu.Lock()
	s.stayed++
	s.mu.Unlock()
}

// notes says what the clean-up found kept and what it could not check.
func (s *cleanupStats) notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if s.stayed > 0 {
		out = append(out, fmt.Sprintf("clean-up: %s still read back after a DELETE the target accepted (still readable by id, or still listed by name): this target keeps what it deletes (deactivates it), so they stay on it and are listed as orphans", plural(s.stayed, "1 resource", fmt.Sprintf("%d resources", s.stayed))))
	}
	nouns := make([]string, 0, len(s.skipped))
	for k := range s.skipped {
		nouns = append(nouns, k)
	}
	sort.Strings(nouns)
	for _, noun := range nouns {
		u := s.skipped[noun]
		out = append(out, fmt.Sprintf("clean-up: could not check that %d deleted %s %s gone; the first: %s", u.n, plural(u.n, noun, noun+"s"), plural(u.n, "is", "are"), u.first))
	}
	return out
}

// names remembers, for each user and group an answer of the run showed,
// its userName or displayName, so that the clean-up can look it up by name
// after deleting it.
var names nameBook

type nameBook struct {
	mu sync.Mutex
	m  map[string]string
}

func (b *nameBook) get(k leftover.Kind, id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[k.Endpoint+"/"+id]
}

func (b *nameBook) set(k leftover.Kind, id, name string) {
	if id == "" || name == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = map[string]string{}
	}
	b.m[k.Endpoint+"/"+id] = name
}

// observeName records the name of the resource a successful answer about
// one user or group carries (a create, a read, a replace).
func observeName(r *Response) {
	if r.Err != nil || r.Status/100 != 2 || len(r.Body) == 0 {
		return
	}
	if k, ok := collection(r.URL); ok {
		id, name := k.Name(r.Body)
		names.set(k, id, name)
	}
}

// collection returns the kind of a URL below the run's base URL that names
// the Users or Groups collection or one resource in it.
func collection(u string) (leftover.Kind, bool) {
	if target == nil {
		return leftover.Kind{}, false
	}
	rel, _, _ := strings.Cut(strings.TrimPrefix(u, target.BaseURL), "?")
	rel = strings.Trim(rel, "/")
	for _, k := range []leftover.Kind{leftover.Users, leftover.Groups} {
		if rel == k.Endpoint || strings.HasPrefix(rel, k.Endpoint+"/") {
			return k, true
		}
	}
	return leftover.Kind{}, false
}

var (
	orphanMu sync.Mutex
	orphans  []reports.Orphan
)

func addOrphan(url, why string) {
	orphanMu.Lock()
	defer orphanMu.Unlock()
	orphans = append(orphans, reports.Orphan{URL: url, Reason: why})
}

// AddOrphan lists a resource the run created and could not remove (path
// relative to the base URL, or absolute) in the report's orphans, with why.
func AddOrphan(path, why string) {
	if !strings.Contains(path, "://") {
		path = Current().BaseURL + "/" + strings.TrimLeft(path, "/")
	}
	addOrphan(path, why)
}

// Orphans returns the resources the run created and could not remove.
func Orphans() []reports.Orphan {
	orphanMu.Lock()
	defer orphanMu.Unlock()
	return append([]reports.Orphan(nil), orphans...)
}

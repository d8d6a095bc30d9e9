package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/scimlab/scimlab/internal/leftover"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
)

// Cleanup registers the deletion of a resource this run created at path
// ("/Users/<id>", or its absolute URL). It runs after the spec, even when
// the spec failed or the run was interrupted (only a second interrupt skips
// it), and then checks that the resource is gone: a GET by id, and a lookup
// by its userName or displayName (a target whose DELETE only deactivates
// keeps listing it). A resource that cannot be deleted, or that still reads
// back, is listed as an orphan in the report, with why.
func Cleanup(path string) {
	t := Current()
	limit := cleanupLimit(t)
	registered.add(path)
	ginkgo.DeferCleanup(func(ctx context.Context) {
		ctx, cancel := cleanupContext(ctx, limit)
		defer cancel()
		remove(ctx, NewClient(), path)
	}, ginkgo.NodeTimeout(limit), ginkgo.GracePeriod(limit))
}

// cleanupLimit bounds the clean-up of one resource: up to four requests,
// each of which may wait for a throttled target.
func cleanupLimit(t *Target) time.Duration {
	return 4 * (t.RequestTimeout + t.retryPolicy().Effective().MaxTotal)
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
	// adopted holds the resources created with an answer other than 201:
	// the tool's own clean-up may not know them (the bug pack's removes
	// what answered 201), so CheckGone deletes them.
	adopted map[string]bool
}

// Wrap returns rt, noting every user or group a POST through it created.
func (l *CreationLog) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil || req.Method != http.MethodPost {
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
		// Whatever the status: a target may store what it answers 200 to.
		if p := createdPath(kind, &Response{Body: body, Header: resp.Header}); p != "" {
			if id, name := kind.Name(body); id != "" {
				names.set(kind, id, name)
			}
			l.mu.Lock()
			l.created = append(l.created, p)
			if resp.StatusCode != http.StatusCreated {
				if l.adopted == nil {
					l.adopted = map[string]bool{}
				}
				l.adopted[p] = true
			}
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
// still reads back is an orphan. A resource whose create answered other
// than 201 (a 200 with the resource) is deleted here, as Cleanup would:
// the tool's clean-up may have taken the answer for no create.
func (l *CreationLog) CheckGone(ctx context.Context, by string, skip map[string]bool) {
	l.mu.Lock()
	paths := append([]string(nil), l.created...)
	adopted := l.adopted
	l.mu.Unlock()
	c := NewClient()
	for _, p := range paths {
		url := c.URL(p)
		kind, id, _ := leftover.Of(p)
		switch {
		case skip[url]:
		case adopted[p]:
			registered.add(p)
			remove(ctx, c, p)
		default:
			verifyGone(ctx, c, url, kind, id, names.get(kind, id), by, true)
		}
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

// relPath returns the path of a URL below the run's base URL, without
// slashes around it or a query: "Users/2819c223".
func relPath(u string) string {
	rel, _, _ := strings.Cut(strings.TrimPrefix(u, target.BaseURL), "?")
	return strings.Trim(rel, "/")
}

// collection returns the kind of a URL below the run's base URL that names
// the Users or Groups collection or one resource in it.
func collection(u string) (leftover.Kind, bool) {
	if target == nil {
		return leftover.Kind{}, false
	}
	rel := relPath(u)
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

// registered holds the resources whose deletion Cleanup registered, so that
// the sweep of unanswered creates leaves them to it.
var registered resourceSet

// resourceSet is a set of users and groups, each keyed by the last two
// segments of its URL ("Users/<id>", unescaped): a location the target
// sent back and the URL the run builds from the id name it alike.
type resourceSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func resourceKey(url string) string {
	p, _, _ := strings.Cut(url, "?")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) < 2 {
		return p
	}
	id, err := neturl.PathUnescape(parts[len(parts)-1])
	if err != nil {
		id = parts[len(parts)-1]
	}
	return parts[len(parts)-2] + "/" + id
}

func (s *resourceSet) add(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	s.m[resourceKey(url)] = true
}

func (s *resourceSet) has(url string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[resourceKey(url)]
}

// unanswered holds the users and groups this run asked the target to create
// with a POST that got no answer: the connection failed, the request timed
// out, or an interrupt stopped the spec while it waited. The target may
// have created them all the same, and the run never learnt their ids, so no
// Cleanup was registered for them; sweepUnanswered finds them by name.
var unanswered createLog

type createLog struct {
	mu   sync.Mutex
	list []unansweredCreate
	seen map[string]bool
}

// unansweredCreate is one user or group a POST without an answer was
// creating, and why the answer did not come.
type unansweredCreate struct {
	kind leftover.Kind
	name string
	why  string
}

func (l *createLog) add(k leftover.Kind, name, why string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := k.Endpoint + "/" + name
	if l.seen[key] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[key] = true
	l.list = append(l.list, unansweredCreate{kind: k, name: name, why: why})
}

func (l *createLog) take() []unansweredCreate {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.list
	l.list = nil
	return out
}

// noteUnanswered notes what a request that got no answer (err) was
// creating: the user or group of a POST to /Users or /Groups, or those of
// the POST operations of a POST to /Bulk (RFC 7644 §3.7), each by the name
// the request gave it, when that name is this run's (it starts with the
// run's prefix): the run touches only what it created.
func noteUnanswered(method, u string, body []byte, err error) {
	if err == nil || method != http.MethodPost || target == nil || len(body) == 0 {
		return
	}
	add := func(endpoint string, doc []byte) {
		for _, k := range []leftover.Kind{leftover.Users, leftover.Groups} {
			if endpoint != k.Endpoint {
				continue
			}
			if _, name := k.Name(doc); strings.HasPrefix(name, target.Prefix()) {
				unanswered.add(k, name, firstLine(err.Error()))
			}
		}
	}
	switch rel := relPath(u); rel {
	case leftover.Users.Endpoint, leftover.Groups.Endpoint:
		add(rel, body)
	case "Bulk":
		var req scim.BulkRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		for _, op := range req.Operations {
			if strings.EqualFold(op.Method, http.MethodPost) {
				add(strings.Trim(op.Path, "/"), op.Data)
			}
		}
	}
}

// adopted holds every user and group a create of this run answered with
// an id (in the body or the Location header), whatever the status: a target
// that stores the resource but answers 200 (or 400) has created it all the
// same. A check that expected a refusal, or a create whose status its
// assertion refused, registers no Cleanup for it; sweepAdopted removes
// after the last check those that no Cleanup took.
var adopted createdSet

type createdSet struct {
	mu   sync.Mutex
	list []string
	seen map[string]bool
}

func (s *createdSet) add(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := resourceKey(path)
	if s.seen[key] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[key] = true
	s.list = append(s.list, path)
}

func (s *createdSet) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.list
	s.list = nil
	return out
}

// createdPath returns the path of the user or group of kind k that an
// answer to a create names: "/Users/<id>" from the body's id, or the
// Location header when the body has none; "" when it names none.
func createdPath(k leftover.Kind, r *Response) string {
	if id, _ := k.Name(r.Body); id != "" {
		return "/" + k.Endpoint + "/" + neturl.PathEscape(id)
	}
	// The Location's last two segments, read as the run builds a URL from
	// an id (resourceKey): the DELETE goes to the run's own base URL.
	if loc := r.Header.Get("Location"); loc != "" {
		if lk, id, ok := leftover.Of(resourceKey(loc)); ok && lk == k {
			return "/" + k.Endpoint + "/" + neturl.PathEscape(id)
		}
	}
	return ""
}

// noteCreated notes what an answered create made: for a POST to /Users or
// /Groups, the resource its answer names (adopted), or, when the answer
// names none and is not a refusal (a 2xx without an id, a 5xx, a body that
// is not JSON), the name the request gave it (unanswered: looked up by name
// after the last check); for a POST to /Bulk, the location of each POST
// operation of the BulkResponse, or every POST operation's name when the
// answer is no BulkResponse and no refusal. A 4xx is the target saying it
// created nothing (RFC 7644 §3.12), so it is taken at its word.
func noteCreated(method, u string, body []byte, r *Response) {
	if r.Err != nil || method != http.MethodPost || target == nil || len(body) == 0 {
		return
	}
	refused := r.Status >= 400 && r.Status < 500
	why := fmt.Sprintf("the create answered %d with no id", r.Status)
	switch rel := relPath(u); rel {
	case leftover.Users.Endpoint, leftover.Groups.Endpoint:
		k := leftover.Users
		if rel == leftover.Groups.Endpoint {
			k = leftover.Groups
		}
		if p := createdPath(k, r); p != "" {
			adopted.add(p)
			return
		}
		if _, name := k.Name(body); !refused && strings.HasPrefix(name, target.Prefix()) {
			unanswered.add(k, name, why)
		}
	case "Bulk":
		// Loose on purpose: a status written as a number still names the
		// locations.
		var resp struct {
			Operations []struct {
				Method   string `json:"method"`
				Location string `json:"location"`
			} `json:"Operations"`
		}
		if err := json.Unmarshal(r.Body, &resp); err == nil && len(resp.Operations) > 0 {
			for _, op := range resp.Operations {
				if !strings.EqualFold(op.Method, http.MethodPost) || op.Location == "" {
					continue
				}
				if k, id, ok := leftover.Of(resourceKey(op.Location)); ok {
					adopted.add("/" + k.Endpoint + "/" + neturl.PathEscape(id))
				}
			}
			return
		}
		if !refused {
			noteUnanswered(method, u, body, fmt.Errorf("the bulk request answered %d with no BulkResponse", r.Status))
		}
	}
}

// sweepAdopted removes, as Cleanup would (a DELETE, then the check that it
// is gone), each user and group a create answered with an id and that no
// Cleanup took: a create whose answer the check refused (a 200 for a 201,
// a 201 for an expected 409).
func sweepAdopted(ctx context.Context, c *Client) {
	for _, p := range adopted.take() {
		if registered.has(p) {
			continue
		}
		registered.add(p)
		remove(ctx, c, p)
	}
}

// sweepUnanswered looks up each user and group whose create got no answer
// (noteUnanswered) by its name, and removes what the target holds under that
// name as Cleanup would (a DELETE, then the check that it is gone), unless
// a Cleanup already has it. When the lookup cannot tell, the resource may
// be on the target: it is listed as an orphan at the lookup's URL, with why.
func sweepUnanswered(ctx context.Context, c *Client) {
	for _, u := range unanswered.take() {
		lp, q := u.kind.Lookup(u.name)
		where := c.URL(lp) + "?" + q
		lost := fmt.Sprintf("the create of the %s %s got no answer (%s), so the target may hold it", u.kind.Noun, strconv.Quote(u.name), u.why)
		if why := cleanupChecks.refused(u.kind); why != "" {
			addOrphan(where, lost+"; "+why)
			continue
		}
		list := c.Do(ctx, Request{Method: http.MethodGet, Path: lp, RawQuery: q, Quiet: true})
		if list.Err != nil || list.Status != http.StatusOK {
			addOrphan(where, lost+"; the lookup by "+u.kind.Attr+" failed: "+list.Summary())
			continue
		}
		ids, err := u.kind.Named(u.name, list.Body)
		if err != nil {
			addOrphan(where, fmt.Sprintf("%s; the lookup by %s failed: %v", lost, u.kind.Attr, err))
			continue
		}
		for _, id := range ids {
			path := "/" + u.kind.Endpoint + "/" + neturl.PathEscape(id)
			if registered.has(path) {
				continue
			}
			names.set(u.kind, id, u.name)
			remove(ctx, c, path)
		}
	}
}

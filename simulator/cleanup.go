package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/internal/leftover"
	"github.com/scimlab/scimlab/internal/retry"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
)

// opCleanup is the operation name of the requests that remove what a run
// created. They are the simulator's own, not the IdP's traffic: the run's
// request count and latency figures leave them out.
const opCleanup = "cleanup"

// cleanupBudget bounds the clean-up, which also runs after Ctrl-C. It
// leaves room for a throttled target's Retry-After.
const cleanupBudget = 2 * time.Minute

// ledger lists the users and groups a run created and has not deleted
// since, in the order they were created, with the name each last showed;
// those the run's own traffic deleted, which the clean-up checks are gone
// too; and the creates whose answer named no resource, which the clean-up
// looks for by name. A create counts as the run's whenever its answer
// carries an id, whatever its status or other faults (a 200 for a 201, a
// malformed attribute): the target holds the resource all the same, and
// the clean-up must remove it, or the next run meets it.
type ledger struct {
	mu      sync.Mutex
	order   []resourceRef
	live    map[resourceRef]bool
	names   map[resourceRef]string
	deleted []deletion
	// unsure lists the creates that got no usable answer (no response, or
	// an answer without an id): the target may hold the resource.
	unsure     []unsureCreate
	unsureSeen map[unsureCreate]bool
	// foreign holds the resources the IdP found on the target and linked:
	// never the run's, whatever their name.
	foreign map[resourceRef]bool
	// phase is the scenario step running (setPhase); conflicts counts the
	// 409s answered to a create or rename in a name the run generated from
	// its seed (see conflict), and firstConflict is the first of them.
	phase         string
	conflicts     int
	firstConflict seedConflict
}

// seedConflict is a 409 answered to a request that gave a user or group a
// name the run generated from its seed.
type seedConflict struct {
	req  string
	kind leftover.Kind
	name string
}

// resourceRef names one resource on the target: its kind ("Users" or
// "Groups") and its id.
type resourceRef struct{ kind, id string }

// unsureCreate is a create whose answer named no resource: its kind
// ("Users" or "Groups") and the name (userName or displayName) it sent.
type unsureCreate struct{ kind, name string }

// deletion is a resource the run created and then deleted, and the status
// the DELETE answered.
type deletion struct {
	ref    resourceRef
	status int
}

func newLedger() *ledger {
	return &ledger{live: map[resourceRef]bool{}, names: map[resourceRef]string{}, unsureSeen: map[unsureCreate]bool{}, foreign: map[resourceRef]bool{}}
}

// kindOf returns the kind of a collection path ("Users", "Groups").
func kindOf(endpoint string) leftover.Kind {
	kind, _, _ := leftover.Of(endpoint + "/x")
	return kind
}

// nameOf returns the id and the name (userName or displayName) of a
// resource document, or "" for what it lacks. Unlike leftover's, it reads
// a document whose other attributes have the wrong type (active as the
// string "True"): such a create still made the resource.
func nameOf(kind leftover.Kind, body []byte) (id, name string) {
	m, err := decode(body)
	if err != nil {
		return "", ""
	}
	id, _ = lookupKey(m, "id").(string)
	name, _ = lookupKey(m, kind.Attr).(string)
	return id, name
}

// plainView rewrites a resource or a ListResponse to the attributes the
// leftover package judges (id, userName, displayName, totalResults, and
// active when it is a boolean), so that a wrong type elsewhere (active as
// the string "True") does not make it unreadable there. A body that is not
// a JSON object is returned as it came.
func plainView(body []byte) []byte {
	m, err := decode(body)
	if err != nil {
		return body
	}
	plain := func(o map[string]any) map[string]any {
		out := map[string]any{}
		for _, k := range []string{"id", "userName", "displayName"} {
			if v, ok := lookupKey(o, k).(string); ok {
				out[k] = v
			}
		}
		if v, ok := lookupKey(o, "active").(bool); ok {
			out["active"] = v
		}
		return out
	}
	out := plain(m)
	if n, ok := lookupKey(m, "totalResults").(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			out["totalResults"] = i
		}
	}
	if list, ok := lookupKey(m, "Resources").([]any); ok {
		rs := make([]any, 0, len(list))
		for _, it := range list {
			if o, ok := it.(map[string]any); ok {
				rs = append(rs, plain(o))
			}
		}
		out["Resources"] = rs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return body
	}
	return b
}

// setPhase records the scenario step that runs from now on.
func (l *ledger) setPhase(step string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = step
}

// conflict records a 409 answered to req when it gave a user or group a
// name the run generated from its seed: a create of the initial sync (or
// the test connection's), or a rename of update-users or group-rename.
// There a 409 says that the name is taken, and on a target the run did
// not fill itself, most likely by a user or group of the same seed that
// an earlier run left (--keep, or a run killed before its clean-up). The
// 409s other phases meet on purpose (a case twin in edge-cases) or as the
// target's dead end (reprovision) are not counted.
func (l *ledger) conflict(path string, req idp.Request) {
	var kind leftover.Kind
	name := ""
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case req.Method == http.MethodPost && (path == "Users" || path == "Groups") && (l.phase == "initial-sync" || l.phase == "test-connection"):
		kind = kindOf(path)
		_, name = nameOf(kind, req.Body)
	case (req.Method == http.MethodPut || req.Method == http.MethodPatch) && (l.phase == "update-users" || l.phase == "group-rename"):
		k, _, ok := leftover.Of(path)
		if !ok {
			return
		}
		kind = k
		if req.Method == http.MethodPut {
			_, name = nameOf(kind, req.Body)
		} else {
			name = patchedName(kind, req.Body)
		}
	}
	if name == "" {
		return
	}
	if l.conflicts == 0 {
		l.firstConflict = seedConflict{req: req.String(), kind: kind, name: name}
	}
	l.conflicts++
}

// seedConflicts returns the count of 409s conflict recorded and the first.
func (l *ledger) seedConflicts() (int, seedConflict) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conflicts, l.firstConflict
}

// observe records what an exchange did to the resources the run owns.
func (l *ledger) observe(req idp.Request, res *response) {
	path := strings.Trim(req.Path, "/")
	if res.err == nil && res.status == http.StatusConflict {
		l.conflict(path, req)
	}
	if req.Method == http.MethodPost && (path == "Users" || path == "Groups") {
		l.created(path, req, res)
		return
	}
	if res.err != nil || res.status/100 != 2 && res.status != http.StatusNotFound {
		return
	}
	switch {
	case req.Method == http.MethodDelete:
		kind, id, ok := leftover.Of(path)
		if !ok {
			return
		}
		ref := resourceRef{kind: kind.Endpoint, id: id}
		l.mu.Lock()
		if l.live[ref] {
			delete(l.live, ref)
			l.deleted = append(l.deleted, deletion{ref: ref, status: res.status})
		}
		l.mu.Unlock()
	case res.status/100 == 2:
		// A read, a replace or a PATCH of one resource: keep its name as
		// the target now shows it (a rename), or as the PATCH set it.
		kind, id, ok := leftover.Of(path)
		if !ok {
			return
		}
		ref := resourceRef{kind: kind.Endpoint, id: id}
		rid, name := nameOf(kind, res.body)
		if rid != id {
			name = ""
		}
		if name == "" && req.Method == http.MethodPatch {
			name = patchedName(kind, req.Body)
		}
		if name == "" {
			return
		}
		l.mu.Lock()
		if _, owned := l.names[ref]; owned {
			l.names[ref] = name
		}
		l.mu.Unlock()
	}
}

// created records the outcome of a POST to the collection endpoint (Users
// or Groups). An answer with an id is the run's resource, whatever its
// status or other faults, except a 409: its id, if any, names the resource
// that was there before (RFC 7644 §3.3), which the run must leave alone.
// A create that got no response, an answer without a readable id with a
// 2xx, or a 5xx (the target may have stored it before failing) may have
// made a resource the run cannot name by id: the clean-up looks it up by
// the name the create sent, as the IdP itself looks a user up before it
// creates one (idp-traffic.md §1.1 row 2, §1.2 row 3).
func (l *ledger) created(endpoint string, req idp.Request, res *response) {
	kind := kindOf(endpoint)
	if res.err == nil && res.status == http.StatusConflict {
		return
	}
	if res.err == nil {
		if id, name := nameOf(kind, res.body); id != "" {
			ref := resourceRef{kind: endpoint, id: id}
			if name == "" {
				_, name = nameOf(kind, req.Body)
			}
			l.mu.Lock()
			if !l.live[ref] {
				l.live[ref] = true
				l.order = append(l.order, ref)
			}
			l.names[ref] = name
			l.mu.Unlock()
			return
		}
		if s := res.status / 100; s != 2 && s != 5 {
			return
		}
	}
	_, name := nameOf(kind, req.Body)
	if name == "" {
		return
	}
	u := unsureCreate{kind: endpoint, name: name}
	l.mu.Lock()
	if !l.unsureSeen[u] {
		l.unsureSeen[u] = true
		l.unsure = append(l.unsure, u)
	}
	l.mu.Unlock()
}

// adopt records ref, named name, as created by the run: a resource found
// by name after a create whose answer did not name it.
func (l *ledger) adopt(ref resourceRef, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.foreign[ref] || l.known(ref) {
		return
	}
	l.live[ref] = true
	l.order = append(l.order, ref)
	l.names[ref] = name
}

// link records that the IdP found ref on the target and linked it: it was
// there before the run, and no clean-up sweep removes it.
func (l *ledger) link(ref resourceRef) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.known(ref) {
		l.foreign[ref] = true
	}
}

// known reports whether the run created ref (and still holds it or
// deleted it). l.mu is held.
func (l *ledger) known(ref resourceRef) bool {
	if _, ok := l.names[ref]; ok {
		return true
	}
	return l.live[ref]
}

// isKnown reports whether the run created ref.
func (l *ledger) isKnown(ref resourceRef) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.known(ref)
}

// isForeign reports whether ref is a resource the IdP found and linked.
func (l *ledger) isForeign(ref resourceRef) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.foreign[ref]
}

// unsureCreates returns the creates whose answer named no resource.
func (l *ledger) unsureCreates() []unsureCreate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]unsureCreate(nil), l.unsure...)
}

// patchedName returns the name a PatchOp body sets for kind (a replace or
// add of userName or displayName, with a path or in a path-less value), or
// "".
func patchedName(kind leftover.Kind, body []byte) string {
	var p struct {
		Operations []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		} `json:"Operations"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	name := ""
	for _, op := range p.Operations {
		if o := strings.ToLower(op.Op); o != "replace" && o != "add" {
			continue
		}
		var v any
		if json.Unmarshal(op.Value, &v) != nil {
			continue
		}
		if op.Path != "" {
			if s, ok := v.(string); ok && strings.EqualFold(op.Path, kind.Attr) {
				name = s
			}
			continue
		}
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				if s, ok := e.(string); ok && strings.EqualFold(k, kind.Attr) {
					name = s
				}
			}
		}
	}
	return name
}

// name returns the name ref last showed.
func (l *ledger) name(ref resourceRef) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.names[ref]
}

// deletions returns the resources the run's own traffic deleted.
func (l *ledger) deletions() []deletion {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]deletion(nil), l.deleted...)
}

// remaining returns the resources still owned: groups first (deleting a
// group first spares the target the membership updates of deleting its
// members), each kind in creation order.
func (l *ledger) remaining() []resourceRef {
	l.mu.Lock()
	defer l.mu.Unlock()
	var groups, users []resourceRef
	for _, ref := range l.order {
		switch {
		case !l.live[ref]:
		case ref.kind == "Groups":
			groups = append(groups, ref)
		default:
			users = append(users, ref)
		}
	}
	return append(groups, users...)
}

// cleanup deletes every user and group the run created and still owns, so
// that the target ends as it began and the next run with the same seed does
// not collide with this one's renamed users and groups; what it cannot
// delete is listed as an orphan. A create whose answer named no resource
// (no response, no readable id) is looked up by the name it sent, and what
// the lookup finds is deleted too. Then it checks that each is gone, and so
// is every resource the IdP's own traffic deleted: a GET by id and a lookup
// by userName or displayName; what a target keeps after its DELETE (it only
// deactivates) is an orphan too, with the reason, and the note says that a
// later run with the same seed meets it. It runs after an interruption too,
// within cleanupBudget, but not when the target proved unreachable. Its
// requests retry a throttled answer as the suites do (retry.Default), not
// as the IdP does.
func (r *runner) cleanup(ctx context.Context, base string, unreachable bool) (note string, orphans []reports.Orphan) {
	refs := r.c.owned.remaining()
	earlier := r.c.owned.deletions()
	unsure := r.c.owned.unsureCreates()
	if len(refs) == 0 && len(earlier) == 0 && len(unsure) == 0 {
		return "", nil
	}
	orphan := func(ref resourceRef, why string) {
		orphans = append(orphans, reports.Orphan{URL: reports.RedactURL(base + "/" + ref.kind + "/" + ref.id), Reason: why})
	}
	maybe := func(u unsureCreate, why string) {
		path, query := kindOf(u.kind).Lookup(u.name)
		orphans = append(orphans, reports.Orphan{URL: reports.RedactURL(base + path + "?" + query),
			Reason: fmt.Sprintf("may be on the target: its create got no usable answer, and %s", why)})
	}
	if unreachable {
		for _, ref := range refs {
			orphan(ref, "the target became unreachable")
		}
		for _, u := range unsure {
			maybe(u, "the target became unreachable")
		}
		return "", orphans
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupBudget)
	defer cancel()
	out := make([]sweep, len(refs)+len(earlier))
	found := make([]lookupSweep, len(unsure))
	r.workParts(ctx, "clean-up", cleanupParts(len(refs), len(earlier), len(unsure)), len(out)+len(unsure), r.conc, func(k int) {
		if k >= len(out) {
			found[k-len(out)] = r.sweepByName(ctx, unsure[k-len(out)])
			return
		}
		if k < len(refs) {
			out[k] = r.remove(ctx, refs[k])
			return
		}
		// A user the IdP deleted may still read back: the target only
		// deactivated it, or a later step (re-provisioning) brought it back.
		// Then the clean-up deletes it too.
		d := earlier[k-len(refs)]
		res := r.cleanupSend(ctx, idp.Request{Method: http.MethodGet, Path: "/" + d.ref.kind + "/" + url.PathEscape(d.ref.id)})
		switch {
		case res.err == nil && res.status == http.StatusOK:
			out[k] = r.remove(ctx, d.ref)
		case res.err != nil:
			out[k] = sweep{ref: d.ref, deleted: true, unchecked: true}
		default:
			out[k] = sweep{ref: d.ref, deleted: true}
			out[k].kept, out[k].unchecked = r.verifyGone(ctx, d.ref, fmt.Sprintf("the IdP's DELETE answered %d", d.status), false)
		}
	})
	deleted := map[string]int{}
	kept := map[string]int{}
	held := map[string]int{}
	for _, ref := range refs {
		held[ref.kind]++
	}
	// The resources the lookups found are held too: they join out, as
	// resources to delete.
	owned := len(refs)
	var lookupFailed []unsureCreate
	var lookupWhy []string
	swept := 0
	for k, f := range found {
		if f.why != "" {
			lookupFailed = append(lookupFailed, unsure[k])
			lookupWhy = append(lookupWhy, f.why)
			continue
		}
		for _, sw := range f.removed {
			held[sw.ref.kind]++
			swept++
		}
	}
	all := append([]sweep(nil), out[:len(refs)]...)
	for _, f := range found {
		all = append(all, f.removed...)
	}
	owned += swept
	all = append(all, out[len(refs):]...)
	// firstLeft says why the first orphan is left, briefly: the progress
	// line names no transport error, which the run's last line names.
	var keptReason, failedReason, firstLeft string
	unchecked, failed := 0, 0
	left := func(why string) {
		if firstLeft == "" {
			firstLeft = why
		}
	}
	for k, sw := range all {
		ref := sw.ref
		switch {
		case sw.why != "":
			orphan(ref, sw.why)
			failed++
			if failedReason == "" {
				failedReason = sw.why
			}
			if sw.lost {
				left("the DELETE got no response")
			}
			left(sw.why)
		case !sw.deleted && ctx.Err() != nil && r.c.owned.isLive(ref):
			orphan(ref, "the clean-up ran out of time")
			failed++
			if failedReason == "" {
				failedReason = "the clean-up ran out of time"
			}
			left("the clean-up ran out of time")
		case sw.kept != "":
			orphan(ref, sw.kept)
			left(sw.kept)
			kept[ref.kind]++
			if keptReason == "" {
				keptReason = sw.kept
			}
		case k < owned && sw.deleted:
			deleted[ref.kind]++
		}
		if sw.unchecked {
			unchecked++
		}
	}
	for k, u := range lookupFailed {
		maybe(u, lookupWhy[k])
		failed++
		if failedReason == "" {
			failedReason = "a create that got no usable answer could not be looked up: " + lookupWhy[k]
		}
		left("a lookup by name got no usable answer")
	}
	outcome := fmt.Sprintf("%d of %d deleted", deleted["Users"]+deleted["Groups"], owned)
	if len(earlier) > 0 || len(unsure) > 0 {
		// The units of "N to do" were not all deletions: count each kind
		// against its own number, as the line that began the phase did.
		parts := []string{outcome}
		if len(earlier) > 0 {
			parts = append(parts, plural(len(earlier), "resource the IdP already deleted checked", "resources the IdP already deleted checked"))
		}
		if len(unsure) > 0 {
			parts = append(parts, fmt.Sprintf("%s looked up by name (%d found, to delete)", plural(len(unsure), "create without a usable answer", "creates without a usable answer"), swept))
		}
		outcome = strings.Join(parts, ", ")
	}
	if len(orphans) > 0 {
		outcome += fmt.Sprintf("; %d left on the target, listed as orphans (the first: %s)", len(orphans), firstLeft)
	}
	r.prog.finish(outcome)
	note = fmt.Sprintf("clean-up: deleted the %s and %s this run created and still held (--keep leaves them on the target)", plural(deleted["Users"], "user", "users"), plural(deleted["Groups"], "group", "groups"))
	if failed > 0 {
		note = fmt.Sprintf("clean-up: deleted %d of the %s and %d of the %s this run created and still held; %s (the first: %s)",
			deleted["Users"], plural(held["Users"], "user", "users"), deleted["Groups"], plural(held["Groups"], "group", "groups"),
			plural(failed, "could not be deleted and is listed as an orphan", "could not be deleted and are listed as orphans"), failedReason)
	}
	if len(unsure) > 0 {
		note += fmt.Sprintf("; %s no usable answer (no response, or no id), so the clean-up looked each up by userName or displayName and found %s to delete", plural(len(unsure), "create got", "creates got"), plural(swept, "resource", "resources"))
	}
	if n := kept["Users"] + kept["Groups"]; n > 0 {
		are := "are"
		if n == 1 {
			are = "is"
		}
		note += fmt.Sprintf("; but %s and %s it created %s still on the target after their DELETE (e.g. %s): this target keeps what it deletes (it deactivates), so they are listed as orphans, and their userNames and displayNames stay taken. A later run with the same --seed therefore differs from this one: it meets them where it creates or renames to those names. Remove them on the target, or use another --seed",
			plural(kept["Users"], "user", "users"), plural(kept["Groups"], "group", "groups"), are, keptReason)
	}
	if unchecked > 0 {
		note += fmt.Sprintf("; %s (the check's own request went unanswered or the target refused the lookup by name)", plural(unchecked, "deletion could not be checked", "deletions could not be checked"))
	}
	return note, orphans
}

// cleanupParts names the kinds of the clean-up's units when there is more
// than one: the resources the run still holds, to delete; those the IdP's
// own traffic deleted, to check that they are gone (and delete them if
// not); the creates that got no usable answer, to look up by name. Its
// closing line counts the deletions against the first number only.
func cleanupParts(held, earlier, unsure int) string {
	if earlier == 0 && unsure == 0 {
		return ""
	}
	parts := []string{fmt.Sprintf("%d to delete", held)}
	if earlier > 0 {
		parts = append(parts, fmt.Sprintf("%s the IdP already deleted to check", plural(earlier, "resource", "resources")))
	}
	if unsure > 0 {
		parts = append(parts, fmt.Sprintf("%s without a usable answer to look up by name", plural(unsure, "create", "creates")))
	}
	return strings.Join(parts, ", ")
}

// plural is "1 one" or "n many".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// lookupSweep is what the clean-up did for a create whose answer named no
// resource: the resources its lookup by name found, each removed, or why
// the lookup could not tell.
type lookupSweep struct {
	removed []sweep
	why     string
}

// sweepByName looks up, by the name it sent, what a create that got no
// usable answer may have made, and removes each resource of that name
// that is not the IdP's linked one nor already the run's. A lookup that
// gets no usable answer leaves it unknown (why).
func (r *runner) sweepByName(ctx context.Context, u unsureCreate) lookupSweep {
	kind := kindOf(u.kind)
	path, query := kind.Lookup(u.name)
	res := r.cleanupSend(ctx, idp.Request{Method: http.MethodGet, Path: path, Query: query})
	switch {
	case res.err != nil:
		if errors.Is(res.err, errStopped) || ctx.Err() != nil {
			return lookupSweep{why: "the clean-up ran out of time"}
		}
		return lookupSweep{why: "the lookup by name got no response: " + res.err.Error()}
	case res.status != http.StatusOK:
		return lookupSweep{why: fmt.Sprintf("the lookup by name answered %d", res.status)}
	}
	ids, err := kind.Named(u.name, plainView(res.body))
	if err != nil {
		return lookupSweep{why: "the lookup by name answered no ListResponse"}
	}
	var out lookupSweep
	for _, id := range ids {
		ref := resourceRef{kind: u.kind, id: id}
		if r.c.owned.isForeign(ref) || r.c.owned.isKnown(ref) {
			continue
		}
		r.c.owned.adopt(ref, u.name)
		out.removed = append(out.removed, r.remove(ctx, ref))
	}
	return out
}

// sweep is what the clean-up found for one resource.
type sweep struct {
	ref resourceRef
	// why is set when the DELETE failed; kept when the resource still
	// reads back after a DELETE the target accepted.
	why, kept string
	// lost is set when the DELETE got no response (why says the cause).
	lost bool
	// deleted is true once a DELETE answered 2xx or 404.
	deleted bool
	// unchecked is true when whether it is gone could not be told.
	unchecked bool
}

// remove deletes ref and checks that it is gone.
func (r *runner) remove(ctx context.Context, ref resourceRef) sweep {
	sw := sweep{ref: ref}
	res := r.cleanupSend(ctx, idp.Request{Method: http.MethodDelete, Path: "/" + ref.kind + "/" + url.PathEscape(ref.id)})
	switch {
	case res.err != nil:
		if !errors.Is(res.err, errStopped) && ctx.Err() == nil {
			sw.why = "DELETE: " + res.err.Error()
			sw.lost = res.status == 0
		}
		return sw
	case res.status/100 != 2 && res.status != http.StatusNotFound:
		sw.why = fmt.Sprintf("DELETE answered %d", res.status)
		return sw
	}
	sw.deleted = true
	sw.kept, sw.unchecked = r.verifyGone(ctx, ref, leftover.Deleted(res.status), res.status != http.StatusNotFound)
	return sw
}

// verifyGone reads ref back by id (when byID) and looks it up by its name;
// kept is the reason it is left over, "" when it is gone.
func (r *runner) verifyGone(ctx context.Context, ref resourceRef, was string, byID bool) (kept string, unchecked bool) {
	kind := kindOf(ref.kind)
	if byID {
		res := r.cleanupSend(ctx, idp.Request{Method: http.MethodGet, Path: "/" + ref.kind + "/" + url.PathEscape(ref.id)})
		switch {
		case res.err != nil:
			return "", true
		case res.status == http.StatusOK:
			return leftover.ReadBack(was, plainView(res.body)), false
		}
	}
	name := r.c.owned.name(ref)
	if name == "" {
		return "", false
	}
	path, query := kind.Lookup(name)
	res := r.cleanupSend(ctx, idp.Request{Method: http.MethodGet, Path: path, Query: query})
	if res.err != nil || res.status != http.StatusOK {
		return "", true
	}
	kept, err := kind.Listed(was, name, ref.id, plainView(res.body))
	return kept, err != nil
}

// cleanupSend sends one request of the clean-up: once, and again after a
// throttled answer as retry.Default says (the target's Retry-After, not
// the IdP's policy, unscaled: the clean-up is not IdP traffic). A request
// still throttled at the end has err set to the *retry.GaveUpError.
func (r *runner) cleanupSend(ctx context.Context, req idp.Request) *response {
	var res *response
	p := retry.Default
	p.Sleep = r.c.pause
	out := p.Do(ctx, func(int) (int, http.Header, error) {
		res = r.c.once(ctx, opCleanup, req)
		return res.status, res.header, res.err
	})
	if out.Err != nil && res.err == nil {
		res.err = out.Err
	}
	return res
}

// isLive reports whether the run still owns ref.
func (l *ledger) isLive(ref resourceRef) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[ref]
}

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

// ledger lists the users and groups a run created (a POST answered 201 with
// an id) and has not deleted since, in the order they were created, with
// the name each last showed; and those the run's own traffic deleted, which
// the clean-up checks are gone too.
type ledger struct {
	mu      sync.Mutex
	order   []resourceRef
	live    map[resourceRef]bool
	names   map[resourceRef]string
	deleted []deletion
}

// resourceRef names one resource on the target: its kind ("Users" or
// "Groups") and its id.
type resourceRef struct{ kind, id string }

// deletion is a resource the run created and then deleted, and the status
// the DELETE answered.
type deletion struct {
	ref    resourceRef
	status int
}

func newLedger() *ledger {
	return &ledger{live: map[resourceRef]bool{}, names: map[resourceRef]string{}}
}

// observe records what an exchange did to the resources the run owns.
func (l *ledger) observe(req idp.Request, res *response) {
	if res.err != nil || res.status/100 != 2 && res.status != http.StatusNotFound {
		return
	}
	path := strings.Trim(req.Path, "/")
	switch {
	case req.Method == http.MethodPost && res.status == http.StatusCreated && (path == "Users" || path == "Groups"):
		kind, _, _ := leftover.Of(path + "/x")
		id, name := kind.Name(res.body)
		if id == "" {
			return
		}
		ref := resourceRef{kind: path, id: id}
		l.mu.Lock()
		if !l.live[ref] {
			l.live[ref] = true
			l.order = append(l.order, ref)
		}
		l.names[ref] = name
		l.mu.Unlock()
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
		rid, name := kind.Name(res.body)
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
// delete is listed as an orphan. Then it checks that each is gone, and so
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
	if len(refs) == 0 && len(earlier) == 0 {
		return "", nil
	}
	orphan := func(ref resourceRef, why string) {
		orphans = append(orphans, reports.Orphan{URL: reports.RedactURL(base + "/" + ref.kind + "/" + ref.id), Reason: why})
	}
	if unreachable {
		for _, ref := range refs {
			orphan(ref, "the target became unreachable")
		}
		return "", orphans
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupBudget)
	defer cancel()
	out := make([]sweep, len(refs)+len(earlier))
	r.work(ctx, "clean-up", len(out), r.conc, func(k int) {
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
	// firstLeft says why the first orphan is left, briefly: the progress
	// line names no transport error, which the run's last line names.
	var keptReason, failedReason, firstLeft string
	unchecked, failed := 0, 0
	left := func(why string) {
		if firstLeft == "" {
			firstLeft = why
		}
	}
	for k, sw := range out {
		ref := sw.ref
		if k < len(refs) {
			ref = refs[k]
		}
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
		case k < len(refs) && sw.deleted:
			deleted[ref.kind]++
		}
		if sw.unchecked {
			unchecked++
		}
	}
	outcome := fmt.Sprintf("%d of %d deleted", deleted["Users"]+deleted["Groups"], len(refs))
	if len(orphans) > 0 {
		outcome += fmt.Sprintf("; %d left on the target, listed as orphans (the first: %s)", len(orphans), firstLeft)
	}
	r.prog.finish(outcome)
	note = fmt.Sprintf("clean-up: deleted the %d users and %d groups this run created and still held (--keep leaves them on the target)", deleted["Users"], deleted["Groups"])
	if failed > 0 {
		note = fmt.Sprintf("clean-up: deleted %d of the %d users and %d of the %d groups this run created and still held; %d could not be deleted and are listed as orphans (the first: %s)",
			deleted["Users"], held["Users"], deleted["Groups"], held["Groups"], failed, failedReason)
	}
	if n := kept["Users"] + kept["Groups"]; n > 0 {
		note += fmt.Sprintf("; but %d users and %d groups it created are still on the target after their DELETE (e.g. %s): this target keeps what it deletes (it deactivates), so they are listed as orphans, and their userNames and displayNames stay taken. A later run with the same --seed therefore differs from this one: it meets them where it creates or renames to those names. Remove them on the target, or use another --seed",
			kept["Users"], kept["Groups"], keptReason)
	}
	if unchecked > 0 {
		note += fmt.Sprintf("; %d deletions could not be checked (the check's own request went unanswered or the target refused the lookup by name)", unchecked)
	}
	return note, orphans
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
	kind, _, _ := leftover.Of(ref.kind + "/x")
	if byID {
		res := r.cleanupSend(ctx, idp.Request{Method: http.MethodGet, Path: "/" + ref.kind + "/" + url.PathEscape(ref.id)})
		switch {
		case res.err != nil:
			return "", true
		case res.status == http.StatusOK:
			return leftover.ReadBack(was, res.body), false
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
	kept, err := kind.Listed(was, name, ref.id, res.body)
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

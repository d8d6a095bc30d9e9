package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/idp"
)

// opCleanup is the operation name of the requests that remove what a run
// created. They are the simulator's own, not the IdP's traffic: the run's
// request count and latency figures leave them out.
const opCleanup = "cleanup"

// cleanupBudget bounds the clean-up, which also runs after Ctrl-C.
const cleanupBudget = 30 * time.Second

// ledger lists the users and groups a run created (a POST answered 201 with
// an id) and has not deleted since, in the order they were created.
type ledger struct {
	mu    sync.Mutex
	order []resourceRef
	live  map[resourceRef]bool
}

// resourceRef names one resource on the target: its kind ("Users" or
// "Groups") and its id.
type resourceRef struct{ kind, id string }

func newLedger() *ledger { return &ledger{live: map[resourceRef]bool{}} }

// observe records what an exchange did to the resources the run owns.
func (l *ledger) observe(req idp.Request, res *response) {
	if res.err != nil {
		return
	}
	switch {
	case req.Method == http.MethodPost && res.status == http.StatusCreated && (req.Path == "/Users" || req.Path == "/Groups"):
		var doc struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(res.body, &doc) != nil || doc.ID == "" {
			return
		}
		ref := resourceRef{kind: strings.TrimPrefix(req.Path, "/"), id: doc.ID}
		l.mu.Lock()
		if !l.live[ref] {
			l.live[ref] = true
			l.order = append(l.order, ref)
		}
		l.mu.Unlock()
	case req.Method == http.MethodDelete && (res.status/100 == 2 || res.status == http.StatusNotFound):
		kind, esc, ok := strings.Cut(strings.TrimPrefix(req.Path, "/"), "/")
		if id, err := url.PathUnescape(esc); ok && err == nil {
			l.mu.Lock()
			delete(l.live, resourceRef{kind: kind, id: id})
			l.mu.Unlock()
		}
	}
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
// delete is listed as an orphan. It runs after an interruption too, within
// cleanupBudget, but not when the target proved unreachable.
func (r *runner) cleanup(ctx context.Context, base string, unreachable bool) (note string, orphans []string) {
	refs := r.c.owned.remaining()
	if len(refs) == 0 {
		return "", nil
	}
	if unreachable {
		for _, ref := range refs {
			orphans = append(orphans, reports.RedactURL(base+"/"+ref.kind+"/"+ref.id)+" (the target became unreachable)")
		}
		return "", orphans
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupBudget)
	defer cancel()
	why := make([]string, len(refs))
	r.phase(ctx, "clean-up", len(refs), r.conc, func(k int) {
		ref := refs[k]
		res := r.c.do(ctx, opCleanup, idp.Request{Method: http.MethodDelete, Path: "/" + ref.kind + "/" + url.PathEscape(ref.id)})
		switch {
		case res.err != nil:
			why[k] = res.err.Error()
		case res.status/100 != 2 && res.status != http.StatusNotFound:
			why[k] = fmt.Sprintf("DELETE answered %d", res.status)
		}
	})
	deleted := map[string]int{}
	var sample *resourceRef
	for k, ref := range refs {
		switch {
		case why[k] != "":
			orphans = append(orphans, reports.RedactURL(base+"/"+ref.kind+"/"+ref.id)+" ("+why[k]+")")
		case ctx.Err() != nil && r.c.owned.isLive(ref):
			orphans = append(orphans, reports.RedactURL(base+"/"+ref.kind+"/"+ref.id)+" (the clean-up ran out of time)")
		default:
			deleted[ref.kind]++
			if sample == nil || sample.kind == "Groups" {
				sample = &refs[k]
			}
		}
	}
	note = fmt.Sprintf("clean-up: deleted the %d users and %d groups this run created and still held (--keep leaves them on the target)", deleted["Users"], deleted["Groups"])
	if sample != nil {
		// One read tells a target whose DELETE only deactivates (Slack):
		// what this run renamed stays there, and a later run with the same
		// seed collides with it.
		res := r.c.do(ctx, opCleanup, idp.Request{Method: http.MethodGet, Path: "/" + sample.kind + "/" + url.PathEscape(sample.id)})
		if res.err == nil && res.status == http.StatusOK {
			note += fmt.Sprintf("; but GET %s/%s still answers 200 after its DELETE: this target keeps deleted resources (deactivated), so a later run with the same --seed meets the ones this run renamed; use another --seed", sample.kind, sample.id)
		}
	}
	return note, orphans
}

// isLive reports whether the run still owns ref.
func (l *ledger) isLive(ref resourceRef) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[ref]
}

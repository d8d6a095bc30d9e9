package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultCleanupTimeout bounds the clean-up of a run against a target.
const DefaultCleanupTimeout = 5 * time.Minute

// Cleanup is what became of the users and the group a run created on a
// target it did not start (Config.BaseURL). An in-process run has none: its
// temporary database is removed.
type Cleanup struct {
	// Kept: Config.Keep left them on the target; Users and Groups count
	// those the run saw created.
	Kept bool
	// Users and Groups deleted (or, Kept, left).
	Users, Groups int
	// Gone were already deleted by someone else (404 to the DELETE).
	Gone int
	// Failed could not be deleted (or not found again); FirstError is the
	// first reason.
	Failed     int
	FirstError string
	// UserNames is the pattern of the users' userName; Group the group's
	// displayName (the names to look for in the target).
	UserNames, Group string
}

// created is what one create request is known to have done.
type created uint8

const (
	notCreated    created = iota // not sent, or refused
	maybeCreated                 // sent, no answer seen: the server may hold it
	createdWithID                // 201 and an id
	createdNoID                  // 201 without a readable id: found again by name
)

// creation classifies a create's answer (status 0: none).
func creation(status int, id string) created {
	switch {
	case status == 0:
		return maybeCreated
	case status != http.StatusCreated:
		return notCreated
	case id == "":
		return createdNoID
	}
	return createdWithID
}

// made is what a run created on its target, for the clean-up.
type made struct {
	userNames []string // userName of user i
	users     []created
	userIDs   []string
	groupName string
	group     created
	groupID   string
	pattern   string // userNames' pattern, for the output
}

// cleanup deletes what m holds on base (the group, then the users), with
// c's concurrency, under its own context: the run's may be cancelled. The
// requests are not measured.
func (c *client) cleanup(ctx context.Context, base string, m *made, timeout time.Duration) *Cleanup {
	if timeout <= 0 {
		timeout = DefaultCleanupTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	cl := &client{http: c.http, token: c.token, conc: c.conc}
	res := &Cleanup{UserNames: m.pattern, Group: m.groupName}
	var deleted, gone, failed atomic.Int64
	// one deletes a resource created with state st: by id, else found by
	// its name (filter attr eq name).
	one := func(kind string, st created, id, attr, name string) {
		if st == notCreated {
			return
		}
		if id == "" {
			ids, err := cl.lookup(ctx, base+"/"+kind, attr, name)
			if err != nil {
				failed.Add(1)
				cl.fail(err)
				return
			}
			if len(ids) == 0 {
				if st == createdNoID {
					failed.Add(1)
					cl.fail(fmt.Errorf("%s %s %q: created, but not found by %s", kind, attr, name, attr))
				}
				return // never created
			}
			for _, id := range ids {
				cl.remove(ctx, base+"/"+kind+"/"+url.PathEscape(id), &deleted, &gone, &failed)
			}
			return
		}
		cl.remove(ctx, base+"/"+kind+"/"+url.PathEscape(id), &deleted, &gone, &failed)
	}
	one("Groups", m.group, m.groupID, "displayName", m.groupName)
	res.Groups = int(deleted.Load())
	deleted.Store(0)

	var todo []int
	for i, st := range m.users {
		if st != notCreated {
			todo = append(todo, i)
		}
	}
	var attempted atomic.Int64
	cl.run(ctx, "clean-up", len(todo), func(k int) (time.Duration, error) {
		attempted.Add(1)
		i := todo[k]
		one("Users", m.users[i], m.userIDs[i], "userName", m.userNames[i])
		return 0, nil
	})
	res.Users = int(deleted.Load())
	res.Gone = int(gone.Load())
	// Users the timeout left untried could not be deleted either.
	res.Failed = int(failed.Load()) + len(todo) - int(attempted.Load())
	res.FirstError = cl.firstErr()
	if res.Failed > 0 && res.FirstError == "" {
		res.FirstError = fmt.Sprintf("clean-up stopped after %s: %v", timeout, ctx.Err())
	}
	return res
}

// remove deletes one resource, counting the outcome.
func (c *client) remove(ctx context.Context, u string, deleted, gone, failed *atomic.Int64) {
	st, _, err := c.send(ctx, "DELETE", u, nil, http.StatusNoContent, nil)
	switch {
	case st == http.StatusNoContent || st == http.StatusOK:
		deleted.Add(1)
	case st == http.StatusNotFound:
		gone.Add(1)
	default:
		failed.Add(1)
		c.fail(err)
	}
}

// lookup returns the ids of the resources under u whose attr equals name.
func (c *client) lookup(ctx context.Context, u, attr, name string) ([]string, error) {
	f := url.QueryEscape(attr + ` eq "` + name + `"`)
	var lr struct {
		Resources []struct {
			ID string `json:"id"`
		} `json:"Resources"`
	}
	if _, _, err := c.send(ctx, "GET", u+"?filter="+f+"&attributes=id", nil, http.StatusOK, &lr); err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range lr.Resources {
		if r.ID != "" {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// kept is the Cleanup of a run told to keep what it created.
func (m *made) kept() *Cleanup {
	res := &Cleanup{Kept: true, UserNames: m.pattern, Group: m.groupName}
	for _, st := range m.users {
		if st == createdWithID || st == createdNoID {
			res.Users++
		}
	}
	if m.group == createdWithID || m.group == createdNoID {
		res.Groups = 1
	}
	return res
}

// PrintCleanup writes the clean-up's line, if the run has one.
func PrintCleanup(w io.Writer, r *Result) {
	if r == nil || r.Cleanup == nil {
		return
	}
	cl := *r.Cleanup
	cl.FirstError = strings.Join(strings.Fields(cl.FirstError), " ") // one line
	if cl.Kept {
		fmt.Fprintf(w, "clean-up: --keep: left %s and %s the bench created on %s (userName %s, group %q); delete them when done, or a later run pages through them too\n",
			plural(cl.Users, "user"), plural(cl.Groups, "group"), r.Target, cl.UserNames, cl.Group)
		return
	}
	fmt.Fprintf(w, "clean-up: deleted %s and %s the bench created", plural(cl.Users, "user"), plural(cl.Groups, "group"))
	switch {
	case cl.Gone > 0 && cl.Failed > 0:
		fmt.Fprintf(w, " (%d already gone; %d could not be deleted: %s)", cl.Gone, cl.Failed, cl.FirstError)
	case cl.Gone > 0:
		fmt.Fprintf(w, " (%d already gone)", cl.Gone)
	case cl.Failed > 0:
		fmt.Fprintf(w, " (%d could not be deleted: %s)", cl.Failed, cl.FirstError)
	}
	fmt.Fprintln(w)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

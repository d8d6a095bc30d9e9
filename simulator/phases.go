package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/scimlab/scimlab/simulator/directory"
	"github.com/scimlab/scimlab/simulator/idp"
)

// phases are the steps a scenario file can list.
var phases = map[string]func(*runner, context.Context){
	"test-connection":  (*runner).testConnection,
	"initial-sync":     (*runner).initialSync,
	"import":           (*runner).importWalk,
	"update-users":     (*runner).updateUsers,
	"deactivate":       (*runner).deactivate,
	"reactivate":       (*runner).reactivate,
	"membership-churn": (*runner).membershipChurn,
	"member-readd":     (*runner).memberReadd,
	"replace-members":  (*runner).replaceMembers,
	"group-rename":     (*runner).groupRename,
	"group-delete":     (*runner).groupDelete,
	"user-delete":      (*runner).userDelete,
	"reprovision":      (*runner).reprovision,
	"edge-cases":       (*runner).edgeCases,
	"verify":           (*runner).verify,
}

func phaseNames() []string {
	out := make([]string, 0, len(phases))
	for n := range phases {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// testConnection sends the admin's "Test Connection" probes (idp-traffic.md
// §1.1 row 1; §1.2 row 1: a random-GUID filter needs 200 and an empty
// ListResponse, never 404).
func (r *runner) testConnection(ctx context.Context) {
	probes := r.idp.TestConnection(r.dir.GUID(0))
	r.phase(ctx, "test connection", len(probes), 1, func(k int) {
		req := probes[k]
		res := r.send(ctx, idp.StepTestConnection, req)
		reason := r.statusReason(idp.StepTestConnection, res)
		if reason == "" {
			page, why := parseList(res)
			reason = why
			if why == "" && r.idp.Profile.TestConnection[k].Empty && (page.total != 0 || len(page.resources) != 0) {
				reason = fmt.Sprintf("%s matched %d resources for a random GUID; %s needs an empty ListResponse (idp-traffic.md §1.2 row 1)", req, page.total, r.idp.Name)
			}
		}
		if res.err == nil && res.status == http.StatusNotFound {
			reason += "; a filter that matches nothing must answer 200 with an empty ListResponse, never 404 (idp-traffic.md §1.2 row 1)"
		}
		r.check(ctx, idp.StepTestConnection, res, reason)
	})
}

// initialSync provisions every user (lookup, then create) and pushes every
// group (lookup, create empty, then add members in the IdP's batches).
func (r *runner) initialSync(ctx context.Context) {
	r.phase(ctx, "initial sync: users", r.dir.Users(), r.conc, func(i int) { r.provisionUser(ctx, i) })
	r.phase(ctx, "initial sync: groups", r.dir.Groups(), r.conc, func(j int) { r.pushGroup(ctx, j) })
}

// provisionUser looks user i up and creates them when the target has no
// match; a match is linked and brought up to date, as the IdPs do.
func (r *runner) provisionUser(ctx context.Context, i int) {
	u := r.st.user(i)
	res := r.send(ctx, idp.StepLookupUser, r.idp.LookupUser(u.UserName))
	found, id, reason := r.lookupResult(idp.StepLookupUser, res)
	r.check(ctx, idp.StepLookupUser, res, reason)
	r.userLookups.count(reason, found)
	if reason != "" {
		r.noteLost(false, i, "lookup", res)
		return
	}
	if found != nil {
		r.st.setUserID(i, id)
		r.c.owned.link(resourceRef{kind: "Users", id: id})
		r.link(ctx, i, found)
		return
	}
	res = r.send(ctx, idp.StepCreateUser, r.idp.CreateUser(u))
	id, reason = r.createResult(idp.StepCreateUser, res)
	r.check(ctx, idp.StepCreateUser, res, reason)
	r.noteLost(false, i, "create", res)
	r.noteRejected(false, i, res, id)
	if id != "" {
		r.st.setUserID(i, id)
	}
}

// noteLost records that the provisioning of user i (group i when group is
// set) got no response when res, its request of what ("lookup",
// "create"), got none; with the cause, which the end-state check names.
func (r *runner) noteLost(group bool, i int, what string, res *response) {
	if res.err == nil {
		return
	}
	r.st.setLost(group, i, fmt.Sprintf("its %s got no response (%v)", what, res.err))
	if what == "create" {
		// Sent, perhaps made: the end-state check looks it up by name.
		r.st.setRejected(group, i, "")
	}
}

// endpointOf names the collection of a group (group set) or a user.
func endpointOf(group bool) string {
	if group {
		return "Groups"
	}
	return "Users"
}

// noteRejected records that the create of user i (group i when group is
// set) got an answer the IdP did not take (id is ""), with the id that
// answer carried, if any: the target may hold the resource all the same.
// A 409 made nothing, nor did a create that got no response as far as
// the IdP can tell (noteLost).
func (r *runner) noteRejected(group bool, i int, res *response, id string) {
	if id != "" || res.err != nil || res.status == http.StatusConflict {
		return
	}
	rid, _ := nameOf(kindOf(endpointOf(group)), res.body)
	r.st.setRejected(group, i, rid)
}

// link brings a user the lookup found up to date with the directory.
func (r *runner) link(ctx context.Context, i int, found map[string]any) {
	u := r.st.user(i)
	have := fromResource(found)
	if have != (profileOf(u)) {
		old := u
		old.UserName, old.GivenName, old.FamilyName, old.Email, old.Title = have.userName, have.givenName, have.familyName, have.email, have.title
		r.updateUser(ctx, i, old, u)
	}
	if active, ok := lookupKey(found, "active").(bool); ok && !active {
		r.setActive(ctx, idp.StepReactivate, idp.StepReactivate, i, true)
	}
}

// pushGroup looks group j up, creates it empty when missing, and adds its members.
func (r *runner) pushGroup(ctx context.Context, j int) {
	g := r.dir.Group(j)
	res := r.send(ctx, idp.StepLookupGroup, r.idp.LookupGroup(g.DisplayName))
	found, id, reason := r.lookupResult(idp.StepLookupGroup, res)
	r.check(ctx, idp.StepLookupGroup, res, reason)
	r.groupLookups.count(reason, found)
	if reason != "" {
		r.noteLost(true, j, "lookup", res)
		return
	}
	if found != nil {
		r.c.owned.link(resourceRef{kind: "Groups", id: id})
	} else {
		res = r.send(ctx, idp.StepCreateGroup, r.idp.CreateGroup(g))
		id, reason = r.createResult(idp.StepCreateGroup, res)
		r.check(ctx, idp.StepCreateGroup, res, reason)
		r.noteLost(true, j, "create", res)
		r.noteRejected(true, j, res, id)
		if id == "" {
			return
		}
	}
	r.st.setGroupID(j, id)
	r.changeMembers(ctx, idp.StepMembers, j, r.st.pushable(j), nil)
}

// changeMembers adds and removes members of group j in the IdP's form: PATCH
// batches (with Okta's rename after each, idp-traffic.md §1.1 row 13) or one
// PUT of the whole group (§1.1 row 12c). The directory's new member list is
// recorded whatever the target answers.
func (r *runner) changeMembers(ctx context.Context, step idp.Step, j int, add, remove []int) {
	id := r.st.groupID(j)
	next := applyChange(r.st.groupMembers(j), add, remove)
	r.st.setMembers(j, next)
	if r.idp.Groups.Update == idp.Put {
		if len(add)+len(remove) == 0 && step == idp.StepMembers {
			return
		}
		res := r.send(ctx, step, r.idp.PutGroup(id, r.st.groupName(j), r.st.memberRefs(r.st.withIDs(next))))
		r.check(ctx, step, res, r.statusReason(step, res))
		return
	}
	for _, req := range r.idp.MembershipPatches(id, r.st.memberRefs(add), r.st.memberRefs(remove)) {
		res := r.send(ctx, step, req)
		r.check(ctx, step, res, r.statusReason(step, res))
		if r.idp.Groups.RenameOnMembership {
			res := r.send(ctx, idp.StepRenameGroup, r.idp.RenameGroup(id, r.st.groupName(j)))
			r.check(ctx, idp.StepRenameGroup, res, r.statusReason(idp.StepRenameGroup, res))
		}
	}
}

func applyChange(cur, add, remove []int) []int {
	drop := map[int]bool{}
	for _, i := range remove {
		drop[i] = true
	}
	var out []int
	have := map[int]bool{}
	for _, i := range cur {
		if !drop[i] && !have[i] {
			out = append(out, i)
			have[i] = true
		}
	}
	for _, i := range add {
		if !have[i] {
			out = append(out, i)
			have[i] = true
		}
	}
	sort.Ints(out)
	return out
}

// importWalk pages through every user and group as Okta's import does
// (idp-traffic.md §1.1 row 15).
func (r *runner) importWalk(ctx context.Context) {
	if r.idp.Import == nil {
		return
	}
	kinds := []string{"Users", "Groups"}
	r.phase(ctx, "import", len(kinds), 1, func(k int) { r.walk(ctx, kinds[k]) })
}

// walk reads one resource type page by page, as Okta's import does and no
// more (idp-traffic.md §1.1 row 15): startIndex=1&count=N, then startIndex
// += N while startIndex ≤ totalResults. Each page must have integer paging
// numbers and the pages together must list every resource exactly once: an
// id seen twice, or fewer distinct ids than totalResults, is ordering that is
// not stable across pages (§1.1), which is what Okta needs of it.
func (r *runner) walk(ctx context.Context, resource string) {
	size := r.idp.Import.PageSize
	seen := map[string]int{}
	total := -1
	start := 1
	for page := 0; ctx.Err() == nil; page++ {
		res := r.send(ctx, idp.StepImport, r.idp.ListPage(resource, start))
		reason := r.statusReason(idp.StepImport, res)
		var p *listPage
		if reason == "" {
			p, reason = parseList(res)
		}
		if reason == "" {
			reason = r.pageReason(resource, start, size, p, seen, page)
		}
		r.check(ctx, idp.StepImport, res, reason)
		if reason != "" {
			return
		}
		total = p.total
		start += size
		if start > total || page > total/size+1 {
			break
		}
	}
	if ctx.Err() != nil {
		return
	}
	if len(seen) < total {
		r.check(ctx, idp.StepImport, nil, fmt.Sprintf("import of /%s saw %d distinct resources but totalResults is %d; ordering must be stable across pages (idp-traffic.md §1.1)", resource, len(seen), total))
		return
	}
	if reason := r.importMissing(resource, seen, total); reason != "" {
		r.check(ctx, idp.StepImport, nil, reason)
	}
}

// maxMissingNamed caps the resources an import reason names.
const maxMissingNamed = 3

// importMissing checks that the import walk listed every user (group) the
// run provisioned and the target confirmed with an id: Okta reads no page
// past totalResults (idp-traffic.md §1.1 row 15), so a totalResults below
// the true count, or pages that ignore startIndex, hide resources from
// its import. It returns the reason, naming what is missing, or "".
func (r *runner) importMissing(resource string, seen map[string]int, total int) string {
	group := resource == "Groups"
	n := r.dir.Users()
	if group {
		n = r.dir.Groups()
	}
	var missing []string
	want := 0
	for i := 0; i < n; i++ {
		var id, name string
		if group {
			if id = r.st.groupID(i); id == "" || r.st.isGone(i) {
				continue
			}
			name = r.st.groupName(i)
		} else {
			if id = r.st.userID(i); id == "" || r.st.isDeleted(i) {
				continue
			}
			name = r.st.user(i).UserName
		}
		want++
		if _, ok := seen[id]; !ok {
			missing = append(missing, fmt.Sprintf("%s (id %s)", name, id))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	named := strings.Join(missing[:min(len(missing), maxMissingNamed)], ", ")
	if len(missing) > maxMissingNamed {
		named += fmt.Sprintf(" and %d more", len(missing)-maxMissingNamed)
	}
	noun := "users"
	if group {
		noun = "groups"
	}
	return fmt.Sprintf("import of /%s listed %d of the %d %s this run provisioned; missing %s: with totalResults %d, %s reads no page past it (startIndex=1, then +%d while below totalResults), so it never imports them (idp-traffic.md §1.1 row 15)",
		resource, want-len(missing), want, noun, named, total, r.idp.Name, r.idp.Import.PageSize)
}

// pageReason checks one import page against the walk so far.
func (r *runner) pageReason(resource string, start, size int, p *listPage, seen map[string]int, page int) string {
	if p.startIndex != 0 && p.startIndex != start {
		return fmt.Sprintf("GET /%s?startIndex=%d answered startIndex %d", resource, start, p.startIndex)
	}
	want := min(size, max(p.total-start+1, 0))
	if len(p.resources) < want {
		return fmt.Sprintf("GET /%s?startIndex=%d&count=%d answered %d of totalResults %d; %s adds %d to startIndex and never sees the other %d (idp-traffic.md §1.1 row 15)",
			resource, start, size, len(p.resources), p.total, r.idp.Name, size, want-len(p.resources))
	}
	for k, id := range p.ids {
		if id == "" {
			return fmt.Sprintf("GET /%s?startIndex=%d: resource %d has no id", resource, start, k+1)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Sprintf("id %s is on page %d and again on page %d of /%s; ordering is not stable across pages (idp-traffic.md §1.1)", id, prev+1, page+1, resource)
		}
		seen[id] = page
	}
	if resource == "Users" && start == 1 && len(p.resources) > 0 {
		// Okta's own SPEC test reads these from Resources[0] (idp-traffic.md §1.1, OKTA-SPEC).
		var missing []string
		for _, path := range []string{"id", "userName", "name.givenName", "name.familyName"} {
			if str(p.resources[0], path) == "" {
				missing = append(missing, path)
			}
		}
		var wrong string
		switch v := lookupKey(p.resources[0], "active").(type) {
		case bool:
		case nil:
			missing = append(missing, "active")
		default:
			wrong = fmt.Sprintf("has active as %s, not a JSON boolean", jsonText(v))
			if _, isString := v.(string); isString {
				wrong = fmt.Sprintf("has active as the string %s, not a JSON boolean (true or false)", jsonText(v))
			}
		}
		if workEmail(p.resources[0]) == "" {
			missing = append(missing, "emails[0].value")
		}
		var faults []string
		if len(missing) > 0 {
			faults = append(faults, "lacks "+strings.Join(missing, ", "))
		}
		if wrong != "" {
			faults = append(faults, wrong)
		}
		if len(faults) > 0 {
			return fmt.Sprintf("the first user of /Users %s, which Okta's SPEC test requires (idp-traffic.md §1.1, OKTA-SPEC)", strings.Join(faults, " and "))
		}
	}
	return ""
}

// pickUsers returns up to n users with a target id that are not deleted and
// not yet picked by another phase, spread evenly over the directory,
// starting from the end when fromEnd is set.
func (r *runner) pickUsers(n int, fromEnd bool) []int {
	total := r.dir.Users()
	var out []int
	stride := max(total/max(n, 1), 1)
	for pass := 0; pass < stride && len(out) < n; pass++ {
		for k := pass; k < total && len(out) < n; k += stride {
			i := k
			if fromEnd {
				i = total - 1 - k
			}
			if r.touched[i] || r.st.userID(i) == "" || r.st.isDeleted(i) {
				continue
			}
			r.touched[i] = true
			out = append(out, i)
		}
	}
	return out
}

// updateUsers makes the three kinds of change (profile, rename, email) on a
// spread of users, in the IdP's update form.
func (r *runner) updateUsers(ctx context.Context) {
	picks := r.pickUsers(clamp(r.dir.Users()/20, 3, 60), false)
	r.phase(ctx, "updates", len(picks), r.conc, func(k int) {
		i := picks[k]
		old := r.st.user(i)
		r.updateUser(ctx, i, old, r.dir.Changed(old, directory.Change(k%3)))
	})
}

// updateUser sends the update from old to new: GET then PUT (Okta,
// idp-traffic.md §1.1 row 5) or PATCH (Entra, §1.2 rows 6 and 6f).
func (r *runner) updateUser(ctx context.Context, i int, old, new directory.User) {
	id := r.st.userID(i)
	r.st.setUser(new)
	var readBack []byte
	if r.idp.Users.Update == idp.GetPut {
		var ok bool
		if readBack, ok = r.readForPut(ctx, idp.StepUpdateUser, id); !ok {
			return
		}
	}
	req, err := r.idp.UpdateUser(id, old, new, readBack)
	if errors.Is(err, idp.ErrNoChange) {
		r.rec.block(idp.StepUpdateUser, fmt.Sprintf("no update was sent: the changes made touch nothing %s sends", r.idp.Name))
		return
	}
	if err != nil {
		r.check(ctx, idp.StepGetUser, nil, fmt.Sprintf("GET /Users/%s: %v", id, err))
		r.blockPut(idp.StepUpdateUser)
		return
	}
	res := r.send(ctx, idp.StepUpdateUser, req)
	reason := r.statusReason(idp.StepUpdateUser, res)
	if reason == "" && req.Method == http.MethodPut && res.status == http.StatusOK {
		_, reason = resourceReason(res)
	}
	r.check(ctx, idp.StepUpdateUser, res, reason)
}

// readForPut reads a user before a PUT of step, as Okta does. When the read
// fails, the PUT is not sent.
func (r *runner) readForPut(ctx context.Context, step idp.Step, id string) ([]byte, bool) {
	res := r.send(ctx, idp.StepGetUser, r.idp.GetUser(id))
	reason := r.statusReason(idp.StepGetUser, res)
	if reason == "" {
		_, reason = resourceReason(res)
	}
	r.check(ctx, idp.StepGetUser, res, reason)
	if reason != "" {
		r.blockPut(step)
	}
	return res.body, reason == ""
}

// blockPut records that a PUT of step was not sent because the read of the
// user before it failed.
func (r *runner) blockPut(step idp.Step) {
	r.rec.block(step, fmt.Sprintf("no PUT was sent: the read of the user before it failed (see %s)", r.idp.CheckID(idp.StepGetUser)))
}

// setActive deactivates or reactivates user i in the IdP's form, recording
// the exchange under step and judging it by accept's statuses.
func (r *runner) setActive(ctx context.Context, step, accept idp.Step, i int, active bool) {
	u := r.st.user(i)
	u.Active = active
	r.st.setUser(u)
	id := r.st.userID(i)
	var readBack []byte
	if r.idp.Users.Activation == idp.GetPut {
		var ok bool
		if readBack, ok = r.readForPut(ctx, step, id); !ok {
			return
		}
	}
	req, err := r.idp.SetActive(id, u, readBack)
	if err != nil {
		r.check(ctx, step, nil, fmt.Sprintf("GET /Users/%s: %v", id, err))
		return
	}
	res := r.send(ctx, step, req)
	r.check(ctx, step, res, r.statusReason(accept, res))
}

// deactivate deactivates a few users: Okta OIN's path-less PATCH, Okta AIW's
// PUT, Entra's "False" string or flag boolean (idp-traffic.md §1.1 rows 6 and
// 6b, §1.2 row 7).
func (r *runner) deactivate(ctx context.Context) {
	picks := r.pickUsers(clamp(r.dir.Users()/20, 2, 20), true)
	r.phase(ctx, "deactivate", len(picks), r.conc, func(k int) {
		r.setActive(ctx, idp.StepDeactivate, idp.StepDeactivate, picks[k], false)
	})
	r.deactivated = picks
	r.deactivatedAll = len(picks)
}

// reactivate reactivates half of the deactivated users (idp-traffic.md §1.1
// row 7, §1.2 row 8); the rest stay for reprovision.
func (r *runner) reactivate(ctx context.Context) {
	n := len(r.deactivated) / 2
	if n == 0 {
		return
	}
	picks := r.deactivated[:n]
	r.deactivated = r.deactivated[n:]
	r.phase(ctx, "reactivate", n, r.conc, func(k int) {
		r.setActive(ctx, idp.StepReactivate, idp.StepReactivate, picks[k], true)
	})
}

// liveGroups returns the groups with a target id that are not deleted.
func (r *runner) liveGroups() []int {
	var out []int
	for j := 0; j < r.dir.Groups(); j++ {
		if r.st.groupID(j) != "" && !r.st.isGone(j) {
			out = append(out, j)
		}
	}
	return out
}

// deleteTarget is the group group-delete removes: the last live one.
func (r *runner) deleteTarget() int {
	live := r.liveGroups()
	if len(live) < 2 {
		return -1
	}
	return live[len(live)-1]
}

// membershipChurn removes two members from and adds two users to a few
// groups, in one request where the IdP mixes them (idp-traffic.md §1.1 row
// 12), as separate adds and removes otherwise (§1.2 rows 14 and 15).
func (r *runner) membershipChurn(ctx context.Context) {
	var groups []int
	spare := r.deleteTarget()
	for _, j := range r.liveGroups() {
		if j != spare && len(groups) < 3 {
			groups = append(groups, j)
		}
	}
	r.phase(ctx, "membership churn", len(groups), 1, func(k int) {
		j := groups[k]
		cur := r.st.pushable(j)
		remove := cur[:min(2, max(len(cur)-1, 0))]
		add := r.nonMembers(j, cur, 2)
		if len(add)+len(remove) == 0 {
			return
		}
		r.changeMembers(ctx, idp.StepMembers, j, add, remove)
		r.churned = append(r.churned, j)
	})
}

// nonMembers returns up to n users with a target id who are not in cur.
func (r *runner) nonMembers(j int, cur []int, n int) []int {
	in := map[int]bool{}
	for _, i := range cur {
		in[i] = true
	}
	var out []int
	total := r.dir.Users()
	for k := 0; k < total && len(out) < n; k++ {
		i := (j*7 + k) % total
		if !in[i] && r.st.userID(i) != "" && !r.st.isDeleted(i) {
			out = append(out, i)
		}
	}
	return out
}

// memberReadd adds a member the group already has, which IdPs re-send
// (idp-traffic.md B18); an IdP that PUTs groups sends the group unchanged,
// which some targets refuse as a name conflict (B14).
func (r *runner) memberReadd(ctx context.Context) {
	j := -1
	for _, g := range append(append([]int(nil), r.churned...), r.liveGroups()...) {
		if len(r.st.pushable(g)) > 0 && !r.st.isGone(g) {
			j = g
			break
		}
	}
	if j < 0 {
		return
	}
	r.phase(ctx, "member re-add", 1, 1, func(int) {
		if r.idp.Groups.Update == idp.Put {
			res := r.send(ctx, idp.StepMemberReadd, r.idp.PutGroup(r.st.groupID(j), r.st.groupName(j), r.st.memberRefs(r.st.pushable(j))))
			r.check(ctx, idp.StepMemberReadd, res, r.statusReason(idp.StepMemberReadd, res))
			return
		}
		r.changeMembers(ctx, idp.StepMemberReadd, j, r.st.pushable(j)[:1], nil)
	})
}

// replaceMembers replaces a group's whole member list, dropping one member
// (Okta Group Push, idp-traffic.md §1.1 row 12b, B12).
func (r *runner) replaceMembers(ctx context.Context) {
	if !r.idp.Groups.ReplaceMembers {
		return
	}
	j := -1
	spare := r.deleteTarget()
	for _, g := range r.liveGroups() {
		if len(r.st.pushable(g)) >= 2 && g != spare {
			j = g
			break
		}
	}
	if j < 0 {
		return
	}
	r.phase(ctx, "replace members", 1, 1, func(int) {
		cur := r.st.pushable(j)
		next := cur[:len(cur)-1]
		r.st.setMembers(j, next)
		res := r.send(ctx, idp.StepReplaceMembers, r.idp.ReplaceMembers(r.st.groupID(j), r.st.memberRefs(next)))
		r.check(ctx, idp.StepReplaceMembers, res, r.statusReason(idp.StepReplaceMembers, res))
	})
}

// groupRename renames a group: Okta's value-only PATCH with the id
// (idp-traffic.md §1.1 row 11), a PUT for AIW, Entra's displayName path
// (§1.2 row 13).
func (r *runner) groupRename(ctx context.Context) {
	live := r.liveGroups()
	if len(live) == 0 {
		return
	}
	j := live[0]
	name := r.st.groupName(j) + " (renamed)"
	r.st.rename(j, name)
	r.phase(ctx, "group rename", 1, 1, func(int) {
		req := r.idp.RenameGroup(r.st.groupID(j), name)
		if r.idp.Groups.Update == idp.Put {
			req = r.idp.PutGroup(r.st.groupID(j), name, r.st.memberRefs(r.st.pushable(j)))
		}
		res := r.send(ctx, idp.StepRenameGroup, req)
		r.check(ctx, idp.StepRenameGroup, res, r.statusReason(idp.StepRenameGroup, res))
	})
}

// groupDelete deletes one group (idp-traffic.md §1.1 row 14, §1.2 row 16).
func (r *runner) groupDelete(ctx context.Context) {
	j := r.deleteTarget()
	if j < 0 {
		return
	}
	r.st.deleteGroup(j)
	r.phase(ctx, "group delete", 1, 1, func(int) {
		res := r.send(ctx, idp.StepDeleteGroup, r.idp.DeleteGroup(r.st.groupID(j)))
		r.check(ctx, idp.StepDeleteGroup, res, r.statusReason(idp.StepDeleteGroup, res))
	})
}

// userDelete hard-deletes one user, which Entra does 30 days after a soft
// delete (idp-traffic.md §1.2 row 9) and Okta never does (§1.1 row 8).
func (r *runner) userDelete(ctx context.Context) {
	if !r.idp.Users.Delete {
		return
	}
	inGroup := map[int]bool{}
	for _, j := range r.liveGroups() {
		for _, i := range r.st.groupMembers(j) {
			inGroup[i] = true
		}
	}
	// Prefer a user in no group, so that the end state does not hinge on
	// whether the target drops a deleted user's memberships.
	var picks []int
	for i := 0; i < r.dir.Users(); i++ {
		if !inGroup[i] && !r.touched[i] && r.st.userID(i) != "" && !r.st.isDeleted(i) {
			picks = []int{i}
			r.touched[i] = true
			break
		}
	}
	if len(picks) == 0 {
		picks = r.pickUsers(1, false)
	}
	if len(picks) == 0 {
		return
	}
	i := picks[0]
	r.phase(ctx, "user delete", 1, 1, func(int) {
		res := r.send(ctx, idp.StepDeleteUser, r.idp.DeleteUser(r.st.userID(i)))
		r.check(ctx, idp.StepDeleteUser, res, r.statusReason(idp.StepDeleteUser, res))
	})
	r.st.deleteUser(i)
	r.deletedUser = i
}

// reprovision assigns a deleted (else deactivated) user again: the IdP
// looks them up and links a match, or POSTs them anew with the same
// externalId. A 409 after a lookup that found nothing is a dead end: the
// user can never be provisioned again (idp-traffic.md B15, §1.1 "Re-provision
// after deactivation").
func (r *runner) reprovision(ctx context.Context) {
	i := r.deletedUser
	if i < 0 && len(r.deactivated) > 0 {
		i = r.deactivated[0]
		r.deactivated = r.deactivated[1:]
	}
	if i < 0 {
		return
	}
	r.phase(ctx, "reprovision", 1, 1, func(int) { r.provisionAgain(ctx, i) })
}

// provisionAgain looks user i up and links or creates them.
func (r *runner) provisionAgain(ctx context.Context, i int) {
	u := r.st.user(i)
	u.Active = true
	res := r.send(ctx, idp.StepReprovision, r.idp.LookupUser(u.UserName))
	found, id, reason := r.lookupResult(idp.StepLookupUser, res)
	if reason == "" && found != nil && r.st.isDeleted(i) {
		reason = fmt.Sprintf("%s still finds the user deleted earlier (id %s); a deleted resource must be omitted from query results (RFC 7644 §3.6)", res.req, id)
	}
	r.check(ctx, idp.StepReprovision, res, reason)
	if found != nil {
		r.c.owned.link(resourceRef{kind: "Users", id: id})
		r.st.undelete(i, id)
		r.setActive(ctx, idp.StepReprovision, idp.StepReactivate, i, true)
		return
	}
	if reason != "" {
		return
	}
	res = r.send(ctx, idp.StepReprovision, r.idp.CreateUser(u))
	id, reason = r.createResult(idp.StepCreateUser, res)
	if res.err == nil && res.status == http.StatusConflict {
		reason = fmt.Sprintf("%s answered 409 after the lookup found no user with this userName: a dead end, %s can never provision this user again (idp-traffic.md B15)%s", res.req, r.idp.Name, errorDetail(res.body))
	}
	r.check(ctx, idp.StepReprovision, res, reason)
	r.st.setUser(u)
	if id != "" {
		r.st.undelete(i, id)
	}
}

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/scimlab/scimlab/reference-server/scim"
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
// ListResponse, never 404; §1.4: SailPoint reads the discovery endpoints;
// §1.7: JumpCloud creates a test user and group and deletes them again).
func (r *runner) testConnection(ctx context.Context) {
	probes := r.idp.TestConnection(r.dir.GUID(0))
	var made []testResource
	r.phase(ctx, "test connection", len(probes), 1, func(k int) {
		pr := r.idp.Profile.TestConnection[k]
		if pr.Create != "" {
			if t, ok := r.createTest(ctx, pr.Create); ok {
				made = append(made, t)
			}
			return
		}
		req := probes[k]
		res := r.send(ctx, idp.StepTestConnection, req)
		reason := r.statusReason(idp.StepTestConnection, res)
		switch {
		case reason != "":
		case pr.Answer == idp.AnswerResource:
			reason = schemaObjectReason(res)
		default:
			page, why := parseList(res)
			reason = why
			if why == "" && pr.Empty && (page.total != 0 || len(page.resources) != 0) {
				reason = fmt.Sprintf("%s matched %d resources for a random GUID; %s needs an empty ListResponse (idp-traffic.md §1.2 row 1)", req, page.total, r.idp.Name)
			}
		}
		if res.err == nil && res.status == http.StatusNotFound {
			reason += "; a filter that matches nothing must answer 200 with an empty ListResponse, never 404 (idp-traffic.md §1.2 row 1)"
		}
		r.check(ctx, idp.StepTestConnection, res, reason)
	})
	for _, t := range made {
		r.deleteTest(ctx, t)
	}
}

// schemaObjectReason checks a probe that reads one resource, such as
// /ServiceProviderConfig or /ResourceTypes/User (RFC 7644 §4): a JSON
// object with its schemas (RFC 7643 §3).
func schemaObjectReason(res *response) string {
	m, err := decode(res.body)
	if err != nil {
		return fmt.Sprintf("%s answered %d with a body that is not a JSON object: %v", res.req, res.status, err)
	}
	if list, _ := m["schemas"].([]any); len(list) == 0 {
		return fmt.Sprintf("%s answered %d with an object without schemas (RFC 7643 §3); SailPoint's test connection needs every discovery endpoint to work (idp-traffic.md §1.4)", res.req, res.status)
	}
	return ""
}

// testResource is a user or group a test connection created.
type testResource struct {
	user bool
	id   string
	u    directory.User
}

// createTest creates the test user or group of a test connection
// (JumpCloud, idp-traffic.md §1.7), judged as a create.
func (r *runner) createTest(ctx context.Context, kind string) (testResource, bool) {
	t := testResource{user: kind == "user"}
	req, accept := r.idp.CreateGroup(r.dir.TestGroup()), idp.StepCreateGroup
	if t.user {
		t.u = r.dir.TestUser()
		req, accept = r.idp.CreateUser(t.u), idp.StepCreateUser
	}
	res := r.send(ctx, idp.StepTestConnection, req)
	id, reason := r.createResult(accept, res)
	r.check(ctx, idp.StepTestConnection, res, reason)
	t.id = id
	return t, id != ""
}

// deleteTest deletes what a test connection created. When the target
// refuses to delete the test user, JumpCloud deactivates it and leaves it
// (idp-traffic.md §1.7); the run's clean-up removes it later if it can.
func (r *runner) deleteTest(ctx context.Context, t testResource) {
	if !t.user {
		res := r.send(ctx, idp.StepTestConnection, r.idp.DeleteGroup(t.id))
		r.check(ctx, idp.StepTestConnection, res, r.statusReason(idp.StepDeleteGroup, res))
		return
	}
	res := r.send(ctx, idp.StepTestConnection, r.idp.DeleteUser(t.id))
	if res.err != nil || r.idp.Accepts(idp.StepDeleteUser, res.status) || res.status == http.StatusTooManyRequests {
		r.check(ctx, idp.StepTestConnection, res, r.statusReason(idp.StepDeleteUser, res))
		return
	}
	r.note("%s answered %d: the target does not delete users, so %s deactivated its test user %s (id %s) and left it (idp-traffic.md §1.7)", res.req, res.status, r.idp.Name, t.u.UserName, t.id)
	u := t.u
	u.Active = false
	req, err := r.idp.SetActive(t.id, u, nil)
	if err != nil {
		r.check(ctx, idp.StepTestConnection, nil, err.Error())
		return
	}
	res = r.send(ctx, idp.StepTestConnection, req)
	r.check(ctx, idp.StepTestConnection, res, r.statusReason(idp.StepDeactivate, res))
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
	var found map[string]any
	var id, reason string
	var res *response
	if r.idp.Lookup.ListGroups != nil {
		found, id, reason, res = r.listGroups(ctx, g.DisplayName)
	} else {
		res = r.send(ctx, idp.StepLookupGroup, r.idp.LookupGroup(g.DisplayName))
		found, id, reason = r.lookupResult(idp.StepLookupGroup, res)
		r.check(ctx, idp.StepLookupGroup, res, reason)
	}
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

// listGroups finds a group by reading /Groups page by page and matching
// displayName itself, as PingFederate does ("retrieving all groups and
// finding a match", idp-traffic.md §1.3). displayName is compared without
// case (RFC 7643 §8.7.1: caseExact false). It stops at the page that holds
// the match, or after the last page, moving startIndex on by the resources
// each page held (RFC 7644 §3.4.2.4). Each page is one lookup-group
// exchange; it returns the last page's response.
func (r *runner) listGroups(ctx context.Context, name string) (found map[string]any, id, reason string, res *response) {
	start := 1
	for page := 0; ctx.Err() == nil; page++ {
		var p *listPage
		res, p, reason = r.readList(ctx, idp.StepLookupGroup, r.idp.GroupsPage(start), func(res *response, p *listPage) string {
			for k, g := range p.resources {
				if dn, _ := lookupKey(g, "displayName").(string); !strings.EqualFold(dn, name) {
					continue
				}
				if found != nil {
					return fmt.Sprintf("%s lists two groups named %q (ids %s and %s); %s cannot tell which one to link", res.req, name, id, p.ids[k], r.idp.Name)
				}
				found, id = g, p.ids[k]
				if id == "" {
					return fmt.Sprintf("%s lists group %q without an id", res.req, name)
				}
			}
			return ""
		})
		if reason != "" {
			return nil, "", reason, res
		}
		start += len(p.resources)
		if found != nil || len(p.resources) == 0 || start > p.total || page > p.total {
			return found, id, "", res
		}
	}
	return nil, "", "", res
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
		r.renameAfterMembership(ctx, j)
	}
}

// renameAfterMembership sends the same-name rename an IdP with
// renameOnMembership sends after every membership PATCH, a whole-list
// replace included (Okta: "the group name update operation is triggered
// each time there's a group membership update operation", idp-traffic.md
// §1.1 row 13).
func (r *runner) renameAfterMembership(ctx context.Context, j int) {
	if !r.idp.Groups.RenameOnMembership || r.idp.Groups.Update == idp.Put {
		return
	}
	res := r.send(ctx, idp.StepRenameGroup, r.idp.RenameGroup(r.st.groupID(j), r.st.groupName(j)))
	r.check(ctx, idp.StepRenameGroup, res, r.statusReason(idp.StepRenameGroup, res))
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
	if r.idp.Import.StartsWith || r.idp.Import.Delta {
		r.phase(ctx, "filtered aggregation", 1, 1, func(int) { r.aggregateFiltered(ctx) })
	}
}

// aggregateFiltered reads the users an admin's aggregation filter selects,
// userName sw "<prefix>", and a delta aggregation, meta.lastModified gt
// "<time>" (and the admin's filter), as SailPoint does (idp-traffic.md
// §1.4, SP-AGG). The prefix is the first provisioned user's userName up to
// its first dot; the time is a second before the earliest lastModified the
// import saw, in the target's own clock, so that every user the run
// provisioned is modified after it. Each answer must list every provisioned
// user the filter selects (when it fits on the page) and nothing the filter
// does not select.
func (r *runner) aggregateFiltered(ctx context.Context) {
	var prefix string
	for i := 0; i < r.dir.Users() && prefix == ""; i++ {
		if r.st.userID(i) != "" && !r.st.isDeleted(i) {
			name := r.st.user(i).UserName
			if dot := strings.IndexByte(name, '.'); dot > 0 {
				prefix = name[:dot+1]
			} else {
				prefix = name
			}
		}
	}
	if prefix == "" {
		return
	}
	if r.idp.Import.StartsWith {
		r.aggregate(ctx, prefix, "")
	}
	if !r.idp.Import.Delta {
		return
	}
	if r.earliestModified.IsZero() {
		r.check(ctx, idp.StepImport, nil, fmt.Sprintf("no user the import read carries meta.lastModified as an RFC 3339 dateTime (RFC 7643 §3.1); %s's delta aggregation filters on it (idp-traffic.md §1.4)", r.idp.Name))
		return
	}
	r.aggregate(ctx, prefix, r.earliestModified.Add(-time.Second).UTC().Format(time.RFC3339))
}

// aggregate sends one filtered aggregation (see aggregateFiltered) and
// judges its answer.
func (r *runner) aggregate(ctx context.Context, prefix, since string) {
	r.readList(ctx, idp.StepImport, r.idp.FilteredUsers(prefix, since), func(res *response, p *listPage) string {
		return r.filteredReason(res, p, prefix)
	})
}

// readList sends req, a read of a list, and records it under step: the
// status the IdP needs, a ListResponse (parseList), and then judge's reason
// on the page. It returns the page (nil when the answer is not one) and
// the reason.
func (r *runner) readList(ctx context.Context, step idp.Step, req idp.Request, judge func(*response, *listPage) string) (*response, *listPage, string) {
	res := r.send(ctx, step, req)
	reason := r.statusReason(step, res)
	var p *listPage
	if reason == "" {
		p, reason = parseList(res)
	}
	if reason == "" {
		reason = judge(res, p)
	}
	r.check(ctx, step, res, reason)
	return res, p, reason
}

// filteredReason checks a filtered aggregation's page against the run's
// users: each listed user the run knows must match the filter, and each
// provisioned user it selects must be listed when the answer fits on the
// page. userName is caseExact false (RFC 7643 §4.1.1), so sw ignores case
// (RFC 7644 §3.4.2.2).
func (r *runner) filteredReason(res *response, p *listPage, prefix string) string {
	selects := func(userName string) bool {
		return !r.idp.Import.StartsWith || strings.HasPrefix(strings.ToLower(userName), strings.ToLower(prefix))
	}
	listed := map[string]bool{}
	for k, u := range p.resources {
		listed[p.ids[k]] = true
		if name := str(u, "userName"); !selects(name) {
			return fmt.Sprintf("%s listed userName %q, which does not start with %q (RFC 7644 §3.4.2.2: sw)", res.req, name, prefix)
		}
	}
	if p.total > len(p.resources) {
		return ""
	}
	var missing []string
	for i := 0; i < r.dir.Users(); i++ {
		id := r.st.userID(i)
		if name := r.st.user(i).UserName; id != "" && !r.st.isDeleted(i) && selects(name) && !listed[id] {
			missing = append(missing, fmt.Sprintf("%s (id %s)", name, id))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("%s left out %d provisioned users the filter selects, the first %s; %s would never aggregate them (idp-traffic.md §1.4)", res.req, len(missing), missing[0], r.idp.Name)
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
		_, p, reason := r.readList(ctx, idp.StepImport, r.idp.ListPage(resource, start), func(_ *response, p *listPage) string {
			return r.pageReason(resource, start, size, p, seen, page)
		})
		if reason != "" {
			return
		}
		if resource == "Users" {
			r.noteModified(p.resources)
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

// noteModified keeps the earliest meta.lastModified of users an import
// page listed, for SailPoint's delta aggregation (aggregateFiltered).
func (r *runner) noteModified(users []map[string]any) {
	for _, u := range users {
		t, err := time.Parse(time.RFC3339Nano, str(u, "meta.lastModified"))
		if err == nil && (r.earliestModified.IsZero() || t.Before(r.earliestModified)) {
			r.earliestModified = t
		}
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
		if r.idp.Users.GetBeforePatch && r.idp.Users.Update == idp.Patch && !r.readBeforePatch(ctx, idp.StepUpdateUser, false, i) {
			return
		}
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

// readBeforePatch reads user i (group i when group is set) by the id the
// IdP cached from its create, as Entra does before changing it in a later
// cycle (idp-traffic.md §1.2 row 5: GET /Users/{id}; row 11: GET
// /Groups/{id}?excludedAttributes=members). It reports whether the read
// answered the resource; otherwise the PATCH of step is not sent, and the
// read's check says why: a 404 with a SCIM Error (its status the number 404
// or, as Entra's docs show it, the string "404") means the target no longer
// holds what it created.
func (r *runner) readBeforePatch(ctx context.Context, step idp.Step, group bool, i int) bool {
	read, req, id := idp.StepGetUser, idp.Request{}, ""
	if group {
		id = r.st.groupID(i)
		read, req = idp.StepGetGroup, r.idp.ReadGroup(id)
	} else {
		id = r.st.userID(i)
		req = r.idp.GetUser(id)
	}
	res := r.send(ctx, read, req)
	reason := r.readReason(read, res, group, id)
	r.check(ctx, read, res, reason)
	if reason != "" {
		r.rec.block(step, fmt.Sprintf("no PATCH was sent: %s reads the resource by id before changing it, and the read failed (see %s)", r.idp.Name, r.idp.CheckID(read)))
	}
	return reason == ""
}

// readReason judges a read by id before a PATCH (see readBeforePatch).
func (r *runner) readReason(step idp.Step, res *response, group bool, id string) string {
	kind, row := "user", "row 5"
	if group {
		kind, row = "group", "row 11"
	}
	if res.err == nil && res.status == http.StatusNotFound {
		status, ok := errorStatus(res.body)
		if !ok {
			return fmt.Sprintf("%s answered 404 without a SCIM Error body; %s needs 200 with the %s, or 404 with the Error schema (idp-traffic.md §1.2 %s, RFC 7644 §3.12)", res.req, r.idp.Name, kind, row)
		}
		return fmt.Sprintf("%s answered 404 (SCIM Error, status %s): the target no longer holds the %s it created with id %s, which %s caches from the create and uses for every later request (idp-traffic.md §1.2 rows 4 and %s), so it sends no PATCH%s",
			res.req, status, kind, id, r.idp.Name, strings.TrimPrefix(row, "row "), errorDetail(res.body))
	}
	if reason := r.statusReason(step, res); reason != "" {
		return reason
	}
	if _, reason := resourceReason(res); reason != "" {
		return reason
	}
	if group && strings.Contains(r.idp.Groups.GetQuery, "excludedAttributes=members") {
		m, _ := decode(res.body)
		if ms, ok := lookupKey(m, "members").([]any); ok && len(ms) > 0 {
			return fmt.Sprintf("%s answered the group with its %d members; excludedAttributes=members leaves them out (RFC 7644 §3.4.2.5), and %s never reads membership (idp-traffic.md §1.2 row 11, B10)", res.req, len(ms), r.idp.Name)
		}
	}
	return ""
}

// errorStatus returns the status of a SCIM Error body as it was sent (the
// JSON text: 404 or "404"; RFC 7644 §3.12 makes it a string, and the
// reference server's parser takes both), and whether body is one.
func errorStatus(body []byte) (string, bool) {
	var e scim.Error
	if json.Unmarshal(body, &e) != nil || e.Status == 0 {
		return "", false
	}
	m, _ := decode(body)
	return jsonText(lookupKey(m, "status")), true
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
		if k == 0 && r.idp.Users.DeactivateAdd {
			r.deactivateAdd(ctx, picks[k])
			return
		}
		r.setActive(ctx, idp.StepDeactivate, idp.StepDeactivate, picks[k], false)
	})
	r.deactivated = picks
	r.deactivatedAll = len(picks)
}

// deactivateAdd deactivates user i with op "Add" on the "active" path, the
// form Entra's deprovisioning PATCH also takes in field reports
// (idp-traffic.md §1.2 row 7, B4, rancher#54025):
// {"op":"Add","path":"active","value":"False"}. An add to a single-valued
// attribute replaces its value (RFC 7644 §3.5.2.1), so a target that takes
// only replace for active fails this check, which names B4.
func (r *runner) deactivateAdd(ctx context.Context, i int) {
	u := r.st.user(i)
	u.Active = false
	r.st.setUser(u)
	res := r.send(ctx, idp.StepDeactivateAdd, r.idp.DeactivateAdd(r.st.userID(i)))
	reason := r.statusReason(idp.StepDeactivateAdd, res)
	if reason != "" && res.err == nil && res.status != http.StatusTooManyRequests {
		reason += fmt.Sprintf("; %s also deprovisions with op \"Add\" on active (idp-traffic.md §1.2 row 7, B4, rancher#54025), and an add to a single-valued attribute replaces its value (RFC 7644 §3.5.2.1): a target that takes only replace for active leaves the user active", r.idp.Name)
	}
	r.check(ctx, idp.StepDeactivateAdd, res, reason)
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
		if r.idp.Groups.GetBeforePatch && r.idp.Groups.Update == idp.Patch && !r.readBeforePatch(ctx, idp.StepMembers, true, j) {
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
		if r.idp.Groups.GetBeforePatch && r.idp.Groups.Update == idp.Patch && !r.readBeforePatch(ctx, idp.StepMemberReadd, true, j) {
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
		r.renameAfterMembership(ctx, j)
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
		if r.idp.Groups.GetBeforePatch && r.idp.Groups.Update == idp.Patch && !r.readBeforePatch(ctx, idp.StepRenameGroup, true, j) {
			return
		}
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
//
// With users.reprovision: post (Okta, B15), a deactivated user comes back
// under a new userName: the lookup by that userName finds nothing, and the
// IdP POSTs the user with the externalId the deactivated resource still
// carries. A target that refuses a second resource with that externalId
// answers 409, the dead end of better-auth#11111; RFC 7643 §3.1 gives
// externalId no uniqueness, so an RFC target creates the user. Only a user
// in no group is played so, so that the end state does not hinge on the
// memberships of the resource left behind; when every deactivated user is
// in a group, the lookup form is played instead, with a note.
func (r *runner) reprovision(ctx context.Context) {
	i, post := r.deletedUser, false
	if i < 0 && len(r.deactivated) > 0 {
		k := 0
		if r.idp.Users.Reprovision == idp.ReprovisionPost {
			if g := r.groupless(r.deactivated); g >= 0 {
				k, post = g, true
			} else {
				r.note("reprovision: every deactivated user is in a group, so %s's fresh POST under a new userName (B15) was not sent; the user was looked up and linked instead", r.idp.Name)
			}
		}
		i = r.deactivated[k]
		r.deactivated = append(r.deactivated[:k:k], r.deactivated[k+1:]...)
	}
	if i < 0 {
		return
	}
	r.phase(ctx, "reprovision", 1, 1, func(int) { r.provisionAgain(ctx, i, post) })
}

// groupless returns the index in users of the first user in no live group,
// else -1.
func (r *runner) groupless(users []int) int {
	in := map[int]bool{}
	for _, j := range r.liveGroups() {
		for _, i := range r.st.groupMembers(j) {
			in[i] = true
		}
	}
	for k, i := range users {
		if !in[i] {
			return k
		}
	}
	return -1
}

// provisionAgain looks user i up and links or creates them; with post, the
// user comes back under a new userName and keeps its externalId (see
// reprovision).
func (r *runner) provisionAgain(ctx context.Context, i int, post bool) {
	u := r.st.user(i)
	u.Active = true
	if post {
		u = r.dir.Changed(u, directory.Rename)
	}
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
		if post {
			reason = fmt.Sprintf("%s answered 409 for a user returning under a new userName with the externalId %q of its deactivated resource, after the lookup found no user with this userName: a dead end, %s can never provision this user again (idp-traffic.md B15, better-auth#11111; RFC 7643 §3.1 gives externalId no uniqueness)%s",
				res.req, r.idp.UserExternalID(u), r.idp.Name, errorDetail(res.body))
		}
	}
	r.check(ctx, idp.StepReprovision, res, reason)
	r.st.setUser(u)
	if id != "" {
		r.st.undelete(i, id)
	}
}

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

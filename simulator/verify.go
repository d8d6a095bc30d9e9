package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/directory"
	"github.com/scimlab/scimlab/simulator/idp"
)

// maxDifferences caps the differences a report lists; a note counts the rest.
const maxDifferences = 1000

// maxMemberDiffs caps the member differences listed for one group.
const maxMemberDiffs = 10

// userView is the part of a user that linking and the end-state check compare.
type userView struct {
	userName, givenName, familyName, email, title string
}

func profileOf(u directory.User) userView {
	return userView{u.UserName, u.GivenName, u.FamilyName, u.Email, u.Title}
}

func fromResource(m map[string]any) userView {
	return userView{str(m, "userName"), str(m, "name.givenName"), str(m, "name.familyName"), workEmail(m), str(m, "title")}
}

// verify reads every user and group the IdP pushed back from the target and
// records each place where the target departs from the directory.
func (r *runner) verify(ctx context.Context) {
	users := make([][]reports.Difference, r.dir.Users())
	r.phase(ctx, "verify: users", len(users), r.conc, func(i int) { users[i] = r.verifyUser(ctx, i) })
	groups := make([][]reports.Difference, r.dir.Groups())
	r.phase(ctx, "verify: groups", len(groups), r.conc, func(j int) { groups[j] = r.verifyGroup(ctx, j) })
	total := 0
	for _, ds := range append(users, groups...) {
		for _, d := range ds {
			total++
			if len(r.diffs) < maxDifferences {
				r.diffs = append(r.diffs, d)
			}
		}
	}
	if total > maxDifferences {
		r.note("%d differences between the directory and the target; the report lists the first %d", total, maxDifferences)
	}
}

// diffText is the one-line form of a difference, for a check's reason.
func diffText(d reports.Difference) string {
	if d.Attribute == "" {
		return fmt.Sprintf("%s: want %s, got %s", d.Resource, d.Want, d.Got)
	}
	return fmt.Sprintf("%s: %s is %q, want %q", d.Resource, d.Attribute, d.Got, d.Want)
}

// read GETs a resource for the end-state check. The read-back is the
// simulator's own check of what the target holds, not a request of the
// IdP's cycle (it needs a group's members, which Entra never reads back:
// idp-traffic.md §1.2 row 11 and B10): it carries ownUserAgent and is left
// out of the request counts and latencies, like the clean-up. A throttled
// answer is asked again as the IdP would, so --time-scale applies to it.
func (r *runner) read(ctx context.Context, req idp.Request) *response {
	return r.c.do(ctx, opVerify, req)
}

// neverProvisioned records the end state of a resource the IdP never got an
// id for and the target does not show: a difference, or, when its lookup or
// create got no response (lost says what happened: "its create got no
// response (…)"), an outcome that shows nothing about what the target holds.
func (r *runner) neverProvisioned(ctx context.Context, what, lost string) []reports.Difference {
	d := reports.Difference{Resource: what, Want: "present", Got: "never provisioned (see the lookup and create checks)"}
	if lost == "" {
		return r.settle(ctx, nil, []reports.Difference{d})
	}
	d.Got = "never provisioned: " + lost
	if ctx.Err() == nil {
		r.rec.unanswered(idp.StepEndState, diffText(d))
	}
	return []reports.Difference{d}
}

// settle records a resource's end-state verdict: its first difference, or a pass.
func (r *runner) settle(ctx context.Context, res *response, diffs []reports.Difference) []reports.Difference {
	reason := ""
	if len(diffs) > 0 {
		reason = diffText(diffs[0])
		if len(diffs) > 1 {
			reason += fmt.Sprintf(" (and %d more)", len(diffs)-1)
		}
	}
	r.check(ctx, idp.StepEndState, res, reason)
	return diffs
}

// unconfirmed judges the end state of a user (group when group is set)
// the IdP has no id for: its create was rejected (a 200 for a 201, no id)
// or got no response, or its lookup failed (then no create was sent). The check judges what the
// target holds, not what the IdP was told: a resource the target created
// is read by the id its rejected answer carried, else looked up by name,
// as the IdP looks it up (idp-traffic.md §1.1 row 2, §1.2 row 3). It
// returns the read and the resource, or nil when the target does not show
// it; and done with the verdict already recorded when it could not tell.
func (r *runner) unconfirmed(ctx context.Context, group bool, i int, what, name string) (res *response, m map[string]any, diffs []reports.Difference, done bool) {
	lost := r.st.lostWhy(group, i)
	rid, rejected := r.st.rejected(group, i)
	if !rejected {
		// Its lookup got a wrong answer or none: no create was sent, and
		// what the target holds of that name may well not be the run's.
		return nil, nil, r.neverProvisioned(ctx, what, lost), true
	}
	endpoint := endpointOf(group)
	kind := kindOf(endpoint)
	if rid != "" {
		res = r.read(ctx, idp.Request{Method: http.MethodGet, Path: "/" + endpoint + "/" + url.PathEscape(rid)})
		if res.err == nil && res.status == http.StatusOK {
			if m, err := decode(res.body); err == nil {
				return res, m, nil, false
			}
		}
	} else {
		path, query := kind.Lookup(name)
		res = r.read(ctx, idp.Request{Method: http.MethodGet, Path: path, Query: query})
		if res.err == nil && res.status == http.StatusOK {
			if page, why := parseList(res); why == "" {
				for k, o := range page.resources {
					id := page.ids[k]
					ref := resourceRef{kind: endpoint, id: id}
					if got, _ := lookupKey(o, kind.Attr).(string); id == "" || !strings.EqualFold(got, name) || r.c.owned.isForeign(ref) {
						continue
					}
					// The run made it: the clean-up removes it.
					r.c.owned.adopt(ref, name)
					return res, o, nil, false
				}
			}
		}
	}
	if lost == "" && res.err != nil {
		lost = "its create was rejected, and the read-back got no response (" + res.err.Error() + ")"
	}
	return res, nil, r.neverProvisioned(ctx, what, lost), true
}

func (r *runner) verifyUser(ctx context.Context, i int) []reports.Difference {
	u := r.st.user(i)
	id := r.st.userID(i)
	deleted := r.st.isDeleted(i)
	what := "User " + u.UserName
	if id == "" {
		if deleted {
			return nil
		}
		res, m, diffs, done := r.unconfirmed(ctx, false, i, what, u.UserName)
		if done {
			return diffs
		}
		return r.settle(ctx, res, userDiffs(what, u, m))
	}
	res := r.read(ctx, r.idp.GetUser(id))
	if res.err != nil {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "readable", Got: res.err.Error()}})
	}
	if deleted {
		if res.status == http.StatusNotFound {
			return r.settle(ctx, res, nil)
		}
		return r.settle(ctx, res, []reports.Difference{{Resource: what + " (deleted)", Want: "404 (RFC 7644 §3.6)", Got: "GET answered " + strconv.Itoa(res.status)}})
	}
	if res.status != http.StatusOK {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "present", Got: fmt.Sprintf("GET /Users/%s answered %d", id, res.status)}})
	}
	m, err := decode(res.body)
	if err != nil {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "a JSON resource", Got: err.Error()}})
	}
	return r.settle(ctx, res, userDiffs(what, u, m))
}

// userDiffs compares the user the target holds, m, with u.
func userDiffs(what string, u directory.User, m map[string]any) []reports.Difference {
	var ds []reports.Difference
	cmp := func(attr, want, got string) {
		if want != got {
			ds = append(ds, reports.Difference{Resource: what, Attribute: attr, Want: want, Got: got})
		}
	}
	have := fromResource(m)
	cmp("userName", u.UserName, have.userName)
	if v := lookupKey(m, "active"); v != u.Active {
		ds = append(ds, reports.Difference{Resource: what, Attribute: "active", Want: strconv.FormatBool(u.Active), Got: jsonText(v)})
	}
	cmp("name.givenName", u.GivenName, have.givenName)
	cmp("name.familyName", u.FamilyName, have.familyName)
	cmp(`emails[type eq "work"].value`, u.Email, have.email)
	return ds
}

func (r *runner) verifyGroup(ctx context.Context, j int) []reports.Difference {
	id := r.st.groupID(j)
	gone := r.st.isGone(j)
	name := r.st.groupName(j)
	what := "Group " + name
	if id == "" {
		if gone {
			return nil
		}
		res, m, diffs, done := r.unconfirmed(ctx, true, j, what, name)
		if done {
			return diffs
		}
		// The IdP, with no id, added no member: the group holds none.
		return r.settle(ctx, res, r.groupDiffs(what, name, m, nil))
	}
	res := r.read(ctx, r.idp.GetGroup(id))
	if res.err != nil {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "readable", Got: res.err.Error()}})
	}
	if gone {
		if res.status == http.StatusNotFound {
			return r.settle(ctx, res, nil)
		}
		return r.settle(ctx, res, []reports.Difference{{Resource: what + " (deleted)", Want: "404 (RFC 7644 §3.6)", Got: "GET answered " + strconv.Itoa(res.status)}})
	}
	if res.status != http.StatusOK {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "present", Got: fmt.Sprintf("GET /Groups/%s answered %d", id, res.status)}})
	}
	m, err := decode(res.body)
	if err != nil {
		return r.settle(ctx, res, []reports.Difference{{Resource: what, Want: "a JSON resource", Got: err.Error()}})
	}
	return r.settle(ctx, res, r.groupDiffs(what, name, m, r.st.pushable(j)))
}

// groupDiffs compares the group the target holds, m, with the name and the
// members (user indexes) the IdP pushed.
func (r *runner) groupDiffs(what, name string, m map[string]any, members []int) []reports.Difference {
	var ds []reports.Difference
	if got := str(m, "displayName"); got != name {
		ds = append(ds, reports.Difference{Resource: what, Attribute: "displayName", Want: name, Got: got})
	}
	want := map[string]int{}
	for _, i := range members {
		want[r.st.userID(i)] = i
	}
	got := map[string]int{}
	list, _ := lookupKey(m, "members").([]any)
	for _, it := range list {
		o, _ := it.(map[string]any)
		v, _ := lookupKey(o, "value").(string)
		got[v]++
	}
	var memberDiffs []reports.Difference
	add := func(d reports.Difference) {
		d.Resource, d.Attribute = what, "members"
		memberDiffs = append(memberDiffs, d)
	}
	for _, i := range members {
		uid := r.st.userID(i)
		switch n := got[uid]; {
		case n == 0:
			add(reports.Difference{Want: fmt.Sprintf("%s (%s)", uid, r.st.user(i).UserName), Got: "absent"})
		case n > 1:
			add(reports.Difference{Want: uid + " once", Got: fmt.Sprintf("listed %d times", n)})
		}
	}
	var extra []string
	for v := range got {
		if _, ok := want[v]; !ok {
			extra = append(extra, v)
		}
	}
	sort.Strings(extra)
	for _, v := range extra {
		add(reports.Difference{Want: "absent", Got: v})
	}
	if len(memberDiffs) > maxMemberDiffs {
		n := len(memberDiffs) - maxMemberDiffs
		memberDiffs = append(memberDiffs[:maxMemberDiffs], reports.Difference{Resource: what, Attribute: "members", Want: fmt.Sprintf("%d members", len(want)), Got: fmt.Sprintf("%d members; %d more differences", len(list), n)})
	}
	return append(ds, memberDiffs...)
}

// edgeCases probes a userName that differs from an existing one only in
// case, and given names at and over common length limits. The IdP's own
// requests follow its sequence: a lookup before each create, a match linked
// and never POSTed (idp-traffic.md §1.1 rows 2 and 3, §1.2 rows 3 and 4).
// What the IdP would not send (a create of a userName its lookup found, a
// read-back of a user it just created) is scimlab's own, sent with its own
// User-Agent (scimlab-simulator/edge-probe, scimlab-simulator/verify) and
// left out of the request counts and latencies.
func (r *runner) edgeCases(ctx context.Context) {
	lengths := []int{255, 256, 1024}
	r.phase(ctx, "edge cases", 1+len(lengths), 1, func(k int) {
		if k > 0 {
			r.longValue(ctx, r.dir.LongName(lengths[k-1]), lengths[k-1])
			return
		}
		for i := 0; i < r.dir.Users(); i++ {
			if r.st.userID(i) != "" && !r.st.isDeleted(i) {
				r.caseTwin(ctx, r.dir.CaseTwin(r.st.user(i)))
				return
			}
		}
	})
}

// opEdgeProbe is the operation name of the edge-cases phase's own create
// of a case twin (see caseTwin).
const opEdgeProbe = "edge-probe"

// ownProbe labels a reason of scimlab's own edge probe.
func (r *runner) ownProbe(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf("scimlab's own probe (User-Agent %s; %s links the user its lookup found and sends no POST): %s", ownUserAgent(opEdgeProbe), r.idp.Name, reason)
}

// caseTwin: userName has caseExact=false (RFC 7643 §4.1.1), so the IdP's
// lookup in another case must find the user (RFC 7644 §3.4.2.2); the IdP
// then links it and sends no create. A lookup that finds nothing is
// followed by the IdP's create, as the IdP would send it, which must
// answer 409 with scimType uniqueness (RFC 7644 §3.3, idp-traffic.md B17).
// When the lookup found the user, that create is scimlab's own probe, sent
// with its own User-Agent and labelled so in the check's reason.
func (r *runner) caseTwin(ctx context.Context, twin directory.User) {
	res := r.send(ctx, idp.StepEdgeCases, r.idp.LookupUser(twin.UserName))
	found, _, reason := r.lookupResult(idp.StepLookupUser, res)
	if reason != "" {
		// No answer the IdP can act on: it sends nothing more.
		r.check(ctx, idp.StepEdgeCases, res, reason)
		return
	}
	create := r.idp.CreateUser(twin)
	label := func(reason string) string { return reason }
	if found != nil {
		r.check(ctx, idp.StepEdgeCases, res, "")
		res = r.c.do(ctx, opEdgeProbe, create)
		label = r.ownProbe
	} else {
		r.check(ctx, idp.StepEdgeCases, res, fmt.Sprintf("%s found nothing, but a user with this userName in another case exists; userName is caseExact=false (RFC 7643 §4.1.1), so %s creates a duplicate", res.req, r.idp.Name))
		res = r.send(ctx, idp.StepEdgeCases, create)
	}
	switch {
	case res.err != nil:
		reason = r.errReason(res)
	case res.status == http.StatusConflict:
		var e scim.Error
		reason = ""
		if json.Unmarshal(res.body, &e) != nil || e.ScimType != scim.Uniqueness {
			reason = fmt.Sprintf("%s answered 409 without scimType \"uniqueness\" (RFC 7644 §3.3; idp-traffic.md B17)%s", res.req, errorDetail(res.body))
		}
	case res.status == http.StatusCreated:
		reason = fmt.Sprintf("%s created a second user whose userName differs only in case; userName is caseExact=false and unique (RFC 7643 §4.1.1)", res.req)
	default:
		reason = fmt.Sprintf("%s answered %d; a duplicate userName needs 409 uniqueness (RFC 7644 §3.3)%s", res.req, res.status, errorDetail(res.body))
	}
	r.check(ctx, idp.StepEdgeCases, res, label(reason))
}

// longValue provisions a user whose given name is n characters long as the
// IdP does, lookup then create: the target must store it whole (201) or
// refuse it with a SCIM error (400 or 413), never cut it silently or fail
// with a 5xx. The read-back of a created user is scimlab's own (the IdP
// reads no user it just created), sent like the end-state read-back.
func (r *runner) longValue(ctx context.Context, u directory.User, n int) {
	res := r.send(ctx, idp.StepEdgeCases, r.idp.LookupUser(u.UserName))
	found, _, reason := r.lookupResult(idp.StepLookupUser, res)
	if reason == "" && found != nil {
		reason = fmt.Sprintf("%s found a user, but no user with this userName was provisioned; %s would link it instead of creating the user", res.req, r.idp.Name)
	}
	r.check(ctx, idp.StepEdgeCases, res, reason)
	if reason != "" {
		return
	}
	res = r.send(ctx, idp.StepEdgeCases, r.idp.CreateUser(u))
	switch {
	case res.err != nil:
		reason = r.errReason(res)
	case res.status == http.StatusCreated:
		id, why := resourceReason(res)
		reason = why
		if id != "" {
			res = r.read(ctx, r.idp.GetUser(id))
			if reason = r.statusReason(idp.StepGetUser, res); reason == "" {
				m, err := decode(res.body)
				if got := str(m, "name.givenName"); err != nil || got != u.GivenName {
					reason = fmt.Sprintf("a %d-character givenName was accepted with 201 but reads back as %d characters; a target must refuse a value it cannot store, not cut it", n, utf8.RuneCountInString(got))
				}
			}
		}
	case res.status == http.StatusBadRequest || res.status == http.StatusRequestEntityTooLarge:
		var e scim.Error
		if json.Unmarshal(res.body, &e) != nil || e.Status == 0 {
			reason = fmt.Sprintf("%s refused a %d-character givenName with %d but without a SCIM Error body (RFC 7644 §3.12)", res.req, n, res.status)
		}
	default:
		reason = fmt.Sprintf("%s answered %d to a %d-character givenName; it needs 201, or 400 with a SCIM Error (RFC 7644 §3.12)%s", res.req, res.status, n, errorDetail(res.body))
	}
	r.check(ctx, idp.StepEdgeCases, res, reason)
}

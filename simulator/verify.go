package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
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
// id for: a difference, or, when its lookup or create got no response (lost),
// an outcome that shows nothing about what the target holds.
func (r *runner) neverProvisioned(ctx context.Context, what string, lost bool) []reports.Difference {
	d := reports.Difference{Resource: what, Want: "present", Got: "never provisioned (see the lookup and create checks)"}
	if !lost {
		return r.settle(ctx, nil, []reports.Difference{d})
	}
	d.Got = "never provisioned: its lookup or create got no response"
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

func (r *runner) verifyUser(ctx context.Context, i int) []reports.Difference {
	u := r.st.user(i)
	id := r.st.userID(i)
	deleted := r.st.isDeleted(i)
	what := "User " + u.UserName
	if id == "" {
		if deleted {
			return nil
		}
		return r.neverProvisioned(ctx, what, r.st.isLost(false, i))
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
	return r.settle(ctx, res, ds)
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
		return r.neverProvisioned(ctx, what, r.st.isLost(true, j))
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
	var ds []reports.Difference
	if got := str(m, "displayName"); got != name {
		ds = append(ds, reports.Difference{Resource: what, Attribute: "displayName", Want: name, Got: got})
	}
	want := map[string]int{}
	for _, i := range r.st.pushable(j) {
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
	for _, i := range r.st.pushable(j) {
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
	return r.settle(ctx, res, append(ds, memberDiffs...))
}

// edgeCases probes a userName that differs from an existing one only in
// case, and given names at and over common length limits.
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

// caseTwin: userName has caseExact=false (RFC 7643 §4.1.1), so a lookup in
// another case must find the user (RFC 7644 §3.4.2.2) and a create must
// answer 409 with scimType uniqueness (RFC 7644 §3.3, idp-traffic.md B17).
func (r *runner) caseTwin(ctx context.Context, twin directory.User) {
	res := r.send(ctx, idp.StepEdgeCases, r.idp.LookupUser(twin.UserName))
	found, _, reason := r.lookupResult(idp.StepLookupUser, res)
	if reason == "" && found == nil {
		reason = fmt.Sprintf("%s found nothing, but a user with this userName in another case exists; userName is caseExact=false (RFC 7643 §4.1.1), so the IdP will create a duplicate", res.req)
	}
	r.check(ctx, idp.StepEdgeCases, res, reason)
	res = r.send(ctx, idp.StepEdgeCases, r.idp.CreateUser(twin))
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
	r.check(ctx, idp.StepEdgeCases, res, reason)
}

// longValue creates a user whose given name is n characters long: the target
// must store it whole (201) or refuse it with a SCIM error (400 or 413),
// never cut it silently or fail with a 5xx.
func (r *runner) longValue(ctx context.Context, u directory.User, n int) {
	res := r.send(ctx, idp.StepEdgeCases, r.idp.CreateUser(u))
	reason := ""
	switch {
	case res.err != nil:
		reason = r.errReason(res)
	case res.status == http.StatusCreated:
		id, why := resourceReason(res)
		reason = why
		if id != "" {
			res = r.send(ctx, idp.StepEdgeCases, r.idp.GetUser(id))
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

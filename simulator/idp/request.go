package idp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/simulator/directory"
)

// Request is one HTTP request an IdP sends, relative to the target's base
// URL. Query is already percent-encoded; Body is nil for requests without one.
type Request struct {
	Method string
	Path   string
	Query  string
	Body   []byte
}

// String returns "METHOD /path?query" for logs and errors.
func (r Request) String() string {
	if r.Query == "" {
		return r.Method + " " + r.Path
	}
	return r.Method + " " + r.Path + "?" + r.Query
}

// Member is a group member as the IdP names it: the target's user id and,
// for IdPs that send it, a display value.
type Member struct {
	ID      string
	Display string
}

// op is one PATCH operation (RFC 7644 §3.5.2). A nil Value is left out, as in
// a filtered remove.
type op struct {
	Op    string
	Path  string
	Value any
}

func (o op) object() obj {
	out := obj{{"op", o.Op}}
	if o.Path != "" {
		out = append(out, field{"path", o.Path})
	}
	if o.Value != nil {
		out = append(out, field{"value", o.Value})
	}
	return out
}

// patchBody is a PatchOp (RFC 7644 §3.5.2) holding ops, in order.
func patchBody(ops ...op) []byte {
	list := make([]any, len(ops))
	for i, o := range ops {
		list[i] = o.object()
	}
	return marshal(obj{{"schemas", []string{scim.PatchOpSchema}}, {"Operations", list}})
}

// style holds the PATCH knobs every dialect shares.
type style struct{ p *Profile }

// op returns an operation name in the IdP's casing (Entra capitalises, B3).
func (s style) op(name string) string {
	if s.p.Patch.OpCase == OpCapitalised {
		return strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

// boolean returns b as the IdP sends it in a PATCH value: a JSON boolean, or
// Entra's "True"/"False" string (B2, §1.2 row 7).
func (s style) boolean(b bool) any {
	if s.p.Patch.Booleans == BoolString {
		if b {
			return "True"
		}
		return "False"
	}
	return b
}

// attrChange is one attribute an update touches.
type attrChange struct {
	path     string
	old, new string
	// filtered marks a filtered multi-valued path, which keeps its path form
	// even with attributes: merged (§1.2 row 6f).
	filtered bool
}

// attributeOps sends one op per changed attribute: "replace", or "add" for
// an attribute set for the first time (Entra, §1.2 row 6; RFC 7644
// §3.5.2.1 and §3.5.2.3). With attributes: merged (Entra's
// aadOptscim062020 flag), filtered paths and first-time adds keep their own
// ops and every other change goes into one path-less replace whose value has
// dotted, URN-qualified keys (§1.2 row 6f, B1).
func (s style) attributeOps(old, new directory.User) []op {
	changes := []attrChange{
		{path: "userName", old: old.UserName, new: new.UserName},
		{path: `emails[type eq "work"].value`, old: old.Email, new: new.Email, filtered: true},
		{path: "name.givenName", old: old.GivenName, new: new.GivenName},
		{path: "name.familyName", old: old.FamilyName, new: new.FamilyName},
		{path: "name.formatted", old: old.Formatted(), new: new.Formatted()},
		{path: "title", old: old.Title, new: new.Title},
		{path: scim.EnterpriseUserSchema + ":department", old: old.Department, new: new.Department},
	}
	var ops []op
	var merged obj
	for _, c := range changes {
		switch {
		case c.old == c.new:
		case c.old == "":
			ops = append(ops, op{Op: s.op("add"), Path: c.path, Value: c.new})
		case c.filtered || s.p.Patch.Attributes != AttrsMerged:
			ops = append(ops, op{Op: s.op("replace"), Path: c.path, Value: c.new})
		default:
			merged = append(merged, field{c.path, c.new})
		}
	}
	if len(merged) > 0 {
		ops = append(ops, op{Op: s.op("replace"), Value: merged})
	}
	return ops
}

// activePath replaces the "active" path (Entra §1.2 rows 7 and 8; RFC 7644
// §3.5.2.3).
func (s style) activePath(active bool) op {
	return op{Op: s.op("replace"), Path: "active", Value: s.boolean(active)}
}

// displayNamePath replaces a group's "displayName" path (Entra §1.2 row 13;
// RFC 7644 §3.5.2.3).
func (s style) displayNamePath(name string) op {
	return op{Op: s.op("replace"), Path: "displayName", Value: name}
}

// filterString quotes v as a filter comparison value (RFC 7644 §3.4.2.2: a
// JSON string).
func filterString(v string) string { return string(marshal(v)) }

// queryEscape percent-encodes a query value with %20 for spaces, as the IdPs'
// documented queries show (idp-traffic.md §1.1 row 2), or with "+" when
// spaces is "+" (form encoding, OneLogin's log, §1.6).
func queryEscape(v, spaces string) string {
	q := url.QueryEscape(v)
	if spaces == "+" {
		return q
	}
	return strings.ReplaceAll(q, "+", "%20")
}

// expand fills a query template: each {name} becomes the value, quoted as a
// filter string without its outer quotes (the template holds %22) and
// percent-encoded with spaces as the profile encodes them.
func (p *Profile) expand(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		q := filterString(v)
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", queryEscape(q[1:len(q)-1], p.Lookup.Spaces))
	}
	return tmpl
}

func resourcePath(kind, id string) string { return "/" + kind + "/" + url.PathEscape(id) }

// TestConnection returns the requests of the admin's "Test Connection";
// guid fills {guid} in the probes. A probe that creates a test resource
// (Probe.Create) has no request here: the simulator builds it with
// CreateUser or CreateGroup.
func (p *IdP) TestConnection(guid string) []Request {
	out := make([]Request, len(p.Profile.TestConnection))
	for i, pr := range p.Profile.TestConnection {
		out[i] = Request{Method: pr.Method, Path: pr.Path, Query: p.expand(pr.Query, map[string]string{"guid": guid})}
	}
	return out
}

// LookupUser returns the lookup the IdP sends before creating a user.
func (p *IdP) LookupUser(userName string) Request {
	return Request{Method: "GET", Path: "/Users", Query: p.expand(p.Lookup.Users, map[string]string{"userName": userName})}
}

// LookupGroup returns the lookup the IdP sends before creating a group.
// For an IdP that lists groups instead (Lookup.ListGroups), see GroupsPage.
func (p *IdP) LookupGroup(displayName string) Request {
	return Request{Method: "GET", Path: "/Groups", Query: p.expand(p.Lookup.Groups, map[string]string{"displayName": displayName})}
}

// GroupsPage returns one page of the group listing an IdP reads to find a
// group by displayName (Lookup.ListGroups; PingFederate, §1.3): from
// startIndex, with count when the profile sets one.
func (p *IdP) GroupsPage(startIndex int) Request {
	q := "startIndex=" + strconv.Itoa(startIndex)
	if n := p.Lookup.ListGroups.Count; n > 0 {
		q += "&count=" + strconv.Itoa(n)
	}
	return Request{Method: "GET", Path: "/Groups", Query: q}
}

// UserExternalID returns the externalId the IdP sends for u.
func (p *Profile) UserExternalID(u directory.User) string {
	switch p.ExternalID.Users {
	case "oktaId":
		return u.OktaID
	case "mailNickname":
		return u.MailNickname
	case "objectId":
		return u.ObjectID
	}
	return ""
}

// GroupExternalID returns the externalId the IdP sends for g.
func (p *Profile) GroupExternalID(g directory.Group) string {
	switch p.ExternalID.Groups {
	case "oktaId":
		return g.OktaID
	case "objectId":
		return g.ObjectID
	}
	return ""
}

// CreateUser returns the POST that creates u.
func (p *IdP) CreateUser(u directory.User) Request {
	return Request{Method: "POST", Path: "/Users", Body: p.dialect.CreateUser(u, p.UserExternalID(u))}
}

// GetUser returns the read of one user.
func (p *IdP) GetUser(id string) Request {
	return Request{Method: "GET", Path: resourcePath("Users", id)}
}

// UpdateUser returns the request that turns old into new: a PATCH, for
// GetPut IdPs a PUT of readBack (the user as GetUser returned it) with new's
// values merged in, or for Put IdPs a PUT of new as the IdP holds it.
func (p *IdP) UpdateUser(id string, old, new directory.User, readBack []byte) (Request, error) {
	if p.Users.Update != Patch {
		b, err := p.dialect.PutUser(readBack, new)
		return Request{Method: "PUT", Path: resourcePath("Users", id), Body: b}, err
	}
	ops := p.dialect.PatchUser(old, new)
	if len(ops) == 0 {
		return Request{}, ErrNoChange
	}
	return Request{Method: "PATCH", Path: resourcePath("Users", id), Body: patchBody(ops...)}, nil
}

// ErrNoChange is returned by UpdateUser when old and new differ in nothing
// the IdP sends, so it sends no request.
var ErrNoChange = errors.New("nothing to update")

// SetActive returns the request that deactivates or reactivates u (u.Active
// is the new state): a PATCH, or a PUT (of readBack for GetPut IdPs).
func (p *IdP) SetActive(id string, u directory.User, readBack []byte) (Request, error) {
	if p.Users.Activation != Patch {
		b, err := p.dialect.PutUser(readBack, u)
		return Request{Method: "PUT", Path: resourcePath("Users", id), Body: b}, err
	}
	return Request{Method: "PATCH", Path: resourcePath("Users", id), Body: patchBody(p.dialect.Activation(u.Active))}, nil
}

// DeactivateAdd returns the deactivation PATCH whose op is "add" on the
// "active" path, in the profile's casing and boolean form: Entra's
// {"op":"Add","path":"active","value":"False"} (§1.2 row 7, B4). RFC 7644
// §3.5.2.1: an add to a single-valued attribute replaces its value.
func (p *IdP) DeactivateAdd(id string) Request {
	s := style{&p.Profile}
	return Request{Method: "PATCH", Path: resourcePath("Users", id), Body: patchBody(op{Op: s.op("add"), Path: "active", Value: s.boolean(false)})}
}

// DeleteUser returns the DELETE of one user.
func (p *IdP) DeleteUser(id string) Request {
	return Request{Method: "DELETE", Path: resourcePath("Users", id)}
}

// CreateGroup returns the POST that creates g. IdPs create groups empty and
// add members afterwards (§1.1 row 10, §1.2 row 12).
func (p *IdP) CreateGroup(g directory.Group) Request {
	return Request{Method: "POST", Path: "/Groups", Body: p.dialect.CreateGroup(g, p.GroupExternalID(g))}
}

// GetGroup returns the read of one group.
func (p *IdP) GetGroup(id string) Request {
	return Request{Method: "GET", Path: resourcePath("Groups", id)}
}

// ReadGroup returns the read of one group the IdP sends before a PATCH of
// a later cycle, with the profile's query (Entra:
// excludedAttributes=members, §1.2 row 11).
func (p *IdP) ReadGroup(id string) Request {
	return Request{Method: "GET", Path: resourcePath("Groups", id), Query: p.Groups.GetQuery}
}

// DeleteGroup returns the DELETE of one group.
func (p *IdP) DeleteGroup(id string) Request {
	return Request{Method: "DELETE", Path: resourcePath("Groups", id)}
}

// RenameGroup returns the PATCH that renames a group.
func (p *IdP) RenameGroup(id, name string) Request {
	return Request{Method: "PATCH", Path: resourcePath("Groups", id), Body: patchBody(p.dialect.RenameGroup(id, name))}
}

// PutGroup returns the PUT of a whole group (§1.1 row 12c).
func (p *IdP) PutGroup(id, name string, members []Member) Request {
	return Request{Method: "PUT", Path: resourcePath("Groups", id), Body: p.dialect.PutGroup(name, members)}
}

// ReplaceMembers returns the PATCH that replaces a group's whole member list
// (§1.1 row 12b).
func (p *IdP) ReplaceMembers(id string, all []Member) Request {
	s := style{&p.Profile}
	o := op{Op: s.op("replace"), Path: "members", Value: p.members(all, false)}
	return Request{Method: "PATCH", Path: resourcePath("Groups", id), Body: patchBody(o)}
}

// MembershipPatches returns the PATCHes that add and remove members, at most
// Groups.BatchSize changes each: removes and adds in one request for IdPs
// that mix them (§1.1 row 12), else the adds and then the removes.
func (p *IdP) MembershipPatches(id string, add, remove []Member) []Request {
	var out []Request
	emit := func(ops []op) {
		if len(ops) > 0 {
			out = append(out, Request{Method: "PATCH", Path: resourcePath("Groups", id), Body: patchBody(ops...)})
		}
	}
	n := p.Groups.BatchSize
	if p.Groups.MixedMembership {
		for len(add)+len(remove) > 0 {
			r := remove[:min(n, len(remove))]
			a := add[:min(n-len(r), len(add))]
			emit(append(p.removeOps(r), p.addOps(a)...))
			remove, add = remove[len(r):], add[len(a):]
		}
		return out
	}
	for len(add) > 0 {
		a := add[:min(n, len(add))]
		emit(p.addOps(a))
		add = add[len(a):]
	}
	for len(remove) > 0 {
		r := remove[:min(n, len(remove))]
		emit(p.removeOps(r))
		remove = remove[len(r):]
	}
	return out
}

func (p *IdP) members(ms []Member, remove bool) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = p.dialect.Member(m, remove)
	}
	return out
}

func (p *IdP) addOps(ms []Member) []op {
	if len(ms) == 0 {
		return nil
	}
	s := style{&p.Profile}
	return []op{{Op: s.op("add"), Path: "members", Value: p.members(ms, false)}}
}

// removeOps removes members with a filtered path each (RFC 7644 §3.5.2.2),
// or with Entra's unfiltered value list (B6).
func (p *IdP) removeOps(ms []Member) []op {
	if len(ms) == 0 {
		return nil
	}
	s := style{&p.Profile}
	if p.Patch.MemberRemove == RemoveValueList {
		return []op{{Op: s.op("remove"), Path: "members", Value: p.members(ms, true)}}
	}
	out := make([]op, len(ms))
	for i, m := range ms {
		out[i] = op{Op: s.op("remove"), Path: "members[value eq " + filterString(m.ID) + "]"}
	}
	return out
}

// ListPage returns one page of an import walk: count=PageSize from startIndex
// (§1.1 row 15). resource is "Users" or "Groups".
func (p *IdP) ListPage(resource string, startIndex int) Request {
	size := 100
	if p.Import != nil {
		size = p.Import.PageSize
	}
	return Request{Method: "GET", Path: "/" + resource, Query: "startIndex=" + strconv.Itoa(startIndex) + "&count=" + strconv.Itoa(size)}
}

// FilteredUsers returns SailPoint's aggregation of the users an admin's
// filter selects, userName sw "<prefix>" (§1.4, SP-AGG), or with since set
// its delta aggregation: meta.lastModified gt "<since>", and the admin's
// filter joined by "and" when the profile has one (§1.4). Both read the
// first page, startIndex=1&count=PageSize.
func (p *IdP) FilteredUsers(prefix, since string) Request {
	var clauses []string
	if since != "" {
		clauses = append(clauses, "meta.lastModified gt "+filterString(since))
	}
	if p.Import.StartsWith {
		clauses = append(clauses, "userName sw "+filterString(prefix))
	}
	q := "filter=" + queryEscape(strings.Join(clauses, " and "), p.Lookup.Spaces) + "&" + p.ListPage("Users", 1).Query
	return Request{Method: "GET", Path: "/Users", Query: q}
}

// CheckID returns the stable ID of step's check, e.g. "SIM-OKTA-CREATE-USER".
func (p *IdP) CheckID(step Step) string {
	return p.CheckPrefix + "-" + strings.ToUpper(string(step))
}

// Describe returns a one-line summary of the profile for reports.
func (p *IdP) Describe() string {
	return fmt.Sprintf("%s (%s): %s", p.Name, p.Family, p.Title)
}

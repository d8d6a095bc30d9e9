package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// The protocol surface of the profile (profile.Endpoints, profile.Rules):
// which endpoints and methods exist, which query parameters and filters a
// list accepts, how many member changes or PATCH operations one request
// may carry, what DELETE does, and the leniencies that rewrite a request
// before its handler sees it. Everything here runs before the handler of
// the route (run), for ordinary requests and for the operations of /Bulk
// alike; a profile that sets none of these knobs costs nothing.

// withProfile wraps the SCIM handler with what the profile adds around every
// request: its faults (faults.go) and the target's response headers.
func (s *Server) withProfile(next http.Handler) http.Handler {
	h := s.withFaults(next)
	e := s.prof.Endpoints
	if e.ContentType == scim.MediaType && e.RequestIDHeader == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.RequestIDHeader != "" {
			w.Header().Set(e.RequestIDHeader, newID())
		}
		if e.ContentType != scim.MediaType {
			w = &mediaTypeWriter{ResponseWriter: w, mediaType: e.ContentType}
		}
		h.ServeHTTP(w, r)
	})
}

// mediaTypeWriter answers with another JSON media type than
// application/scim+json (AWS answers application/json).
type mediaTypeWriter struct {
	http.ResponseWriter
	mediaType string
	done      bool
}

func (w *mediaTypeWriter) WriteHeader(code int) {
	if !w.done {
		w.done = true
		if h := w.Header(); h.Get("Content-Type") == scim.MediaType {
			h.Set("Content-Type", w.mediaType)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *mediaTypeWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *mediaTypeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// run serves c with h after the profile's surface rules.
func (s *Server) run(c *call, rt *route, h handlerFunc) error {
	if (rt == routeUser || rt == routeGroup) && !store.Storable(c.id) {
		// Not valid UTF-8, or a NUL: no resource can have that id.
		return s.notFound(s.kindOf(c), c.id)
	}
	done, err := s.surface(c, rt)
	if done || err != nil {
		return err
	}
	return h(s, c)
}

// surface applies the profile's protocol surface to a request that matched
// rt. It reports whether it answered the request itself.
func (s *Server) surface(c *call, rt *route) (bool, error) {
	p := s.prof
	m := c.r.Method
	if p.Endpoints.RequireUserAgent && !c.inBulk && strings.TrimSpace(c.r.Header.Get("User-Agent")) == "" {
		return true, errorf(http.StatusBadRequest, "", "a User-Agent header is required by this server (profile %s)", p.Name)
	}
	switch rt {
	case routeBulk:
		if !p.Bulk.Supported {
			return true, s.unsupported(c, rt, m, "/Bulk is not supported (ServiceProviderConfig bulk.supported is false)")
		}
		return false, nil
	case routeMe:
		if !p.Endpoints.Me {
			return true, s.unsupported(c, rt, m, "/Me is not supported by this server")
		}
		if m == http.MethodPatch && !p.Patch {
			return true, s.unsupported(c, rt, m, "PATCH is not supported (ServiceProviderConfig patch.supported is false)")
		}
		return false, nil
	case routeRootSrch, routeUserSrch, routeGroupSrch:
		if !p.Endpoints.Search {
			return true, s.unsupported(c, rt, m, "POST …/.search is not supported by this server; use GET with query parameters")
		}
		return false, s.checkList(c, rt)
	case routeUsers, routeGroups:
		if m == http.MethodPost {
			if !p.Rules(s.kindOf(c).name).Create {
				return true, s.unsupported(c, rt, m, "creating a "+s.kindOf(c).name+" is not offered by this server")
			}
			return s.checkWrite(c, rt)
		}
		return false, s.checkList(c, rt)
	case routeUser, routeGroup:
		k := s.kindOf(c)
		r := p.Rules(k.name)
		switch {
		case m == http.MethodPut && !r.Replace:
			return true, s.unsupported(c, rt, m, "replacing a "+k.name+" with PUT is not offered by this server; use PATCH")
		case m == http.MethodPatch && !p.Patch:
			return true, s.unsupported(c, rt, m, "PATCH is not supported (ServiceProviderConfig patch.supported is false)")
		case m == http.MethodDelete && r.Delete == profile.Refuse:
			return true, s.unsupported(c, rt, m, "deleting a "+k.name+" is not offered by this server")
		}
		if k == s.users && p.Users.Inactive == profile.NotFound {
			if err := s.hideInactive(c, c.id); err != nil {
				return true, err
			}
		}
		if m == http.MethodDelete && r.Delete == profile.Deactivate {
			return true, s.deactivate(c, c.id)
		}
		if m == http.MethodPut || m == http.MethodPatch {
			return s.checkWrite(c, rt)
		}
		return false, nil
	}
	return false, nil
}

// unsupported answers a request for something the profile does not offer
// with the profile's unsupportedStatus; a 405 lists the methods the route
// still offers in Allow (RFC 9110 §15.5.6).
func (s *Server) unsupported(c *call, rt *route, method, detail string) error {
	st := s.prof.Endpoints.UnsupportedStatus
	if st == http.StatusMethodNotAllowed {
		c.w.Header().Set("Allow", s.allowed(c, rt, method))
	}
	return scim.New(st, "", detail+" (profile "+s.prof.Name+")")
}

// allowed lists, for the Allow header of a 405 (RFC 9110 §10.2.1), the
// methods rt serves that the profile offers, leaving out except (the
// method refused). Whatever method was refused, the list is the same, and
// it may be empty: the profile offers nothing there (aws /Bulk).
func (s *Server) allowed(c *call, rt *route, except string) string {
	var allow []string
	for _, m := range strings.Split(rt.allow, ", ") {
		if m != except && m != "" && s.offers(c, rt, m) {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

// orNone names an empty method list in an error's detail.
func orNone(allow string) string {
	if allow == "" {
		return "none"
	}
	return allow
}

// offers reports whether the profile offers method on rt.
func (s *Server) offers(c *call, rt *route, method string) bool {
	p := s.prof
	switch rt {
	case routeBulk:
		return p.Bulk.Supported
	case routeMe:
		return p.Endpoints.Me
	case routeRootSrch, routeUserSrch, routeGroupSrch:
		return p.Endpoints.Search
	case routeUsers, routeGroups:
		return method != http.MethodPost || p.Rules(s.kindOf(c).name).Create
	case routeUser, routeGroup:
		r := p.Rules(s.kindOf(c).name)
		switch method {
		case http.MethodPut:
			return r.Replace
		case http.MethodPatch:
			return p.Patch
		case http.MethodDelete:
			return r.Delete != profile.Refuse
		}
	}
	return true
}

// hideInactive answers 404 for a user whose active is false (Atlassian: a
// deactivated user is 404 on every later operation).
func (s *Server) hideInactive(c *call, id string) error {
	r, err := s.st.Get(c.r.Context(), "User", id, false)
	if errors.Is(err, store.ErrNotFound) {
		return nil // the handler answers 404 itself
	}
	if err != nil {
		return err
	}
	if r.Doc["active"] == false {
		return errorf(http.StatusNotFound, "", "User %s not found (it is deactivated; profile %s)", truncate(id, 100), s.prof.Name)
	}
	return nil
}

// deactivate serves DELETE /Users/{id} under a profile whose DELETE
// deactivates: active becomes false and the user stays (Slack, Atlassian).
func (s *Server) deactivate(c *call, id string) error {
	pre := s.precondition(c)
	_, err := s.st.Update(c.r.Context(), "User", id, 0, func(_ store.Tx, r *store.Resource) error {
		if err := pre.check(r.Version); err != nil {
			return err
		}
		if r.Doc["active"] == false {
			return store.ErrUnchanged
		}
		doc := make(map[string]any, len(r.Doc)+1)
		for k, v := range r.Doc {
			doc[k] = v
		}
		doc["active"] = false
		r.Doc = doc
		return nil
	})
	s.cache.invalidate("User", id)
	if err != nil {
		return s.updateErr(s.users, id, nil, err)
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// listKinds returns the resource types a list or search route searches.
func (s *Server) listKinds(rt *route) []*resourceKind {
	switch rt {
	case routeUsers, routeUserSrch:
		return []*resourceKind{s.users}
	case routeGroups, routeGroupSrch:
		return []*resourceKind{s.groups}
	}
	return s.kinds
}

// listParamNames are the optional list parameters a profile may refuse or
// ignore, with the profile.Params field each reads.
var listParamNames = []string{"startIndex", "count", "attributes", "excludedAttributes", "sortBy"}

func paramPolicy(pr profile.Params, name string) string {
	switch name {
	case "startIndex":
		return pr.StartIndex
	case "count":
		return pr.Count
	case "attributes":
		return pr.Attributes
	case "excludedAttributes":
		return pr.ExcludedAttributes
	case "sortBy":
		return pr.SortBy
	}
	return profile.Supported
}

// checkList applies the profile's parameter and filter rules to a list (GET
// /Users, /Groups) or search (POST …/.search) request: a refused parameter
// is 400 invalidValue, an ignored one is removed, and a filter outside the
// rules is 400 invalidFilter (RFC 7644 §3.4.2.2: "the filter … operator is
// unsupported").
func (s *Server) checkList(c *call, rt *route) error {
	kinds := s.listKinds(rt)
	plain := true
	for _, k := range kinds {
		r := s.prof.Rules(k.name)
		for _, n := range listParamNames {
			if pol := paramPolicy(r.Params, n); pol != profile.Supported && !(n == "sortBy" && pol == profile.Ignore) {
				plain = false
			}
		}
		if len(r.Filter.Attributes) > 0 || len(r.Filter.Operators) > 0 || !r.Filter.And || !r.Filter.Or || !r.Filter.Not || !r.Filter.ValuePaths {
			plain = false
		}
	}
	if plain {
		return nil
	}
	policy := func(name string) string {
		// At the root a parameter must be refused for every type to be refused.
		out := ""
		for _, k := range kinds {
			pol := paramPolicy(s.prof.Rules(k.name).Params, name)
			if out == "" || pol == profile.Supported || (pol == profile.Ignore && out == profile.Reject) {
				out = pol
			}
		}
		return out
	}
	what := "/" + kinds[0].endpoint
	if len(kinds) > 1 {
		what = "the server root"
	}
	refuse := func(name string) error {
		return errorf(http.StatusBadRequest, scim.InvalidValue, "the %s parameter is not supported on %s by this server (profile %s)", name, what, s.prof.Name)
	}
	var filterText string
	if c.r.Method == http.MethodGet {
		q := c.r.URL.Query()
		changed := false
		for _, n := range listParamNames {
			if _, ok := q[n]; !ok {
				continue
			}
			switch policy(n) {
			case profile.Reject:
				return refuse(n)
			case profile.Ignore:
				q.Del(n)
				if n == "sortBy" {
					q.Del("sortOrder")
				}
				changed = true
			}
		}
		if changed {
			c.r.URL.RawQuery = q.Encode()
		}
		filterText = q.Get("filter")
	} else {
		body, err := s.peekBody(c)
		if err != nil {
			return err
		}
		var req map[string]json.RawMessage
		if json.Unmarshal(body, &req) != nil {
			return nil // the handler explains
		}
		changed := false
		for key := range req {
			for _, n := range listParamNames {
				if !strings.EqualFold(key, n) {
					continue
				}
				switch policy(n) {
				case profile.Reject:
					return refuse(n)
				case profile.Ignore:
					delete(req, key)
					changed = true
				}
			}
			if strings.EqualFold(key, "filter") {
				json.Unmarshal(req[key], &filterText)
			}
		}
		if changed {
			b, err := json.Marshal(req)
			if err != nil {
				return err
			}
			s.replaceBody(c, b)
		}
	}
	if strings.TrimSpace(filterText) == "" {
		return nil
	}
	e, err := filter.Parse(filterText)
	if err != nil {
		return nil // the handler answers invalidFilter with the position
	}
	var firstErr error
	for _, k := range kinds {
		err := s.checkFilter(k, s.prof.Rules(k.name).Filter, e)
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// checkFilter checks a filter against the rules of a resource type.
func (s *Server) checkFilter(k *resourceKind, fr profile.FilterRules, e filter.Expr) error {
	bad := func(format string, args ...any) error {
		return scim.New(http.StatusBadRequest, scim.InvalidFilter, fmt.Sprintf(format, args...)+fmt.Sprintf(" (profile %s)", s.prof.Name))
	}
	attrOK := func(a filter.AttrPath) error {
		if len(fr.Attributes) == 0 {
			return nil
		}
		ref, err := profile.ResolvePath(k.rt, a.String())
		if err != nil {
			return nil // filter.Validate in the handler names it
		}
		if _, ok := profile.Covers(fr.Attributes, ref.Path); ok {
			return nil
		}
		return bad("filtering %s on %s is not supported; filterable attributes: %s", k.endpoint, ref.Path, strings.Join(fr.Attributes, ", "))
	}
	var walk func(e filter.Expr) error
	walk = func(e filter.Expr) error {
		switch e := e.(type) {
		case *filter.Compare:
			if len(fr.Operators) > 0 && !slices.Contains(fr.Operators, string(e.Op)) {
				return bad("the filter operator %q is not supported; supported: %s", string(e.Op), strings.Join(fr.Operators, ", "))
			}
			return attrOK(e.Attr)
		case *filter.Logical:
			if (e.Op == filter.And && !fr.And) || (e.Op == filter.Or && !fr.Or) {
				return bad("the logical operator %q is not supported in filters", string(e.Op))
			}
			if err := walk(e.Left); err != nil {
				return err
			}
			return walk(e.Right)
		case *filter.Not:
			if !fr.Not {
				return bad("\"not\" is not supported in filters")
			}
			return walk(e.X)
		case *filter.ValuePath:
			if !fr.ValuePaths {
				return bad("value filters such as %s[…] are not supported", e.Attr.String())
			}
			return attrOK(e.Attr)
		}
		return nil
	}
	return walk(e)
}

// checkWrite applies the body rules to a POST, PUT or PATCH of a User or
// Group: the PATCH operation cap, the member-change cap and the
// whole-member-list rule. It reports whether it answered the request itself.
// (The lenient unknownSchemas is applied by validate.)
func (s *Server) checkWrite(c *call, rt *route) (bool, error) {
	p := s.prof
	k := s.kindOf(c)
	r := p.Rules(k.name)
	isPatch := c.r.Method == http.MethodPatch
	isGroup := k == s.groups
	needs := (isPatch && r.MaxPatchOperations > 0) ||
		(isGroup && p.Groups.MaxMembersPerRequest > 0) ||
		(isGroup && isPatch && p.Groups.ReplaceMembers != profile.Allow)
	if !needs {
		return false, nil
	}
	body, err := s.peekBody(c)
	if err != nil {
		return true, err
	}
	if !isPatch {
		var doc map[string]any
		if json.Unmarshal(body, &doc) != nil {
			return false, nil // the handler explains
		}
		if n := countList(lookupFold(doc, "members")); n > p.Groups.MaxMembersPerRequest {
			return true, s.tooManyMembers(n)
		}
		return false, nil
	}
	var req scim.PatchOp
	if json.Unmarshal(body, &req) != nil {
		return false, nil // the handler explains
	}
	if r.MaxPatchOperations > 0 && len(req.Operations) > r.MaxPatchOperations {
		return true, errorf(http.StatusBadRequest, scim.InvalidValue, "the PATCH request has %d operations; this server takes at most %d per request (profile %s)", len(req.Operations), r.MaxPatchOperations, p.Name)
	}
	if !isGroup {
		return false, nil
	}
	if p.Groups.MaxMembersPerRequest > 0 {
		n := 0
		for _, op := range req.Operations {
			n += memberChanges(op)
		}
		if n > p.Groups.MaxMembersPerRequest {
			return true, s.tooManyMembers(n)
		}
	}
	if p.Groups.ReplaceMembers == profile.Allow {
		return false, nil
	}
	var kept []scim.PatchOperation
	dropped := false
	for _, op := range req.Operations {
		if !s.replacesAllMembers(op) {
			kept = append(kept, op)
			continue
		}
		dropped = true
		if p.Groups.ReplaceMembers == profile.Reject {
			return true, errorf(http.StatusBadRequest, scim.InvalidValue, "replacing or removing every member of a group in one request is not supported by this server; add and remove members by value (profile %s)", p.Name)
		}
		// Ignore: the target answers success and changes nothing (B24).
		if obj, ok := op.Value.(map[string]any); ok && op.Path == "" {
			rest := make(map[string]any, len(obj))
			for key, v := range obj {
				if !namesAttr(s.groups, key, "members") {
					rest[key] = v
				}
			}
			if len(rest) > 0 {
				op.Value = rest
				kept = append(kept, op)
			}
		}
	}
	if !dropped {
		return false, nil
	}
	if len(kept) == 0 {
		return true, s.patchNoop(c, k, c.id)
	}
	req.Operations = kept
	b, err := json.Marshal(req)
	if err != nil {
		return true, err
	}
	s.replaceBody(c, b)
	return false, nil
}

func (s *Server) tooManyMembers(n int) error {
	return errorf(http.StatusBadRequest, scim.InvalidValue, "the request changes %d group members; this server allows at most %d member changes per request (profile %s)", n, s.prof.Groups.MaxMembersPerRequest, s.prof.Name)
}

// patchNoop answers a PATCH whose every operation was ignored as if it
// succeeded without changing anything.
func (s *Server) patchNoop(c *call, k *resourceKind, id string) error {
	if s.prof.PatchStatus(k.name) == http.StatusOK {
		return s.getResource(c, k, id)
	}
	r, err := s.st.Get(c.r.Context(), k.name, id, false)
	if errors.Is(err, store.ErrNotFound) {
		return s.notFound(k, id)
	}
	if err != nil {
		return err
	}
	if s.prof.ETag {
		c.w.Header().Set("ETag", etag(r.Version))
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// replacesAllMembers reports whether op replaces the whole member list or
// removes every member (RFC 7644 §3.5.2.2, §3.5.2.3).
func (s *Server) replacesAllMembers(op scim.PatchOperation) bool {
	kind := strings.ToLower(op.Op)
	if op.Path == "" {
		obj, ok := op.Value.(map[string]any)
		if !ok || kind == "remove" {
			return false
		}
		for key := range obj {
			if namesAttr(s.groups, key, "members") && kind == "replace" {
				return true
			}
		}
		return false
	}
	pp, err := filter.ParsePath(op.Path)
	if err != nil || pp.Filter != nil || pp.Sub != "" || pp.Attr.Sub != "" || !isCoreAttr(s.groups, pp.Attr, "members") {
		return false
	}
	switch kind {
	case "replace":
		return true
	case "remove":
		return op.Value == nil || !s.prof.Lenient.RemoveMembersByValue
	}
	return false
}

// memberChanges counts the member values one PATCH operation adds, sets or
// removes.
func memberChanges(op scim.PatchOperation) int {
	if op.Path == "" {
		if obj, ok := op.Value.(map[string]any); ok {
			return countList(lookupFold(obj, "members"))
		}
		return 0
	}
	pp, err := filter.ParsePath(op.Path)
	if err != nil || !strings.EqualFold(pp.Attr.Name, "members") {
		return 0
	}
	if pp.Filter != nil {
		if vals, ok := valueEqualities(pp.Filter); ok {
			return len(vals)
		}
		return 1
	}
	return countList(op.Value)
}

func countList(v any) int {
	switch v := v.(type) {
	case []any:
		return len(v)
	case map[string]any:
		return 1
	}
	return 0
}

// peekBody reads the request body and puts it back for the handler.
func (s *Server) peekBody(c *call) ([]byte, error) {
	limit := s.maxBody
	if c.r.URL.Path == BasePath+"/Bulk" {
		limit = s.prof.Bulk.MaxPayloadSize
	}
	b, err := readBody(c.r, limit)
	if err != nil {
		return nil, err
	}
	s.replaceBody(c, b)
	return b, nil
}

func (s *Server) replaceBody(c *call, b []byte) {
	c.r.Body = io.NopCloser(bytes.NewReader(b))
	c.r.ContentLength = int64(len(b))
}

// memberView is the member list a group response shows under the profile:
// none when members are not returned (AWS), and without inactive users
// when the profile hides them (Alation).
func (s *Server) memberView(members []store.Member) []store.Member {
	mv := s.prof.Groups.Members
	if members == nil || (mv.Returned && !mv.HideInactive) {
		return members
	}
	if !mv.Returned {
		return []store.Member{}
	}
	out := make([]store.Member, 0, len(members))
	for _, m := range members {
		if m.Type == "" || m.Type == "User" {
			r, err := s.st.Get(context.Background(), "User", m.Value, false)
			if err == nil && r.Doc["active"] == false {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// shownDiffers reports whether a user changed from before to after in a way
// that changes the member lists showing it: under a profile that hides
// inactive members (Alation), a change of active.
func (s *Server) shownDiffers(k *resourceKind, before, after map[string]any) bool {
	mv := s.prof.Groups.Members
	return k == s.users && mv.Returned && mv.HideInactive && (before["active"] == false) != (after["active"] == false)
}

// touchGroupsOf gives every group that has the user id as a member a new
// version and lastModified: its member list, as shown, changed (shownDiffers),
// so a client holding the old one must not get a 304 or pass an If-Match
// with it (RFC 7644 §3.14). Each group is its own write after the user's: a
// failure leaves that group's version as it was, which is logged.
func (s *Server) touchGroupsOf(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	refs, err := s.st.GroupsOf(ctx, id)
	if err != nil {
		s.log.Error("groups of a user whose active changed", "error", err.Error())
		return
	}
	for _, g := range refs {
		_, err := s.st.Update(ctx, "Group", g.ID, 0, func(store.Tx, *store.Resource) error { return nil })
		s.cache.invalidate("Group", g.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("new version of a group whose member's active changed", "error", err.Error())
		}
	}
}

// amendSPC adds to the ServiceProviderConfig what the profile's token
// policy allows beyond bearer tokens.
func (s *Server) amendSPC(cfg *scim.ServiceProviderConfig) {
	if b := s.prof.Tokens.Basic; b != nil && s.auth.AllowBasic {
		cfg.AuthenticationSchemes = append(cfg.AuthenticationSchemes, scim.AuthScheme{
			Type:        "httpbasic",
			Name:        "HTTP Basic",
			Description: "Authentication with the SCIM service account's username and password (password policy: " + b.Describe() + ").",
			SpecURI:     "https://www.rfc-editor.org/info/rfc7617",
		})
	}
}

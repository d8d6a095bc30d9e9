package server

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store"
)

// patchOptions maps the profile's tolerances to patch.Options.
func (s *Server) patchOptions(id string) patch.Options {
	l := s.prof.Lenient
	return patch.Options{
		StringBooleans:        l.StringBooleans,
		DottedKeys:            l.DottedKeys,
		RemoveMembersByValue:  l.RemoveMembersByValue,
		ReplaceCreatesMissing: l.ReplaceCreatesMissing,
		ResourceID:            id,
	}
}

// checkOpCase refuses op keywords of kind k that are not lower case unless
// the profile is lenient or its PATCH rules for k accept any case: RFC 7644
// §3.5.2 spells them "add", "remove" and "replace"; Entra ID sends "Add",
// "Replace", "Remove" (idp-traffic.md B3), and HCP Terraform documents them
// so (HCP-USERS).
func (s *Server) checkOpCase(k *resourceKind, ops []scim.PatchOperation) error {
	if s.prof.Lenient.CaseInsensitiveOps || s.prof.Rules(k.name).Patch.CaseInsensitiveOps {
		return nil
	}
	for i, op := range ops {
		switch op.Op {
		case "add", "remove", "replace":
		default:
			return errorf(http.StatusBadRequest, scim.InvalidSyntax, "Operations[%d].op %q: RFC 7644 §3.5.2 spells the operations \"add\", \"remove\" and \"replace\" (this profile is strict)", i, truncate(op.Op, 40))
		}
	}
	return nil
}

// applyPatchRules applies the profile's rules for the PATCH operations of
// kind k (profile.Rules Refused and Patch) and returns the operations to
// evaluate: an operation addressing a refused attribute, a second operation
// on a OnceOnly attribute, or a remove the profile rejects is 400
// invalidValue; a remove the profile ignores is dropped; with AddAsReplace
// an add becomes a replace.
func (s *Server) applyPatchRules(k *resourceKind, ops []scim.PatchOperation) ([]scim.PatchOperation, error) {
	r := s.prof.Rules(k.name)
	if r == nil || (len(r.Refused) == 0 && r.Patch.Empty()) {
		return ops, nil
	}
	first := map[string]int{} // a OnceOnly attribute → the operation that addressed it
	out := make([]scim.PatchOperation, 0, len(ops))
	for i, op := range ops {
		if len(r.Patch.PathOperators) > 0 && op.Path != "" {
			if p, err := filter.ParsePath(op.Path); err == nil && p.Filter != nil {
				if bad, ok := operatorOutside(p.Filter, r.Patch.PathOperators); ok {
					return nil, errorf(http.StatusBadRequest, scim.InvalidFilter, "Operations[%d]: the operator %q is not supported in a PATCH path filter; supported: %s (profile %s)", i, bad, strings.Join(r.Patch.PathOperators, ", "), s.prof.Name)
				}
			}
		}
		remove := strings.EqualFold(op.Op, "remove")
		ignored := false
		for _, path := range s.opTargets(k, op) {
			if a, ok := profile.Covers(r.Refused, path); ok {
				return nil, s.refusedWrite(a, fmt.Sprintf("Operations[%d] (%s)", i, op.Op))
			}
			if a, ok := profile.Covers(r.Patch.Refused, path); ok {
				return nil, s.refusedWrite(a, fmt.Sprintf("Operations[%d] (%s)", i, op.Op))
			}
			if a, ok := profile.Covers(r.Patch.OnceOnly, path); ok {
				if j, seen := first[a]; seen && j != i {
					return nil, errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d] and Operations[%d] both address %s; this server takes one operation on %s per request (profile %s)", j, i, a, a, s.prof.Name)
				}
				first[a] = i
			}
			if !remove {
				continue
			}
			switch r.Patch.RemovePolicy(path) {
			case profile.Reject:
				return nil, errorf(http.StatusBadRequest, scim.InvalidValue, "Operations[%d]: remove of %s is not supported by this server (profile %s)", i, path, s.prof.Name)
			case profile.Ignore:
				ignored = true
			}
		}
		if ignored {
			continue
		}
		if r.Patch.AddAsReplace && strings.EqualFold(op.Op, "add") {
			op.Op = "replace"
		}
		out = append(out, op)
	}
	return out, nil
}

// operatorOutside returns the first comparison operator of e that allowed
// does not list.
func operatorOutside(e filter.Expr, allowed []string) (string, bool) {
	switch x := e.(type) {
	case *filter.Compare:
		if !slices.Contains(allowed, string(x.Op)) {
			return string(x.Op), true
		}
	case *filter.Logical:
		if op, ok := operatorOutside(x.Left, allowed); ok {
			return op, true
		}
		return operatorOutside(x.Right, allowed)
	case *filter.Not:
		return operatorOutside(x.X, allowed)
	case *filter.ValuePath:
		return operatorOutside(x.Filter, allowed)
	}
	return "", false
}

// opTargets returns the canonical paths (profile.ResolvePath) of the
// attributes op addresses: its path, or each key of a path-less value
// object, where an extension's URN key stands for every attribute under
// it. What does not resolve is left out; patch.Apply explains it.
func (s *Server) opTargets(k *resourceKind, op scim.PatchOperation) []string {
	var out []string
	add := func(path string) {
		if ref, err := profile.ResolvePath(k.rt, path); err == nil {
			out = append(out, ref.Path)
		}
	}
	if op.Path != "" {
		p, err := filter.ParsePath(op.Path)
		if err != nil {
			return nil
		}
		ap := p.Attr
		if p.Sub != "" {
			ap.Sub = p.Sub
		}
		add(ap.String())
		return out
	}
	obj, _ := op.Value.(map[string]any)
	for key, v := range obj {
		ext := k.rt.Extension(key)
		if ext == nil {
			add(key)
			continue
		}
		sub, _ := v.(map[string]any)
		for name := range sub {
			add(ext.ID + ":" + name)
		}
	}
	return out
}

// patch serves PATCH /Users/{id} and /Groups/{id} (RFC 7644 §3.5.2).
func (s *Server) patch(c *call) error {
	return s.patchResource(c, s.kindOf(c), c.id)
}

func (s *Server) patchResource(c *call, k *resourceKind, id string) error {
	ctx := c.r.Context()
	if !s.prof.Patch {
		return scim.New(http.StatusNotImplemented, "", "this server does not support PATCH (ServiceProviderConfig patch.supported is false); use PUT")
	}
	body, err := readBody(c.r, s.maxBody)
	if err != nil {
		return err
	}
	req, err := patch.Parse(body)
	if err != nil {
		return asClientError(err, scim.InvalidSyntax)
	}
	// The profile's rules are judged once the resource is found, as
	// patch.Apply's errors are: a PATCH of an unknown id is 404 whatever its
	// operations.
	ruleErr := s.checkOpCase(k, req.Operations)
	if ruleErr == nil {
		req.Operations, ruleErr = s.applyPatchRules(k, req.Operations)
	}
	v, err := parseView(c.query())
	if err != nil {
		return err
	}
	status := s.prof.PatchStatus(k.name)
	needMembers := status == http.StatusOK && k == s.groups && v.wants(k, "members")
	pre := s.precondition(c)
	opts := s.patchOptions(id)
	var members []store.Member
	var doc map[string]any
	var flipped bool // groups that show the user show it differently now
	r, err := s.st.Update(ctx, k.name, id, 0, func(tx store.Tx, r *store.Resource) error {
		flipped = false
		if err := pre.check(r.Version); err != nil {
			return err
		}
		// A scoped token may change only a user already in its scope.
		if err := s.checkScope(c, k, r.Doc); err != nil {
			return err
		}
		if ruleErr != nil {
			return ruleErr
		}
		var changed bool
		var err error
		switch {
		case len(req.Operations) == 0:
			// Every operation was a remove the profile ignores: the
			// request succeeds and changes nothing.
		case k == s.groups:
			doc, changed, err = s.patchGroup(ctx, tx, r, req.Operations, opts)
		default:
			doc, changed, err = patch.Apply(r.Doc, req.Operations, k.rt, opts)
			if err != nil {
				err = asClientError(err, scim.InvalidValue)
			} else if changed {
				err = s.checkScope(c, k, doc)
			}
		}
		if err != nil {
			return err
		}
		if needMembers {
			if members, err = tx.Members(id); err != nil {
				return err
			}
		}
		if !changed {
			return store.ErrUnchanged
		}
		if doc, err = s.shape(k, doc); err != nil {
			return err
		}
		stripServerAttrs(doc)
		flipped = s.shownDiffers(k, r.Doc, doc)
		if k == s.users && reflect.DeepEqual(r.Doc, doc) {
			// What the PATCH changed is not kept (a password, an
			// attribute the profile drops, a second email the profile
			// throws away): the stored user is the same, and so are its
			// version and lastModified, as for a PUT that changes nothing.
			return store.ErrUnchanged
		}
		r.Doc = doc
		r.Key = s.keyOf(k, doc)
		r.ExternalID = externalIDOf(doc)
		return nil
	})
	s.cache.invalidate(k.name, id)
	if err != nil {
		return s.updateErr(k, id, doc, err)
	}
	if flipped {
		s.touchGroupsOf(ctx, id)
	}
	if needMembers && members == nil {
		members = []store.Member{}
	}
	return s.patchRespond(c, k, r, members, status, v)
}

// patchRespond answers a successful PATCH: 204, or 200 with the resource.
func (s *Server) patchRespond(c *call, k *resourceKind, r *store.Resource, members []store.Member, status int, v view) error {
	if status == http.StatusNoContent {
		if s.prof.ETag {
			c.w.Header().Set("ETag", etag(r.Version))
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	_, groups, err := s.loadExtras(c.r.Context(), k, r, v)
	if err != nil {
		return err
	}
	return s.writeResource(c, http.StatusOK, k, r, members, groups, v)
}

// memberOp is a PATCH operation on Group.members that maps directly onto the
// store's member table.
type memberOp struct {
	kind   string // "add", "remove", "set"
	raw    []any  // add, set: member objects as sent
	values []string
}

// patchGroup applies a PATCH to a group. Operations on members that have a
// direct meaning — add with path "members", remove with
// `members[value eq "x"]` (or "x" or "y"…), remove of path "members" (all
// members, or the listed ones under the lenient RemoveMembersByValue), and
// replace of "members" — go straight to the member table, so adding one
// member to a 10,000-member group never loads the others. Every other
// operation on members makes the whole request run through patch.Apply on
// the document with its members loaded, and the member difference is
// written afterwards. Operations on other attributes run through
// patch.Apply without members.
func (s *Server) patchGroup(ctx context.Context, tx store.Tx, r *store.Resource, ops []scim.PatchOperation, opts patch.Options) (map[string]any, bool, error) {
	var rest []scim.PatchOperation
	var mops []memberOp
	general := false
	for _, op := range ops {
		mop, isMember, ok := s.classifyMemberOp(op, opts)
		if !isMember {
			rest = append(rest, op)
			continue
		}
		if !ok {
			general = true
			break
		}
		mops = append(mops, mop)
	}
	if general {
		return s.patchGroupGeneral(ctx, tx, r, ops, opts)
	}
	doc := r.Doc
	changed := false
	if len(rest) > 0 {
		out, ch, err := patch.Apply(r.Doc, rest, s.groups.rt, opts)
		if err != nil {
			return nil, false, asClientError(err, scim.InvalidValue)
		}
		doc, changed = out, ch
	}
	for _, mop := range mops {
		ch, err := s.applyMemberOp(ctx, tx, r.ID, mop)
		if err != nil {
			return nil, false, err
		}
		changed = changed || ch
	}
	return doc, changed, nil
}

// classifyMemberOp reports whether op addresses members, and if so whether
// it has a direct translation.
func (s *Server) classifyMemberOp(op scim.PatchOperation, opts patch.Options) (memberOp, bool, bool) {
	kind := strings.ToLower(op.Op)
	if op.Path == "" {
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return memberOp{}, false, false
		}
		for key := range obj {
			if namesAttr(s.groups, key, "members") {
				return memberOp{}, true, false
			}
		}
		return memberOp{}, false, false
	}
	p, err := filter.ParsePath(op.Path)
	if err != nil || !strings.EqualFold(p.Attr.Name, "members") ||
		(p.Attr.URI != "" && !strings.EqualFold(p.Attr.URI, s.groups.rt.Schema.ID)) {
		return memberOp{}, false, false
	}
	if p.Attr.Sub != "" || p.Sub != "" {
		return memberOp{}, true, false
	}
	switch kind {
	case "add":
		if p.Filter != nil {
			return memberOp{}, true, false
		}
		list, ok := op.Value.([]any)
		if !ok {
			return memberOp{}, true, false
		}
		return memberOp{kind: "add", raw: list}, true, true
	case "replace":
		if p.Filter != nil {
			return memberOp{}, true, false
		}
		list, ok := op.Value.([]any)
		if !ok {
			return memberOp{}, true, false
		}
		return memberOp{kind: "set", raw: list}, true, true
	case "remove":
		if p.Filter != nil {
			if op.Value != nil {
				return memberOp{}, true, false
			}
			vals, ok := valueEqualities(p.Filter)
			if !ok {
				return memberOp{}, true, false
			}
			return memberOp{kind: "remove", values: vals}, true, true
		}
		if op.Value == nil {
			return memberOp{kind: "set"}, true, true
		}
		if !opts.RemoveMembersByValue {
			// RFC 7644 §3.5.2.2: without a filter every value is removed.
			return memberOp{kind: "set"}, true, true
		}
		list, ok := op.Value.([]any)
		if !ok {
			if obj, isObj := op.Value.(map[string]any); isObj {
				list = []any{obj}
			} else {
				return memberOp{}, true, false
			}
		}
		vals := make([]string, 0, len(list))
		for _, it := range list {
			obj, ok := it.(map[string]any)
			if !ok {
				return memberOp{}, true, false
			}
			v, ok := lookupFold(obj, "value").(string)
			if !ok {
				return memberOp{}, true, false
			}
			vals = append(vals, v)
		}
		return memberOp{kind: "remove", values: vals}, true, true
	}
	return memberOp{}, true, false
}

// valueEqualities recognises `value eq "x"` and `value eq "x" or value eq "y"…`.
func valueEqualities(e filter.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *filter.Compare:
		if e.Op != filter.Eq || e.Attr.URI != "" || e.Attr.Sub != "" || !strings.EqualFold(e.Attr.Name, "value") {
			return nil, false
		}
		v, ok := e.Value.(string)
		if !ok {
			return nil, false
		}
		return []string{v}, true
	case *filter.Logical:
		if e.Op != filter.Or {
			return nil, false
		}
		l, ok := valueEqualities(e.Left)
		if !ok {
			return nil, false
		}
		r, ok := valueEqualities(e.Right)
		if !ok {
			return nil, false
		}
		return append(l, r...), true
	}
	return nil, false
}

func lookupFold(obj map[string]any, key string) any {
	if v, ok := obj[key]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// applyMemberOp writes one direct member operation.
func (s *Server) applyMemberOp(ctx context.Context, tx store.Tx, gid string, mop memberOp) (bool, error) {
	switch mop.kind {
	case "add":
		ms, err := s.normalizeMembers(ctx, txReader{tx}, gid, mop.raw)
		if err != nil {
			return false, err
		}
		if len(ms) == 0 {
			return false, nil
		}
		n, err := tx.AddMembers(gid, ms)
		return n > 0, err
	case "remove":
		if len(mop.values) == 0 {
			return false, nil
		}
		n, err := tx.RemoveMembers(gid, mop.values)
		return n > 0, err
	case "set":
		have, err := tx.Members(gid)
		if err != nil {
			return false, err
		}
		ms, err := s.normalizeMembersKnown(ctx, txReader{tx}, gid, mop.raw, byValue(have))
		if err != nil {
			return false, err
		}
		return s.syncMembers(tx, gid, ms, have)
	}
	return false, nil
}

// patchGroupGeneral runs the whole request through patch.Apply with the
// members loaded, then writes the member difference. Members already in the
// group are kept as stored; new ones are checked like any added member.
func (s *Server) patchGroupGeneral(ctx context.Context, tx store.Tx, r *store.Resource, ops []scim.PatchOperation, opts patch.Options) (map[string]any, bool, error) {
	have, err := tx.Members(r.ID)
	if err != nil {
		return nil, false, err
	}
	doc := make(map[string]any, len(r.Doc)+1)
	for k, v := range r.Doc {
		doc[k] = v
	}
	if len(have) > 0 {
		ms := make([]any, len(have))
		for i, m := range have {
			mv := map[string]any{"value": m.Value}
			if m.Type != "" {
				mv["type"] = m.Type
			}
			if m.Display != "" {
				mv["display"] = m.Display
			}
			ms[i] = mv
		}
		doc["members"] = ms
	}
	out, changed, err := patch.Apply(doc, ops, s.groups.rt, opts)
	if err != nil {
		return nil, false, asClientError(err, scim.InvalidValue)
	}
	raw, _ := out["members"].([]any)
	want, err := s.normalizeMembersKnown(ctx, txReader{tx}, r.ID, raw, byValue(have))
	if err != nil {
		return nil, false, err
	}
	mc, err := s.syncMembers(tx, r.ID, want, have)
	if err != nil {
		return nil, false, err
	}
	delete(out, "members")
	return out, changed || mc, nil
}

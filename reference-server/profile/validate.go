package profile

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// FieldError is one thing wrong with a profile: the field, as written in
// YAML ("users.limits.userName"), the line when the profile came from a file,
// and what is wrong.
type FieldError struct {
	Field string
	Line  int
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ValidationError lists everything wrong with a profile.
type ValidationError struct {
	Profile string // name, or file
	Errs    []error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s is invalid", e.Profile)
	if len(e.Errs) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Errs[0].Error())
		return b.String()
	}
	b.WriteString(":")
	for _, err := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors.
func (e *ValidationError) Unwrap() []error { return e.Errs }

// FilterOperators are the comparison operators of RFC 7644 §3.4.2.2.
var FilterOperators = []string{"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr"}

func oneOf(field, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fieldErr(field, "must be %s, not %q", orList(allowed), v)
}

func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// Validate checks every knob and fills defaults: zero numbers take the
// engine's defaults (maxResults 200, bulk 1000 operations and 1 MiB,
// unsupportedStatus 501), a defaultCount above maxResults is clamped to it,
// empty enums take the RFC behaviour, params.sortBy follows sort, and
// attribute paths are rewritten to the schema's spelling. It is idempotent.
// The error is a *ValidationError whose entries are *FieldErrors naming the
// field.
func (p *Profile) Validate() error {
	if p == nil {
		return errors.New("profile: nil profile")
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(p.Name) == "" {
		add(fieldErr("name", "is missing"))
	}
	switch p.PatchResponse {
	case "":
		p.PatchResponse = "200"
	case "200", "204":
	default:
		add(fieldErr("patchResponse", `must be "200" or "204", not %q`, p.PatchResponse))
	}
	switch p.GroupPatchResponse {
	case "", "200", "204":
	default:
		add(fieldErr("groupPatchResponse", `must be "200" or "204", not %q`, p.GroupPatchResponse))
	}
	p.NestedGroups = orDefault(p.NestedGroups, Reject)
	add(oneOf("nestedGroups", p.NestedGroups, Reject, Ignore, Allow))
	p.UnknownMembers = orDefault(p.UnknownMembers, Reject)
	add(oneOf("unknownMembers", p.UnknownMembers, Reject, Ignore))
	p.LimitMode = orDefault(p.LimitMode, Reject)
	add(oneOf("limitMode", p.LimitMode, Reject, Truncate))

	if p.MaxResults < 0 {
		add(fieldErr("maxResults", "must not be negative (got %d)", p.MaxResults))
	}
	if p.MaxResults <= 0 {
		p.MaxResults = DefaultMaxResults
	}
	if p.DefaultCount < 0 {
		add(fieldErr("defaultCount", "must not be negative (got %d)", p.DefaultCount))
	}
	if p.DefaultCount <= 0 || p.DefaultCount > p.MaxResults {
		p.DefaultCount = p.MaxResults
	}
	if p.Bulk.MaxOperations < 0 {
		add(fieldErr("bulk.maxOperations", "must not be negative (got %d)", p.Bulk.MaxOperations))
	}
	if p.Bulk.MaxOperations <= 0 {
		p.Bulk.MaxOperations = DefaultMaxOperations
	}
	if p.Bulk.MaxPayloadSize < 0 {
		add(fieldErr("bulk.maxPayloadSize", "must not be negative (got %d)", p.Bulk.MaxPayloadSize))
	}
	if p.Bulk.MaxPayloadSize <= 0 {
		p.Bulk.MaxPayloadSize = DefaultMaxPayloadSize
	}
	if p.MaxBodyBytes < 0 {
		add(fieldErr("maxBodyBytes", "must not be negative (got %d)", p.MaxBodyBytes))
	}
	if p.MaxBodyBytes <= 0 {
		p.MaxBodyBytes = DefaultMaxBodyBytes
	}

	e := &p.Endpoints
	if e.UnsupportedStatus == 0 {
		e.UnsupportedStatus = DefaultUnsupportedStatus
	}
	switch e.UnsupportedStatus {
	case 400, 403, 404, 405, 501:
	default:
		add(fieldErr("endpoints.unsupportedStatus", "must be 400, 403, 404, 405 or 501, not %d", e.UnsupportedStatus))
	}
	switch strings.ToLower(e.ContentType) {
	case "":
		e.ContentType = scim.MediaType
	case scim.MediaType, "application/json":
		e.ContentType = strings.ToLower(e.ContentType)
	default:
		add(fieldErr("endpoints.contentType", "must be %s or application/json, not %q", scim.MediaType, e.ContentType))
	}
	if h := e.RequestIDHeader; h != "" && (strings.ContainsAny(h, " \t\r\n:") || http.CanonicalHeaderKey(h) == "") {
		add(fieldErr("endpoints.requestIdHeader", "%q is not a header name", h))
	}

	p.Users.Inactive = orDefault(p.Users.Inactive, Visible)
	add(oneOf("users.inactive", p.Users.Inactive, Visible, NotFound))
	p.Groups.ReplaceMembers = orDefault(p.Groups.ReplaceMembers, Allow)
	add(oneOf("groups.replaceMembers", p.Groups.ReplaceMembers, Allow, Reject, Ignore))
	if p.Groups.MaxMembersPerRequest < 0 {
		add(fieldErr("groups.maxMembersPerRequest", "must not be negative (got %d)", p.Groups.MaxMembersPerRequest))
	}
	errs = append(errs, p.Users.Rules.validate("users", schema.UserResourceType(), p, []string{Delete, Deactivate, Refuse})...)
	errs = append(errs, p.Groups.Rules.validate("groups", schema.GroupResourceType(), p, []string{Delete, Refuse})...)
	if p.Groups.Patch.AddAsReplace && p.Groups.ReplaceMembers != Allow {
		// An add of members would replace the whole list, which the
		// replaceMembers rule (checked on the request as sent) never sees.
		add(fieldErr("groups.patch.addAsReplace", "needs groups.replaceMembers: allow (an add of members would replace every member)"))
	}

	if err := p.Tokens.Validate(); err != nil {
		msg := strings.TrimPrefix(err.Error(), "auth: token policy: ")
		add(fieldErr("tokens", "%s", strings.ReplaceAll(msg, "\n", "; ")))
	}
	errs = append(errs, p.Faults.validate()...)
	if len(errs) > 0 {
		return &ValidationError{Profile: orDefault(p.Name, "(unnamed)"), Errs: errs}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// validate checks the rules of one resource type.
func (r *Rules) validate(field string, rt *schema.ResourceType, p *Profile, deletes []string) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	r.Delete = orDefault(r.Delete, Delete)
	add(oneOf(field+".delete", r.Delete, deletes...))
	if r.MaxPatchOperations < 0 {
		add(fieldErr(field+".maxPatchOperations", "must not be negative (got %d)", r.MaxPatchOperations))
	}

	if len(r.Limits) > 0 {
		out := make(map[string]int, len(r.Limits))
		for _, k := range sortedKeys(r.Limits) {
			n := r.Limits[k]
			f := field + ".limits." + k
			ref, err := ResolvePath(rt, k)
			switch {
			case err != nil:
				add(fieldErr(f, "%v", err))
				continue
			case ref.Attribute.Type != schema.String && ref.Attribute.Type != schema.Reference:
				add(fieldErr(f, "%s is of type %s; only string attributes have a length limit", ref.Path, ref.Attribute.Type))
				continue
			case n < 0:
				add(fieldErr(f, "must not be negative (got %d)", n))
				continue
			case n == 0:
				continue // no limit; lets a profile lift one it extends
			}
			out[ref.Path] = n
		}
		r.Limits = out
	}

	if len(r.MultiValued) > 0 {
		out := make(map[string]string, len(r.MultiValued))
		for _, k := range sortedKeys(r.MultiValued) {
			v := r.MultiValued[k]
			f := field + ".multiValued." + k
			ref, err := ResolvePath(rt, k)
			switch {
			case err != nil:
				add(fieldErr(f, "%v", err))
				continue
			case ref.Sub != "" || !ref.Attribute.MultiValued:
				add(fieldErr(f, "%s is not a multi-valued attribute", ref.Path))
				continue
			case ref.Schema == "" && strings.EqualFold(ref.Attr, "members"), ref.Schema == "" && strings.EqualFold(ref.Attr, "groups"), ref.Schema == "" && strings.EqualFold(ref.Attr, "schemas"):
				add(fieldErr(f, "%s cannot be limited to one value", ref.Path))
				continue
			}
			if err := oneOf(f, v, KeepAll, KeepOne, Reject); err != nil {
				add(err)
				continue
			}
			out[ref.Path] = v
		}
		r.MultiValued = out
	}

	canon := func(list []string, what string, check func(f string, ref Ref) error) []string {
		var out []string
		for i, k := range list {
			f := fmt.Sprintf("%s.%s[%d]", field, what, i)
			ref, err := ResolvePath(rt, k)
			if err != nil {
				add(fieldErr(f, "%v", err))
				continue
			}
			if check != nil {
				if err := check(f, ref); err != nil {
					add(err)
					continue
				}
			}
			if !slices.Contains(out, ref.Path) {
				out = append(out, ref.Path)
			}
		}
		return out
	}
	storable := func(what string) func(f string, ref Ref) error {
		return func(f string, ref Ref) error {
			a := ref.Parent
			if ref.Schema == "" && (a.Required || a.Mutability == schema.ReadOnly || slices.Contains([]string{"schemas", "externalId", "members", "active"}, a.Name)) {
				return fieldErr(f, "%s cannot be %s", ref.Path, what)
			}
			return nil
		}
	}
	r.Unsupported = canon(r.Unsupported, "unsupported", storable("unsupported"))
	// A refused attribute is not stored either, so that discovery (and
	// changePassword) says what the server does.
	r.Refused = canon(r.Refused, "refused", storable("refused"))
	r.Patch.Refused = canon(r.Patch.Refused, "patch.refused", storable("refused"))
	for _, ref := range slices.Concat(r.Refused, r.Patch.Refused) {
		if !slices.Contains(r.Unsupported, ref) {
			r.Unsupported = append(r.Unsupported, ref)
		}
	}
	r.Required = canon(r.Required, "required", func(f string, ref Ref) error {
		if ref.Parent.Mutability == schema.ReadOnly {
			return fieldErr(f, "%s is read-only and cannot be required", ref.Path)
		}
		return nil
	})
	for _, req := range r.Required {
		for _, u := range r.Unsupported {
			if req == u || strings.HasPrefix(req, u+".") {
				add(fieldErr(field+".required", "%s is also listed as unsupported", req))
			}
		}
	}
	r.Filter.Attributes = canon(r.Filter.Attributes, "filter.attributes", nil)
	r.Patch.OnceOnly = canon(r.Patch.OnceOnly, "patch.onceOnly", nil)
	if len(r.Patch.Remove) > 0 {
		out := make(map[string]string, len(r.Patch.Remove))
		for _, k := range sortedKeys(r.Patch.Remove) {
			v := r.Patch.Remove[k]
			f := field + ".patch.remove." + k
			if err := oneOf(f, v, Allow, Reject, Ignore); err != nil {
				add(err)
				continue
			}
			if k == AnyRemove {
				out[k] = v
				continue
			}
			ref, err := ResolvePath(rt, k)
			if err != nil {
				add(fieldErr(f, "%v (or %q for every attribute not listed)", err, AnyRemove))
				continue
			}
			out[ref.Path] = v
		}
		r.Patch.Remove = out
	}
	operators := func(name string, in []string) []string {
		var ops []string
		for i, o := range in {
			o = strings.ToLower(strings.TrimSpace(o))
			if err := oneOf(fmt.Sprintf("%s.%s[%d]", field, name, i), o, FilterOperators...); err != nil {
				add(err)
				continue
			}
			if !slices.Contains(ops, o) {
				ops = append(ops, o)
			}
		}
		return ops
	}
	r.Filter.Operators = operators("filter.operators", r.Filter.Operators)
	r.Patch.PathOperators = operators("patch.pathOperators", r.Patch.PathOperators)

	pr := &r.Params
	for _, x := range []struct {
		name string
		v    *string
	}{{"startIndex", &pr.StartIndex}, {"count", &pr.Count}, {"attributes", &pr.Attributes}, {"excludedAttributes", &pr.ExcludedAttributes}} {
		*x.v = orDefault(*x.v, Supported)
		add(oneOf(field+".params."+x.name, *x.v, Supported, Ignore, Reject))
	}
	// sortBy follows sort, so that ServiceProviderConfig never lies: with
	// sort on it is honoured; with sort off it is ignored (the default) or
	// refused.
	switch {
	case p.Sort:
		pr.SortBy = Supported
	case pr.SortBy == "" || pr.SortBy == Supported:
		pr.SortBy = Ignore
	default:
		add(oneOf(field+".params.sortBy", pr.SortBy, Ignore, Reject))
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Ref is an attribute path resolved against a resource type.
type Ref struct {
	// Path is the canonical spelling: "name.givenName", "emails.value",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department".
	Path string
	// Schema is the URN of the extension that holds the attribute; "" for
	// the core schema and the common attributes (id, externalId, meta).
	Schema string
	// Attr and Sub are the top-level attribute and sub-attribute names in the
	// schema's spelling (Sub may be "").
	Attr, Sub string
	// Parent is the top-level attribute; Attribute the one addressed (the
	// sub-attribute when Sub is set).
	Parent, Attribute *schema.Attribute
}

// ResolvePath resolves an attribute path ("name.givenName",
// "emails.value", "urn:…:enterprise:2.0:User:manager.value") against rt.
func ResolvePath(rt *schema.ResourceType, path string) (Ref, error) {
	ap, err := filter.ParseAttrPath(strings.TrimSpace(path))
	if err != nil {
		return Ref{}, fmt.Errorf("%q is not an attribute path", path)
	}
	top, owner := rt.Resolve(ap.URI, ap.Name, "")
	if top == nil {
		return Ref{}, fmt.Errorf("%s has no attribute %q", rt.Name, path)
	}
	ref := Ref{Attr: top.Name, Parent: top, Attribute: top}
	if owner != "" && !strings.EqualFold(owner, rt.Schema.ID) {
		ref.Schema = owner
	}
	if ap.Sub != "" {
		sub := top.Sub(ap.Sub)
		if sub == nil {
			return Ref{}, fmt.Errorf("%s has no attribute %q (%s has no sub-attribute %q)", rt.Name, path, top.Name, ap.Sub)
		}
		ref.Sub, ref.Attribute = sub.Name, sub
	}
	ref.Path = ref.Attr
	if ref.Sub != "" {
		ref.Path += "." + ref.Sub
	}
	if ref.Schema != "" {
		ref.Path = ref.Schema + ":" + ref.Path
	}
	return ref, nil
}

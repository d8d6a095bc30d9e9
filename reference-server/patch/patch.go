package patch

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// Options selects the non-RFC request shapes that [Apply] accepts. The zero
// value is strict RFC 7644; each field names the identity-provider behaviour
// it admits (the B numbers are those of docs/idp-traffic.md, Part 3).
type Options struct {
	// StringBooleans accepts the strings "true" and "false", in any letter
	// case, for boolean attributes and stores them as JSON booleans. Entra
	// ID deactivates with {"op":"Replace","path":"active","value":"False"}
	// (B2, B4). Strict evaluation answers 400 invalidValue.
	StringBooleans bool

	// DottedKeys lets the keys of a path-less value object be attribute
	// paths: "name.givenName" and
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
	// address that attribute, as Entra ID sends with aadOptscim062020 (B1).
	// Strict evaluation answers 400 invalidValue naming the key; such a key
	// is never stored as a literal attribute.
	DottedKeys bool

	// RemoveMembersByValue makes a remove whose path is a multi-valued
	// attribute without a filter, and which carries a value, remove only the
	// listed values: {"op":"Remove","path":"members","value":[{"value":"u1"}]}
	// removes member u1, as Entra ID means it (B6). Strict evaluation
	// follows RFC 7644 §3.5.2.2 and removes every value.
	RemoveMembersByValue bool

	// ReplaceCreatesMissing makes a replace or add whose value filter
	// matches nothing create the value the filter describes, when the
	// filter is "attr eq literal" clauses joined by "and":
	// replace emails[type eq "work"].value on a user with no work email
	// adds {"type":"work","value":…}, which Entra ID expects (B5). Strict
	// evaluation answers 400 noTarget (RFC 7644 §3.5.2.3).
	ReplaceCreatesMissing bool

	// ResourceID is the id of the resource being patched, for documents
	// that are stored without their "id". A path-less replace or add whose
	// value carries "id" equal to the resource's id (Okta's group rename
	// sends {"id":…,"displayName":…}) writes nothing to id; any other id
	// is 400 mutability. When the document has an "id" it is used instead.
	ResourceID string
}

// Lenient returns Options that accept every identity-provider shape listed
// on [Options]. ResourceID is left empty.
func Lenient() Options {
	return Options{StringBooleans: true, DottedKeys: true, RemoveMembersByValue: true, ReplaceCreatesMissing: true}
}

type opKind int

const (
	opAdd opKind = iota + 1
	opRemove
	opReplace
)

func (k opKind) String() string {
	switch k {
	case opAdd:
		return "add"
	case opRemove:
		return "remove"
	case opReplace:
		return "replace"
	}
	return "?"
}

// section is the RFC 7644 §3.5.2.x subsection that defines op k.
func section(k opKind) int {
	switch k {
	case opAdd:
		return 1
	case opRemove:
		return 2
	}
	return 3
}

// kindOf matches an op keyword case-insensitively.
func kindOf(op string) (opKind, bool) {
	switch {
	case strings.EqualFold(op, "add"):
		return opAdd, true
	case strings.EqualFold(op, "remove"):
		return opRemove, true
	case strings.EqualFold(op, "replace"):
		return opReplace, true
	}
	return 0, false
}

// Apply evaluates ops in order against doc, a resource of type rt, and
// returns the patched document (RFC 7644 §3.5.2). It works on a deep copy:
// doc is never modified, and on error out is nil. changed reports whether
// out differs from doc; a request that changes nothing, such as re-adding an
// existing member (RFC 7644 §3.5.2.1; idp-traffic.md B18), succeeds with
// changed false, so the caller can leave meta.lastModified alone.
//
// Each value written is checked against its attribute's type (RFC 7643
// §2.3) as it is written. After the operations, Apply checks mutability
// (RFC 7644 §3.5.2: readOnly attributes, and immutable attributes that had a
// value, must not change; §3.5.2.2: required attributes must not become
// unassigned) for every attribute an operation addressed, keeps "schemas"
// in step with the extensions the operations wrote or removed, and
// validates what was written against rt's schemas. Every error is a
// *scim.Error whose detail names the failing operation.
func Apply(doc map[string]any, ops []scim.PatchOperation, rt *schema.ResourceType, opt Options) (out map[string]any, changed bool, err error) {
	if rt == nil || rt.Schema == nil {
		return nil, false, scim.New(500, "", "patch: no resource type to evaluate the request against")
	}
	if len(ops) == 0 {
		return nil, false, scim.New(400, scim.InvalidValue, "\"Operations\" is empty; RFC 7644 §3.5.2 requires one or more operations")
	}
	e := &evaluator{rt: rt, opt: opt, in: doc, doc: copyObject(doc), touched: map[slot]touch{}, written: map[slot][]any{}}
	for i, op := range ops {
		e.cur = i
		if err := e.apply(op); err != nil {
			return nil, false, annotate(err, i, op)
		}
	}
	if err := e.finish(); err != nil {
		if e.cur < 0 {
			return nil, false, err
		}
		return nil, false, annotate(err, e.cur, ops[e.cur])
	}
	return e.doc, !equalJSON(e.in, e.doc), nil
}

// annotate prefixes the detail of a SCIM error with the failing operation.
func annotate(err error, i int, op scim.PatchOperation) error {
	se := scim.AsError(err)
	where := "Operations[" + strconv.Itoa(i) + "] (" + op.Op
	if op.Path != "" {
		where += " " + shorten(op.Path, 100)
	}
	where += "): "
	return &scim.Error{Status: se.Status, ScimType: se.ScimType, Detail: where + se.Detail}
}

// shorten cuts s to at most n bytes (on a rune boundary) and marks the cut,
// so that an error about a huge path does not repeat all of it.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// slot names a top-level attribute of a document: its name in the core
// schema (urn "") or in the extension object under urn.
type slot struct{ urn, name string }

// touch records an attribute an operation addressed, for the checks of
// finish: the attribute and the index of the first operation that addressed it.
type touch struct {
	attr *schema.Attribute
	op   int
}

type evaluator struct {
	rt      *schema.ResourceType
	opt     Options
	in      map[string]any // the caller's document, read only
	doc     map[string]any // the working copy
	touched map[slot]touch
	written map[slot][]any // values written to multi-valued attributes, for validate
	exts    []extTouch     // extensions an operation wrote or removed
	cur     int            // index of the operation being evaluated; in finish, of the one that failed, or -1
	work    int            // values compared so far (spend)
}

// MaxWork is how many values one request may compare in all: each value of
// a multi-valued attribute that an operation's filter tests, that an added
// value is checked against for a duplicate, or that a value-list remove
// looks at. It bounds the time a request can hold a resource (and, in the
// reference server, the one writer): a few hundred milliseconds. Ordinary
// requests are far below it (1,000 filtered operations on a user's emails
// compare a few thousand values); 12,000 filtered operations on 30,000
// emails would compare 360 million.
const MaxWork = 1 << 22

// spend counts n value comparisons against MaxWork; past it, the request is
// refused with 400 invalidValue before it does the work.
func (e *evaluator) spend(n int) error {
	e.work += n
	if e.work > MaxWork {
		return scim.Errorf(400, scim.InvalidValue, "the request compares more than %d values of multi-valued attributes in all (operations × the values each one filters or checks); send it as several smaller requests", MaxWork)
	}
	return nil
}

// extTouch records an extension an operation wrote or removed.
type extTouch struct {
	ext *schema.Schema
	op  int
}

func (e *evaluator) apply(op scim.PatchOperation) error {
	k, ok := kindOf(op.Op)
	if !ok {
		return scim.Errorf(400, scim.InvalidSyntax, "op %q is not \"add\", \"remove\" or \"replace\" (RFC 7644 §3.5.2)", op.Op)
	}
	if op.Path == "" {
		if k == opRemove {
			return scim.New(400, scim.NoTarget, "remove needs a \"path\" (RFC 7644 §3.5.2.2)")
		}
		return e.writeResource(k, op.Value)
	}
	if k != opRemove && op.Value == nil {
		return scim.Errorf(400, scim.InvalidValue, "%s needs a \"value\" (RFC 7644 §3.5.2.%d)", k, section(k))
	}
	t, err := e.resolve(op.Path)
	if err != nil {
		return err
	}
	if err := e.serverOwned(k, t); err != nil {
		return err
	}
	if k == opRemove {
		return e.remove(t, op.Value)
	}
	return e.write(k, t, op.Value)
}

// serverOwned refuses an operation whose path names a readOnly attribute
// (or sub-attribute) the client cannot change: RFC 7644 §3.5.2, "a client
// MUST NOT modify an attribute that has mutability readOnly … An operation
// that is not compatible with an attribute's mutability SHALL return" an
// error. A remove is never compatible; an add or replace is refused here when
// the document holds no value of it, because the server keeps it apart (id,
// meta, a User's groups) and a write could not be told from a change (one
// that rewrites a value the document holds is judged in finish, where
// writing the same value is no change). 400 mutability.
func (e *evaluator) serverOwned(k opKind, t target) error {
	if t.ext != nil || t.attr == nil {
		return nil
	}
	name, ro := t.attr.Name, t.attr.Mutability == schema.ReadOnly
	if t.sub != nil && !ro {
		name, ro = t.attr.Name+"."+t.sub.Name, t.sub.Mutability == schema.ReadOnly
	}
	if !ro {
		return nil
	}
	if k == opRemove {
		return scim.Errorf(400, scim.Mutability, "%s is readOnly: the server sets it and it cannot be removed (RFC 7644 §3.5.2)", name)
	}
	if _, ok := lookupIn(e.in, slot{t.urn, t.attr.Name}); !ok {
		return scim.Errorf(400, scim.Mutability, "%s is readOnly: the server sets it and it cannot be written (RFC 7644 §3.5.2)", name)
	}
	return nil
}

func (e *evaluator) touch(urn string, a *schema.Attribute) {
	s := slot{urn, a.Name}
	if _, ok := e.touched[s]; !ok {
		e.touched[s] = touch{a, e.cur}
	}
}

// wrote records a value written to the multi-valued attribute of t.
func (e *evaluator) wrote(t target, v any) {
	s := slot{t.urn, t.attr.Name}
	e.written[s] = append(e.written[s], v)
}

func (e *evaluator) touchExt(ext *schema.Schema) {
	if ext != nil && !slices.ContainsFunc(e.exts, func(x extTouch) bool { return x.ext == ext }) {
		e.exts = append(e.exts, extTouch{ext, e.cur})
	}
}

// container returns the object that holds the attributes of urn: the
// document itself for the core schema (urn ""), else the extension object,
// which is created when create is set. It returns nil when the extension
// object is absent and create is not set.
func (e *evaluator) container(urn string, create bool) map[string]any {
	if urn == "" {
		return e.doc
	}
	if v, ok := get(e.doc, urn); ok {
		if m, ok := v.(map[string]any); ok {
			set(e.doc, urn, m) // respell the key as the schema does
			return m
		}
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	set(e.doc, urn, m)
	return m
}

// finish runs the whole-request checks of RFC 7644 §3.5.2 on the result.
func (e *evaluator) finish() error {
	keys := make([]slot, 0, len(e.touched))
	for s := range e.touched {
		keys = append(keys, s)
	}
	slices.SortFunc(keys, func(a, b slot) int {
		if c := strings.Compare(a.urn, b.urn); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, s := range keys {
		t := e.touched[s]
		before, _ := lookupIn(e.in, s)
		after, _ := lookupIn(e.doc, s)
		if err := checkMutability(t.attr, before, after, t.attr.Name); err != nil {
			e.cur = t.op
			return err
		}
	}
	for _, x := range e.exts {
		if err := e.syncExtension(x.ext); err != nil {
			e.cur = x.op
			return err
		}
	}
	if _, ok := e.touched[slot{name: "schemas"}]; ok {
		e.relistExtensions()
	}
	e.cur = -1 // a validation error belongs to no one operation
	return e.validate()
}

// relistExtensions puts back into a written "schemas" the extensions whose
// attributes the resource still holds, as a POST or PUT body's "schemas" is
// read (schema.ResourceType.Validate: an extension is listed when declared
// or present). Replacing "schemas" with the core URN alone therefore leaves
// the enterprise data listed rather than hidden from schemas filters; an
// extension's data is removed by removing its attributes (RFC 7643 §3).
func (e *evaluator) relistExtensions() {
	schemas, _ := get(e.doc, "schemas")
	list, ok := schemas.([]any)
	if !ok {
		return // not a list: validate reports it
	}
	for _, ext := range e.rt.Extensions {
		if _, present := get(e.doc, ext.Schema.ID); !present {
			continue
		}
		if !slices.ContainsFunc(list, func(v any) bool { s, ok := v.(string); return ok && strings.EqualFold(s, ext.Schema.ID) }) {
			list = append(slices.Clone(list), ext.Schema.ID)
		}
	}
	set(e.doc, "schemas", list)
}

// syncExtension drops an extension object that the request left empty and
// keeps "schemas" listing exactly the extensions present (RFC 7643 §3: the
// "schemas" attribute lists the schemas of the resource's attributes).
func (e *evaluator) syncExtension(ext *schema.Schema) error {
	m, present := get(e.doc, ext.ID)
	if obj, ok := m.(map[string]any); present && (m == nil || ok && len(obj) == 0) {
		del(e.doc, ext.ID)
		present = false
	}
	schemas, _ := get(e.doc, "schemas")
	list, _ := schemas.([]any)
	has := slices.IndexFunc(list, func(v any) bool { s, ok := v.(string); return ok && strings.EqualFold(s, ext.ID) })
	switch {
	case present && has < 0:
		set(e.doc, "schemas", append(slices.Clone(list), ext.ID))
	case !present && has >= 0:
		if e.extRequired(ext) {
			return scim.Errorf(400, scim.Mutability, "the extension %s is required for %s resources and cannot be removed (RFC 7644 §3.5.2.2)", ext.ID, e.rt.Name)
		}
		set(e.doc, "schemas", slices.Delete(slices.Clone(list), has, has+1))
	}
	return nil
}

func (e *evaluator) extRequired(ext *schema.Schema) bool {
	for _, x := range e.rt.Extensions {
		if x.Schema == ext {
			return x.Required
		}
	}
	return false
}

// lookupIn reads the top-level attribute s of doc.
func lookupIn(doc map[string]any, s slot) (any, bool) {
	c := doc
	if s.urn != "" {
		v, _ := get(doc, s.urn)
		c, _ = v.(map[string]any)
	}
	return get(c, s.name)
}

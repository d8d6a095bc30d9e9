// Package doc holds what the store backends share about resource documents:
// deep copies normalised to what encoding/json decodes, their JSON encoding,
// member lists in document form, and the plan for replacing a member list.
package doc

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"math"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

// MembersAttr is the document attribute that holds a group's members; the
// store keeps members in their own table and never stores this attribute.
const MembersAttr = "members"

// Clone returns a deep copy of d without the top-level members attribute,
// with every value normalised to the types encoding/json decodes into
// (string, float64, bool, nil, []any, map[string]any). A nil d gives an
// empty map. Values JSON cannot represent (NaN, channels, …) are an error.
func Clone(d map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(d))
	for k, v := range d {
		if k == MembersAttr {
			continue
		}
		c, err := cloneValue(v)
		if err != nil {
			return nil, fmt.Errorf("store: attribute %q: %w", k, err)
		}
		out[k] = c
	}
	return out, nil
}

// CloneStored deep-copies a document that Clone already normalised.
func CloneStored(d map[string]any) map[string]any {
	out := make(map[string]any, len(d)+1)
	for k, v := range d {
		out[k] = cloneStored(v)
	}
	return out
}

func cloneStored(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return CloneStored(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneStored(e)
		}
		return out
	default:
		return v
	}
}

func cloneValue(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("unsupported number %v", v)
		}
		return v, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			c, err := cloneValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := cloneValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		// Anything else (json.Number, int, []string, structs …) becomes
		// what a JSON round trip makes of it, as the SQLite backend does.
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// Encode returns d as JSON without the top-level members attribute. A nil d
// encodes as {}.
func Encode(d map[string]any) ([]byte, error) {
	if _, ok := d[MembersAttr]; ok {
		c := make(map[string]any, len(d))
		for k, v := range d {
			if k != MembersAttr {
				c[k] = v
			}
		}
		d = c
	}
	if d == nil {
		return []byte("{}"), nil
	}
	b, err := jsondoc.Append(make([]byte, 0, 512), d)
	if err != nil {
		return nil, fmt.Errorf("store: encode document: %w", err)
	}
	return b, nil
}

// Decode parses a stored document.
func Decode(b []byte) (map[string]any, error) {
	d, err := jsondoc.DecodeObject(b)
	if err != nil {
		return nil, fmt.Errorf("store: decode stored document: %w", err)
	}
	if d == nil {
		d = map[string]any{}
	}
	return d, nil
}

// Members returns ms in document form: a []any of map[string]any with
// "value" and, when not empty, "type" and "display".
func Members(ms []store.Member) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		e := map[string]any{"value": m.Value}
		if m.Type != "" {
			e["type"] = m.Type
		}
		if m.Display != "" {
			e["display"] = m.Display
		}
		out[i] = e
	}
	return out
}

// ErrNoIdentity is returned by Create for a resource without a Type or ID.
var ErrNoIdentity = errors.New("store: a resource needs a Type and an ID")

// ForCreate checks what a Create (Store.Create, Tx.Create) is given and
// returns the resource's document encoded and its members deduplicated.
func ForCreate(r *store.Resource, members []store.Member) ([]byte, []store.Member, error) {
	if r.Type == "" || r.ID == "" {
		return nil, nil, ErrNoIdentity
	}
	d, err := Encode(r.Doc)
	if err != nil {
		return nil, nil, err
	}
	ms, err := Dedupe(members)
	if err != nil {
		return nil, nil, err
	}
	return d, ms, nil
}

// ErrEmptyValue is returned for a member without a value.
var ErrEmptyValue = errors.New("store: member value is empty")

// Dedupe returns ms without repeated values (the first one wins), or
// ErrEmptyValue when a member has no value.
func Dedupe(ms []store.Member) ([]store.Member, error) {
	seen := make(map[string]struct{}, len(ms))
	out := make([]store.Member, 0, len(ms))
	for _, m := range ms {
		if m.Value == "" {
			return nil, ErrEmptyValue
		}
		if _, dup := seen[m.Value]; dup {
			continue
		}
		seen[m.Value] = struct{}{}
		out = append(out, m)
	}
	return out, nil
}

// SetPlan says how to turn an old member list into a new one. When Rewrite is
// false the change is incremental: remove Removed, update Updated in place
// (type, display), append Added; the result then has the new list's order.
// When Rewrite is true the order changed and the list must be replaced.
type SetPlan struct {
	Rewrite bool
	Removed []string
	Updated []store.Member
	Added   []store.Member
}

// Changed reports whether applying the plan changes anything.
func (p SetPlan) Changed() bool {
	return p.Rewrite || len(p.Removed)+len(p.Updated)+len(p.Added) > 0
}

// PlanSet compares old with next (deduplicated) and returns the cheapest plan.
func PlanSet(old, next []store.Member) SetPlan {
	oldPos := make(map[string]int, len(old))
	for i, m := range old {
		oldPos[m.Value] = i
	}
	var p SetPlan
	keep := make(map[string]struct{}, len(next))
	last := -1
	adding := false
	for _, m := range next {
		i, ok := oldPos[m.Value]
		if !ok {
			adding = true
			p.Added = append(p.Added, m)
			continue
		}
		if adding || i < last {
			return SetPlan{Rewrite: true}
		}
		last = i
		keep[m.Value] = struct{}{}
		if o := old[i]; o.Type != m.Type || o.Display != m.Display {
			p.Updated = append(p.Updated, m)
		}
	}
	for _, m := range old {
		if _, ok := keep[m.Value]; !ok {
			p.Removed = append(p.Removed, m.Value)
		}
	}
	return p
}

// Now is the store's clock: UTC, to the microsecond (what every backend keeps).
func Now() time.Time { return Time(time.Now()) }

// Time normalises t the way backends store it: UTC, microseconds, no
// monotonic reading; the zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Moved returns the values that are members in exactly one of old and next
// (deduplicated lists): the members whose groups a replacement of old by
// next changes.
func Moved(old, next []store.Member) []string {
	in := make(map[string]bool, len(old))
	for _, m := range old {
		in[m.Value] = true
	}
	var out []string
	for _, m := range next {
		if in[m.Value] {
			delete(in, m.Value)
		} else {
			out = append(out, m.Value)
		}
	}
	for _, m := range old {
		if in[m.Value] {
			out = append(out, m.Value)
		}
	}
	return out
}

// GroupName is a Group document's displayName: what its members' groups
// attribute shows of it (GroupRef.Display).
func GroupName(d map[string]any) string {
	name, _ := d["displayName"].(string)
	return name
}

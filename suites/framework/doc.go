package framework

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Doc is a decoded JSON object from the target: a resource, a ListResponse,
// an Error. Attribute names are looked up case-insensitively (RFC 7643 §2.1).
// Integers are int64, other numbers float64.
type Doc map[string]any

// Get returns the value at a dotted path of attribute names
// ("name.givenName", "meta.version"), or nil. An extension URN may lead the
// path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber".
func (d Doc) Get(path string) any {
	if d == nil {
		return nil
	}
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		i := strings.LastIndex(path, ":")
		ext, rest := path[:i], path[i+1:]
		if v, ok := lookup(d, ext); ok {
			if m, ok := v.(map[string]any); ok {
				return Doc(m).Get(rest)
			}
		}
		// A core-schema URN prefix: "urn:…:core:2.0:User:userName".
		if strings.Contains(strings.ToLower(ext), ":core:") {
			return d.Get(rest)
		}
		return nil
	}
	var cur any = map[string]any(d)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = lookup(m, part); !ok {
			return nil
		}
	}
	return cur
}

// Has reports whether the path is present (even when null).
func (d Doc) Has(path string) bool {
	if !strings.Contains(path, ".") {
		_, ok := lookup(d, path)
		return ok
	}
	i := strings.LastIndex(path, ".")
	parent, ok := d.Get(path[:i]).(map[string]any)
	if !ok {
		return false
	}
	_, ok = lookup(parent, path[i+1:])
	return ok
}

// Str returns the string at path, or "".
func (d Doc) Str(path string) string {
	s, _ := d.Get(path).(string)
	return s
}

// Int returns the integer at path and whether it is a JSON integer.
func (d Doc) Int(path string) (int, bool) {
	switch v := d.Get(path).(type) {
	case int64:
		return int(v), true
	case float64:
		if v == float64(int(v)) {
			return int(v), true
		}
	}
	return 0, false
}

// Total returns totalResults of a ListResponse (-1 when it is not an integer).
func (d Doc) Total() int {
	n, ok := d.Int("totalResults")
	if !ok {
		return -1
	}
	return n
}

// Bool returns the boolean at path and whether it is a JSON boolean.
func (d Doc) Bool(path string) (bool, bool) {
	b, ok := d.Get(path).(bool)
	return b, ok
}

// True reports whether the value at path is the JSON boolean true.
func (d Doc) True(path string) bool {
	b, ok := d.Get(path).(bool)
	return ok && b
}

// List returns the array at path as objects (non-objects are skipped).
func (d Doc) List(path string) []Doc {
	arr, _ := d.Get(path).([]any)
	out := make([]Doc, 0, len(arr))
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			out = append(out, Doc(m))
		}
	}
	return out
}

// Strings returns the array at path as strings (non-strings are skipped).
func (d Doc) Strings(path string) []string {
	arr, _ := d.Get(path).([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// ID returns the resource id.
func (d Doc) ID() string { return d.Str("id") }

// Resources returns the Resources of a ListResponse.
func (d Doc) Resources() []Doc { return d.List("Resources") }

// Values returns the "value" sub-attribute of each element of a
// multi-valued attribute (members, groups, emails).
func (d Doc) Values(path string) []string {
	var out []string
	for _, e := range d.List(path) {
		if s := e.Str("value"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Keys returns the top-level attribute names, lower-cased.
func (d Doc) Keys() []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, strings.ToLower(k))
	}
	return out
}

// Clone returns a deep copy.
func (d Doc) Clone() Doc {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return Doc(normalizeNumbers(out).(map[string]any))
}

// String renders the document as compact JSON.
func (d Doc) String() string {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Sprintf("%v", map[string]any(d))
	}
	return string(b)
}

func lookup(m map[string]any, name string) (any, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

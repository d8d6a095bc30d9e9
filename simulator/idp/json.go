package idp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// obj is a JSON object written with its members in the order given, so that a
// body has the same bytes on every run and the key order the IdP uses.
type obj []field

type field struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshal(f.key))
		b.WriteByte(':')
		b.Write(marshal(f.value))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal encodes v compactly without HTML escaping: IdPs send "R&D", not
// "R\u0026D", and non-ASCII letters as UTF-8. It panics on a value that
// cannot be encoded, which only a programming error produces.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("idp: cannot encode %T: %v", v, err))
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// object is a decoded JSON object that keeps its members' order, for merging
// changes into a resource the target sent (Okta's GET-then-PUT, §1.1 row 5).
type object struct {
	keys []string
	vals []json.RawMessage
}

var errNotObject = errors.New("not a JSON object")

// parseObject decodes a JSON object, keeping member order and raw values.
func parseObject(b []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	o := &object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return nil, err
		}
		o.keys = append(o.keys, key)
		o.vals = append(o.vals, c.Bytes())
	}
	return o, nil
}

// find returns the index of key, matched case-insensitively as SCIM attribute
// names are (RFC 7643 §2.1), or -1.
func (o *object) find(key string) int {
	for i, k := range o.keys {
		if strings.EqualFold(k, key) {
			return i
		}
	}
	return -1
}

// get returns the raw value of key.
func (o *object) get(key string) (json.RawMessage, bool) {
	if i := o.find(key); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// set replaces key's value in place, or appends the member.
func (o *object) set(key string, v any) {
	raw := json.RawMessage(marshal(v))
	if i := o.find(key); i >= 0 {
		o.vals[i] = raw
		return
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, raw)
}

// MarshalJSON writes the members in their original order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(marshal(k))
		b.WriteByte(':')
		b.Write(o.vals[i])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

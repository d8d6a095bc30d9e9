package jsondoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeObject parses b as json.Unmarshal into a map[string]any does, and
// returns what it returns: the same map (nil for "null"), the same error
// (*json.SyntaxError, *json.UnmarshalTypeError, …). Duplicate keys keep
// the last value; numbers are float64; escapes, surrogate pairs and lone
// surrogates (U+FFFD) decode as encoding/json decodes them.
//
// A hand-written parser handles the documents SCIM clients send, in one
// pass and with few allocations. Anything it does not handle itself it
// hands to encoding/json: any malformed input (so every error and its
// message comes from encoding/json), a top level that is not an object,
// invalid UTF-8 (which encoding/json replaces with U+FFFD), a number out
// of float64's range, or nesting deeper than maxFastDepth.
func DecodeObject(b []byte) (map[string]any, error) {
	if m, _, ok := decodeFast(b); ok {
		return m, nil
	}
	var m map[string]any
	err := json.Unmarshal(b, &m)
	return m, err
}

// DuplicateKeyError reports an object that names one key twice.
type DuplicateKeyError struct {
	Key string
}

func (e *DuplicateKeyError) Error() string {
	k := e.Key
	if len(k) > 60 {
		k = k[:60] + "…"
	}
	return fmt.Sprintf("the key %q appears twice in one object", k)
}

// DecodeObjectUnique is DecodeObject, except that an object (at any depth)
// that names the same key twice is a *DuplicateKeyError instead of keeping
// the last value: RFC 8259 §4 says names SHOULD be unique, and a client
// that sends two values for one attribute cannot know which one is kept.
// The hand-written parser notices repeats for free; input it hands to
// encoding/json is scanned once more for them.
func DecodeObjectUnique(b []byte) (map[string]any, error) {
	m, dup, ok := decodeFast(b)
	if !ok {
		if err := json.Unmarshal(b, &m); err != nil {
			return m, err
		}
		dup = firstDuplicate(b)
	}
	if dup != nil {
		return nil, &DuplicateKeyError{Key: *dup}
	}
	return m, nil
}

// firstDuplicate returns the first key that an object of the valid JSON b
// repeats, or nil.
func firstDuplicate(b []byte) *string {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next token in this object is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end (b is valid JSON)
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = &stack[n-1]
		}
		if top != nil && top.object && top.key {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return &k
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object, a key comes next.
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].key = true
		}
	}
}

// maxFastDepth bounds the parser's recursion; deeper documents go to
// encoding/json, which refuses nesting beyond 10000.
const maxFastDepth = 100

// decodeFast is the hand-written parser; ok is false when encoding/json
// must decide.
func decodeFast(b []byte) (m map[string]any, dup *string, ok bool) {
	d := decoders.Get().(*decoder)
	defer d.release()
	d.b, d.i, d.dup = b, 0, nil
	d.space()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return nil, nil, false
	}
	m, ok = d.object(0)
	if !ok {
		return nil, nil, false
	}
	d.space()
	if d.i != len(d.b) {
		return nil, nil, false
	}
	return m, d.dup, true
}

// decoder holds the input and two stacks shared by all levels of nesting:
// the members and elements parsed so far of the objects and arrays still
// open. Each object or array is built once its end is seen, at its exact
// size, so no map is grown or rehashed and no slice has spare capacity.
type decoder struct {
	b       []byte
	i       int
	members []member
	elems   []any
	scratch []byte  // unescaped bytes of the string being parsed
	dup     *string // the first key an object repeated, if any
	// keys remembers the object keys this decoder has seen, so that the
	// keys every document repeats ("schemas", "value", …) are allocated
	// once per pooled decoder rather than once per document.
	keys map[string]string
}

// Bounds of the key cache: short keys only, and not too many of them, so
// that documents full of unusual keys cannot make it grow.
const (
	maxCachedKey  = 40
	maxCachedKeys = 512
)

// decoders keeps decoders with their stacks between documents.
var decoders = sync.Pool{New: func() any { return new(decoder) }}

// release returns d to the pool with its buffers and key cache, but no
// reference to the input or to the values decoded from it.
func (d *decoder) release() {
	clear(d.members[:cap(d.members)])
	clear(d.elems[:cap(d.elems)])
	d.b, d.members, d.elems, d.dup = nil, d.members[:0], d.elems[:0], nil
	decoders.Put(d)
}

// repeated returns the first key of ms that an earlier member has.
func repeated(ms []member) *string {
	seen := make(map[string]bool, len(ms))
	for _, kv := range ms {
		if seen[kv.key] {
			k := kv.key
			return &k
		}
		seen[kv.key] = true
	}
	return nil
}

type member struct {
	key string
	val any
}

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// object parses an object; d.b[d.i] is '{'.
func (d *decoder) object(depth int) (map[string]any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return map[string]any{}, true
	}
	base := len(d.members)
	for {
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, false
		}
		k, ok := d.key()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, false
		}
		d.i++
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		d.members = append(d.members, member{k, v})
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			ms := d.members[base:]
			m := make(map[string]any, len(ms))
			for _, kv := range ms {
				m[kv.key] = kv.val // a repeated key keeps its last value, as in encoding/json
			}
			if len(m) != len(ms) && d.dup == nil {
				d.dup = repeated(ms)
			}
			clear(ms)
			d.members = d.members[:base]
			return m, true
		default:
			return nil, false
		}
	}
}

// array parses an array; d.b[d.i] is '['.
func (d *decoder) array(depth int) ([]any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	d.i++
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return []any{}, true
	}
	base := len(d.elems)
	for {
		v, ok := d.value(depth)
		if !ok {
			return nil, false
		}
		d.elems = append(d.elems, v)
		d.space()
		if d.i >= len(d.b) {
			return nil, false
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			es := d.elems[base:]
			a := make([]any, len(es))
			copy(a, es)
			clear(es)
			d.elems = d.elems[:base]
			return a, true
		default:
			return nil, false
		}
	}
}

func (d *decoder) value(depth int) (any, bool) {
	d.space()
	if d.i >= len(d.b) {
		return nil, false
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return d.str()
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

// literal consumes s ("true", "false" or "null"). A letter or digit right
// after it is left for the caller, which fails on it as encoding/json does.
func (d *decoder) literal(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// key parses an object key; d.b[d.i] is '"'. A plain key is looked up
// in the key cache first.
func (d *decoder) key() (string, bool) {
	start := d.i + 1
	for j := start; j < len(d.b) && j-start <= maxCachedKey; j++ {
		c := d.b[j]
		if c == '"' {
			if k, ok := d.keys[string(d.b[start:j])]; ok {
				d.i = j + 1
				return k, true
			}
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	k, ok := d.str()
	if ok && len(k) <= maxCachedKey && len(d.keys) < maxCachedKeys {
		if d.keys == nil {
			d.keys = make(map[string]string)
		}
		d.keys[k] = k
	}
	return k, ok
}

// str parses a string; d.b[d.i] is '"'.
func (d *decoder) str() (string, bool) {
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			d.i = j + 1
			return string(s), true
		case c == '\\':
			return d.escaped(start, j)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// escaped finishes a string with escape sequences: d.b[start:j] is its
// plain beginning and d.b[j] is the first backslash.
func (d *decoder) escaped(start, j int) (string, bool) {
	out := append(d.scratch[:0], d.b[start:j]...)
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", false
			}
			d.scratch = out
			d.i = j + 1
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(d.b) {
			return "", false
		}
		switch e := d.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(d.b[j+2:])
			if !ok {
				return "", false
			}
			j += 6
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by a low one is one rune; any
				// other surrogate is U+FFFD and what follows it is read on
				// its own, as encoding/json does.
				if j+1 < len(d.b) && d.b[j] == '\\' && d.b[j+1] == 'u' {
					if r2, ok := hex4(d.b[j+2:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							j += 6
						} else {
							r = utf8.RuneError
						}
					} else {
						return "", false
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		j += 2
	}
	return "", false
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number parses a number with JSON's grammar into a float64, as
// strconv.ParseFloat (which encoding/json uses) would.
func (d *decoder) number() (any, bool) {
	start := d.i
	j := d.i
	neg := j < len(d.b) && d.b[j] == '-'
	if neg {
		j++
	}
	var n uint64
	switch {
	case j < len(d.b) && d.b[j] == '0':
		j++
	case j < len(d.b) && d.b[j] >= '1' && d.b[j] <= '9':
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			n = n*10 + uint64(d.b[j]-'0')
			j++
		}
	default:
		return nil, false
	}
	integer := true
	if j < len(d.b) && d.b[j] == '.' {
		integer = false
		j++
		digits := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == digits {
			return nil, false
		}
	}
	if j < len(d.b) && (d.b[j] == 'e' || d.b[j] == 'E') {
		integer = false
		j++
		if j < len(d.b) && (d.b[j] == '+' || d.b[j] == '-') {
			j++
		}
		digits := j
		for j < len(d.b) && d.b[j] >= '0' && d.b[j] <= '9' {
			j++
		}
		if j == digits {
			return nil, false
		}
	}
	d.i = j
	// Up to 15 digits an integer is exact in a float64, so the conversion
	// is what ParseFloat returns; "-0" is left to ParseFloat for its sign.
	if integer && j-start <= 15 && n != 0 {
		if neg {
			return -float64(n), true
		}
		return float64(n), true
	}
	f, err := strconv.ParseFloat(string(d.b[start:j]), 64)
	if err != nil {
		return nil, false // out of range: encoding/json reports it
	}
	return f, true
}

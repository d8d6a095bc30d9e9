package doc

import (
	"math"
	"slices"
	"strconv"
)

// encodeFast appends d as encoding/json (HTML escaping off) encodes it, byte
// for byte, for the common case: it reports ok false (and the caller falls
// back to encoding/json) on any value that is not a string, float64, bool,
// nil, []any or map[string]any, on a string that needs an escape or holds a
// byte outside printable ASCII, on a number JSON cannot represent, and on
// nesting deeper than maxFastDepth.
func encodeFast(buf []byte, d map[string]any, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = appendPlainString(buf, k); !ok {
			return nil, false
		}
		buf = append(buf, ':')
		if buf, ok = encodeValue(buf, d[k], depth); !ok {
			return nil, false
		}
	}
	return append(buf, '}'), true
}

func encodeValue(buf []byte, v any, depth int) ([]byte, bool) {
	switch v := v.(type) {
	case nil:
		return append(buf, "null"...), true
	case string:
		return appendPlainString(buf, v)
	case bool:
		return strconv.AppendBool(buf, v), true
	case float64:
		return appendFloat(buf, v)
	case map[string]any:
		if v == nil {
			return append(buf, "null"...), true
		}
		return encodeFast(buf, v, depth+1)
	case []any:
		if v == nil {
			return append(buf, "null"...), true
		}
		if depth+1 > maxFastDepth {
			return nil, false
		}
		buf = append(buf, '[')
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ',')
			}
			var ok bool
			if buf, ok = encodeValue(buf, e, depth+1); !ok {
				return nil, false
			}
		}
		return append(buf, ']'), true
	}
	return nil, false
}

// appendPlainString appends s quoted when it needs no escape: printable
// ASCII other than '"' and '\\'.
func appendPlainString(buf []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, false
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"'), true
}

// appendFloat formats f as encoding/json does.
func appendFloat(buf []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	buf = strconv.AppendFloat(buf, f, fmt, -1, 64)
	if fmt == 'e' {
		// clean up e-09 to e-9
		n := len(buf)
		if n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf, true
}

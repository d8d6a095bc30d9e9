package patch

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/jsondoc"
	"github.com/scimlab/scimlab/reference-server/scim"
)

var parseCases = []string{
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u2\"]"}]}`,
	`{"Schemas":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],"operations":[{"OP":"Remove","Path":"members"}]}`,
	`{"ſchemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp",null],"Operations":[null]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"schemas":["x"],"Operations":[{"op":"remove"}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Schemas":["x"],"Operations":[{"op":"remove"}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","Op":"remove","value":1}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":1e400}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","value":null}],"x":1e400}`,
	`{"schemas":[1],"Operations":[]}`, `{"schemas":"x"}`, `{"schemas":null}`, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{}}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[1]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":1}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"copy"}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":1}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":null,"value":{"a":-0}}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"x"}]}`,
	"{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"value\":\"\xff\"}]}",
	`null`, `[]`, `"x"`, `{`, `{} {}`, ` `,
}

// TestParseDecodedMatchesParseRaw checks that the fast path answers exactly
// what encoding/json's struct decoding answers.
func TestParseDecodedMatchesParseRaw(t *testing.T) {
	for _, c := range parseCases {
		checkParse(t, []byte(c))
	}
}

// FuzzParse compares Parse with parseRaw, the encoding/json definition of
// what it accepts, on any input: the same operations or the same error.
func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkParse(t, b) })
}

func checkParse(t *testing.T, b []byte) {
	t.Helper()
	got, gerr := Parse(b)
	want, werr := legacyParse(b)
	if !reflect.DeepEqual(gerr, werr) {
		t.Fatalf("%q: Parse error %v, parseRaw error %v", b, gerr, werr)
	}
	if !reflect.DeepEqual(got.Schemas, want.Schemas) || len(got.Operations) != len(want.Operations) {
		t.Fatalf("%q: Parse = %#v, parseRaw = %#v", b, got, want)
	}
	for i, op := range got.Operations {
		w := want.Operations[i]
		if op.Op != w.Op || op.Path != w.Path || !sameJSON(op.Value, w.Value) {
			t.Fatalf("%q: Operations[%d] = %#v, parseRaw = %#v", b, i, op, w)
		}
	}
}

// legacyParse is Parse as it was before parseDecoded: the checks before
// decoding (an empty body, bytes that are not UTF-8, a key given twice:
// TestParseRefusesAmbiguousBodies), then encoding/json.
func legacyParse(b []byte) (scim.PatchOp, error) {
	var dup *jsondoc.DuplicateKeyError
	if _, err := jsondoc.DecodeObjectUnique(b); len(bytes.TrimSpace(b)) == 0 || !utf8.Valid(b) || errors.As(err, &dup) {
		return Parse(b)
	}
	return parseRaw(b)
}

// TestParseRefusesAmbiguousBodies: a member given twice, or bytes that are
// not UTF-8, make a PatchOp invalidSyntax rather than one of its readings.
func TestParseRefusesAmbiguousBodies(t *testing.T) {
	const head = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`
	for _, b := range []string{
		head + `{"op":"replace","op":"add","path":"active","value":false}]}`,
		head + `{"op":"add","path":"emails","value":[{"value":"a","value":"b"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"schemas":[],"Operations":[]}`,
		head + "{\"op\":\"add\",\"path\":\"displayName\",\"value\":\"\xc3\x28\"}]}",
	} {
		_, err := Parse([]byte(b))
		var se *scim.Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scim.InvalidSyntax {
			t.Errorf("%q: %v, want 400 invalidSyntax", b, err)
		}
	}
}

// sameJSON is reflect.DeepEqual for decoded JSON, except that it tells 0
// from -0.
func sameJSON(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := y.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return x == y
}

// Members whose names differ only in case go to parseRaw: encoding/json
// takes the later one, which the decoded map cannot tell.
func TestParseDecodedLeavesAmbiguousNamesToParseRaw(t *testing.T) {
	for _, c := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Schemas":["x"],"Operations":[{"op":"remove"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","Op":"remove","value":1}]}`,
	} {
		m, err := jsondoc.DecodeObject([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseDecoded(m); err != errAmbiguous {
			t.Errorf("parseDecoded(%s) = %v, want errAmbiguous", c, err)
		}
	}
}

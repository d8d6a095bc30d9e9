package doc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
)

var decodeCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":-0}`, `{"a":-0.5e-3}`, `{"a":1E+2}`, `{"a":12345678901234567890}`,
	`{"a":"x","a":"y"}`, `{"a":{"b":1},"a":{"c":2}}`, `{"a":[]}`, `{"a":[1,"2",true,false,null,{"b":[{}]}]}`,
	`{"userName":"bench@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"b@example.test","type":"work","primary":true}],"active":true}`,
	"{\"a\":\"héllo wörld ✓\"}", `{"a":"\u00e9\n\"\\"}`, "{\"a\":\"\xff\"}", "{\"a\":\"\x01\"}",
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":+1}`, `{"a":1e400}`, `{"a":tru}`, `{"a":truex}`,
	`{"a":nul}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":1} x`, `{"a":1}}`, `[1]`, `null`, `"x"`, ``, `{`,
	`{"a":"unterminated}`, "{\t\"a\"\r:\n[ 1 , 2 ]\n}\n", `{"":""}`, `{"a":[[[[[[[[[[[[1]]]]]]]]]]]]}`,
}

// TestDecodeMatchesEncodingJSON checks that Decode returns what
// json.Unmarshal into a map[string]any returns, and fails when it fails.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, c := range decodeCases {
		checkDecode(t, []byte(c))
	}
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecode(t, b) })
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]any
	werr := json.Unmarshal(b, &want)
	if werr == nil && want == nil {
		want = map[string]any{}
	}
	got, gerr := Decode(b)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%q: Decode error %v, encoding/json error %v", b, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: Decode = %#v, encoding/json = %#v", b, got, want)
	}
}

func BenchmarkDecode(b *testing.B) {
	d := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-x-1@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"bench-x-1@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-x-1"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(d); err != nil {
			b.Fatal(err)
		}
	}
}

var encodeCases = []map[string]any{
	{}, {"a": 1.0}, {"b": "x", "a": []any{1.5, math.Copysign(0, -1), 1e21, 1e-7, 123456789.0, 1e20, 0.000001, true, false, nil}},
	{"a": map[string]any{"z": map[string]any{}, "y": []any{}}}, {"a": "é"}, {"a": "x\"y"}, {"a": "<&>"}, {"a\n": 1.0},
	{"a": 1}, {"a": []string{"x"}}, {"a": map[string]any(nil)}, {"a": []any(nil)}, {"a": 5e-324}, {"a": 1.7976931348623157e308},
	{"userName": "bench@example.test", "name": map[string]any{"givenName": "Bench"}, "emails": []any{map[string]any{"value": "b@example.test", "primary": true}}},
}

// TestEncodeMatchesEncodingJSON checks that Encode writes what
// encoding/json writes, byte for byte.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for _, d := range encodeCases {
		checkEncode(t, d)
	}
}

func checkEncode(t *testing.T, d map[string]any) {
	t.Helper()
	want, werr := encodeJSON(d)
	got, gerr := Encode(d)
	if (werr != nil) != (gerr != nil) || string(got) != string(want) {
		t.Fatalf("%#v: Encode = %s, %v; encoding/json = %s, %v", d, got, gerr, want, werr)
	}
}

// FuzzEncode encodes what a fuzzed document decodes to.
func FuzzEncode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d map[string]any
		if json.Unmarshal(b, &d) == nil && d != nil { // Encode(nil) is {} by design
			checkEncode(t, d)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	d, _ := Decode([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-x-1@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"bench-x-1@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-x-1"}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeJSON(b *testing.B) {
	d, _ := Decode([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-x-1@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"bench-x-1@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-x-1"}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeJSON(d); err != nil {
			b.Fatal(err)
		}
	}
}

// encodeJSON is Encode through encoding/json: the reference the tests
// compare Encode with.
func encodeJSON(d map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("store: encode document: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

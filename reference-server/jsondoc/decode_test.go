package jsondoc

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

var decodeCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":0}`, `{"a":-0}`, `{"a":-0.0}`, `{"a":-0.5e-3}`, `{"a":1E+2}`, `{"a":123456789012345}`,
	`{"a":-123456789012345}`, `{"a":1234567890123456}`, `{"a":12345678901234567890}`, `{"a":9007199254740993}`,
	`{"a":"x","a":"y"}`, `{"a":{"b":1},"a":{"c":2}}`, `{"a":[]}`, `{"a":[1,"2",true,false,null,{"b":[{}]}]}`,
	`{"userName":"bench@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"b@example.test","type":"work","primary":true}],"active":true}`,
	"{\"a\":\"héllo wörld ✓\"}", `{"a":"\u00e9\n\"\\\/\b\f\r\t"}`, `{"\u0061\"":"k"}`, "{\"a\":\"\xff\"}", "{\"a\":\"\x01\"}", "{\"a\":\"x\\\xff\"}",
	`{"a":"\ud83d\ude00"}`, `{"a":"\ud83d"}`, `{"a":"\ude00\ud83d"}`, `{"a":"\ud83d\u0041"}`, `{"a":"\ud83dx"}`, `{"a":"\ud83d\ud83d\ude00"}`,
	`{"a":"\uD83D\uDE00"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, `{"a":"\ud83d\u12"}`, `{"a":"\x"}`, `{"a":"\`, `{"a":"\u`, `{"a":"é\n"}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":+1}`, `{"a":1e400}`, `{"a":-1e400}`, `{"a":tru}`, `{"a":truex}`,
	`{"a":nul}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":1} x`, `{"a":1}}`, `[1]`, `null`, ` null `, `"x"`, ``, `{`,
	`{"a":"unterminated}`, "{\t\"a\"\r:\n[ 1 , 2 ]\n}\n", `{"":""}`, `{"a":[[[[[[[[[[[[1]]]]]]]]]]]]}`, "\ufeff{}", `{"a":1}/`,
	`{"a":{"b":{"c":{"d":1e999}}}}`, `{"b":[1e999]}`, `{"a":true false}`,
}

// TestDecodeObjectMatchesEncodingJSON checks that DecodeObject returns what
// json.Unmarshal into a map[string]any returns, error included.
func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	cases := append([]string{
		"{\"deep\":" + strings.Repeat("[", maxFastDepth+5) + strings.Repeat("]", maxFastDepth+5) + "}",
		"{\"deep\":" + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "}",
		"{\"deep\":" + strings.Repeat(`{"a":`, maxFastDepth-1) + "1" + strings.Repeat("}", maxFastDepth-1) + "}",
	}, decodeCases...)
	for _, c := range cases {
		checkDecodeObject(t, []byte(c))
	}
}

// The hand-written parser, not encoding/json, decodes the documents SCIM
// clients send, escapes and numbers included.
func TestDecodeFastHandlesTheCommonCases(t *testing.T) {
	for _, c := range []string{
		`{"userName":"bench@example.test","name":{"givenName":"Bench"},"emails":[{"value":"b@example.test","primary":true}],"active":true}`, `{"a":"\u00e9\n\"\\\/\b\f\r\t"}`, `{"a":"\ud83d\ude00","b":"\ud83d"}`, `{"a":[-0,0.5,1e3,123456789012345678]}`,
		`{"members[value eq \"2819c223\"]":"x"}`,
	} {
		if _, _, ok := decodeFast([]byte(c)); !ok {
			t.Errorf("decodeFast(%s) fell back to encoding/json", c)
		}
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkDecodeObject(t, b) })
}

func checkDecodeObject(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]any
	werr := json.Unmarshal(b, &want)
	got, gerr := DecodeObject(b)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%q: DecodeObject error %v, encoding/json error %v", b, gerr, werr)
	}
	if !same(got, want) {
		t.Fatalf("%q: DecodeObject = %#v, encoding/json = %#v", b, got, want)
	}
	if fast, _, ok := decodeFast(b); ok && (werr != nil || !same(fast, want)) {
		t.Fatalf("%q: decodeFast = %#v, encoding/json = %#v, %v", b, fast, want, werr)
	}
	if werr == nil && want != nil {
		// Both ways of finding a repeated key agree on whether there is one.
		_, uerr := DecodeObjectUnique(b)
		var de *DuplicateKeyError
		if repeats := firstDuplicate(b) != nil; repeats != errors.As(uerr, &de) {
			t.Fatalf("%q: firstDuplicate says %v, DecodeObjectUnique says %v", b, repeats, uerr)
		}
	}
}

// TestDecodeObjectUnique: a key named twice in any object is refused, on the
// fast path and on encoding/json's alike; keys that differ in case are not
// the same key here (the schema layer decides about those).
func TestDecodeObjectUnique(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxFastDepth+5) + `{"k":1,"k":2}` + strings.Repeat("}", maxFastDepth+5)
	for in, dup := range map[string]string{
		`{"userName":"a","userName":"b"}`:             "userName",
		`{"emails":[{"value":"a","value":"b"}]}`:      "value",
		`{"a":{"b":1},"c":{"b":2}}`:                   "",
		`{"userName":"a","USERNAME":"b"}`:             "",
		`{"n":1e999,"n":2}`:                           "", // encoding/json refuses the number first
		`{"bad":"ÿ","bad":1}`:                         "bad",
		deep:                                          "k",
		`{"x":[1,{"y":1}],"z":{"y":2,"w":[{"y":3}]}}`: "",
	} {
		_, err := DecodeObjectUnique([]byte(in))
		var de *DuplicateKeyError
		switch {
		case dup == "" && errors.As(err, &de):
			t.Errorf("%.60s: %v, want no duplicate", in, err)
		case dup != "" && (!errors.As(err, &de) || de.Key != dup):
			t.Errorf("%.60s: %v, want the duplicate %q", in, err, dup)
		}
	}
}

// same is reflect.DeepEqual for decoded JSON, except that it tells 0 from
// -0 (encoding/json keeps the sign).
func same(x, y any) bool {
	switch x := x.(type) {
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !same(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := y.([]any)
		if !ok || (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
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

func BenchmarkDecodeObject(b *testing.B) {
	d := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-x-1@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"bench-x-1@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-x-1"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeObject(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	d := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bench-x-1@example.test","name":{"givenName":"Bench","familyName":"User 1"},"emails":[{"value":"bench-x-1@example.test","type":"work","primary":true}],"active":true,"externalId":"ext-x-1"}`)
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			b.Fatal(err)
		}
	}
}

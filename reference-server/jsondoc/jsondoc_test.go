package jsondoc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

func stdEncode(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,-3e-9,1e21,true,null,"x\u2028<&>\u0001\"\\"],"b":{"c":{}},"":[]}`, `"\xff\xfeok"`, `[0.000001,123456789012345678901234]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v any
		if json.Unmarshal([]byte(in), &v) != nil {
			// Raw strings with invalid UTF-8 still have to encode like encoding/json.
			v = map[string]any{"s": in, in: []any{in}}
		}
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := stdEncode(v); string(got) != want {
			t.Fatalf("Marshal(%q)\n got %s\nwant %s", in, got, want)
		}
	})
}

// Nil maps and slices are null, as encoding/json writes them.
func TestNilIsNull(t *testing.T) {
	for _, v := range []any{map[string]any{"a": map[string]any(nil), "b": []any(nil), "c": []string(nil)}, map[string]any(nil), []any(nil)} {
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := stdEncode(v); string(got) != want {
			t.Errorf("Marshal(%#v) = %s, want %s", v, got, want)
		}
	}
}

func TestMapStrings(t *testing.T) {
	in := map[string]any{
		"a": "x", "n": 1.5, "b": true, "z": nil,
		"list": []any{"x", map[string]any{"x": "x"}, []any{"y"}},
	}
	got := MapStrings(in, func(s string) string { return s + "!" })
	want := map[string]any{
		"a": "x!", "n": 1.5, "b": true, "z": nil,
		"list": []any{"x!", map[string]any{"x": "x!"}, []any{"y!"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MapStrings = %#v", got)
	}
	if in["a"] != "x" || in["list"].([]any)[0] != "x" {
		t.Fatalf("MapStrings changed its input: %#v", in)
	}
}

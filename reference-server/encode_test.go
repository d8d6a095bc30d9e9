package server

import (
	"bytes"
	"encoding/json"
	"testing"
)

func stdEncode(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return string(bytes.TrimRight(buf.Bytes(), "\n"))
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,-3e-9,1e21,true,null,"x\u2028<&>\u0001\"\\"],"b":{"c":{}},"":[]}`, `"\xff\xfeok"`, `[0.000001,123456789012345678901234]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var v any
		if json.Unmarshal([]byte(in), &v) != nil {
			// Raw strings with invalid UTF-8 still have to encode like encoding/json.
			v = map[string]any{"s": in, in: []any{in}}
		}
		got, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := stdEncode(v); string(got) != want {
			t.Fatalf("marshal(%q)\n got %s\nwant %s", in, got, want)
		}
	})
}

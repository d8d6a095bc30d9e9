package patch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/scim"
)

const schemas = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		body string
		err  scim.Type // "" for success
		want []scim.PatchOperation
	}{
		{name: "empty body", body: "", err: scim.InvalidSyntax},
		{name: "white space", body: " \n", err: scim.InvalidSyntax},
		{name: "truncated JSON", body: `{` + schemas + `,"Operations":[`, err: scim.InvalidSyntax},
		{name: "not an object", body: `[1]`, err: scim.InvalidSyntax},
		{name: "trailing data", body: `{` + schemas + `,"Operations":[{"op":"remove","path":"x"}]} {}`, err: scim.InvalidSyntax},
		{name: "no schemas", body: `{"Operations":[{"op":"remove","path":"x"}]}`, err: scim.InvalidSyntax},
		{name: "null schemas", body: `{"schemas":null,"Operations":[{"op":"remove","path":"x"}]}`, err: scim.InvalidSyntax},
		{name: "schemas not an array", body: `{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"remove","path":"x"}]}`, err: scim.InvalidSyntax},
		{name: "wrong schema", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"remove","path":"x"}]}`, err: scim.InvalidSyntax},
		{name: "no Operations", body: `{` + schemas + `}`, err: scim.InvalidSyntax},
		{name: "Operations not an array", body: `{` + schemas + `,"Operations":{"op":"remove"}}`, err: scim.InvalidSyntax},
		{name: "empty Operations (scimmy#59)", body: `{` + schemas + `,"Operations":[]}`, err: scim.InvalidValue},
		{name: "operation not an object", body: `{` + schemas + `,"Operations":["add"]}`, err: scim.InvalidSyntax},
		{name: "no op", body: `{` + schemas + `,"Operations":[{"path":"x","value":1}]}`, err: scim.InvalidSyntax},
		{name: "op not a string", body: `{` + schemas + `,"Operations":[{"op":1,"path":"x","value":1}]}`, err: scim.InvalidSyntax},
		{name: "unknown op", body: `{` + schemas + `,"Operations":[{"op":"copy","path":"x","value":1}]}`, err: scim.InvalidSyntax},
		{name: "path not a string", body: `{` + schemas + `,"Operations":[{"op":"remove","path":["x"]}]}`, err: scim.InvalidSyntax},
		{name: "add without value", body: `{` + schemas + `,"Operations":[{"op":"add","path":"x"}]}`, err: scim.InvalidValue},
		{name: "replace with null value", body: `{` + schemas + `,"Operations":[{"op":"replace","path":"x","value":null}]}`, err: scim.InvalidValue},
		{name: "second operation bad", body: `{` + schemas + `,"Operations":[{"op":"remove","path":"x"},{"op":"bogus"}]}`, err: scim.InvalidSyntax},
		{
			name: "capitalised ops are kept as sent (B3)",
			body: `{` + schemas + `,"Operations":[{"op":"Add","path":"a","value":"1"},{"op":"REPLACE","value":{"b":true}},{"op":"Remove","path":"c","value":[{"value":"u1"}]}]}`,
			want: []scim.PatchOperation{
				{Op: "Add", Path: "a", Value: "1"},
				{Op: "REPLACE", Value: map[string]any{"b": true}},
				{Op: "Remove", Path: "c", Value: []any{map[string]any{"value": "u1"}}},
			},
		},
		{
			name: "member names match case-insensitively",
			body: `{"Schemas":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],"operations":[{"OP":"remove","Path":"members"}]}`,
			want: []scim.PatchOperation{{Op: "remove", Path: "members"}},
		},
		{
			name: "remove without a path parses; Apply answers noTarget",
			body: `{` + schemas + `,"Operations":[{"op":"remove"}]}`,
			want: []scim.PatchOperation{{Op: "remove"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := patch.Parse([]byte(c.body))
			if c.err != "" {
				if !errors.Is(err, scim.New(400, c.err, "")) {
					t.Fatalf("got (%+v, %v), want 400 %s", got, err, c.err)
				}
				if d := scim.AsError(err).Detail; d == "" || strings.Contains(d, "EOF") || strings.Contains(d, "json:") {
					t.Errorf("detail %q is not a sentence for people", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c.want, got.Operations); d != "" {
				t.Errorf("operations (-want +got):\n%s", d)
			}
			if len(got.Schemas) != 1 {
				t.Errorf("schemas = %q", got.Schemas)
			}
		})
	}
}

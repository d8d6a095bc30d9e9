package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// Parse decodes a PATCH request body (RFC 7644 §3.5.2) and checks its
// structure: the body is a JSON object; "schemas" is an array of strings
// that contains the PatchOp URN; "Operations" is an array of one or more
// operation objects; each "op" is add, remove or replace in any letter case;
// "path", when present, is a string; and add and replace carry a non-null
// "value". Member names match case-insensitively, as encoding/json does.
//
// A malformed body, a wrong "schemas", a missing "Operations" or an unknown
// op is 400 invalidSyntax. An empty "Operations" array is 400 invalidValue:
// the RFC requires at least one operation (Microsoft's SCIM validator sends
// an empty array; scimmy#59). A missing or null "value" of add or replace is
// 400 invalidValue, the scimType RFC 7644 §3.12 gives to "a required value
// was missing".
//
// The path grammar is checked by [Apply], which needs the resource type.
func Parse(body []byte) (scim.PatchOp, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "the request body is empty; a PATCH body is a PatchOp message (RFC 7644 §3.5.2)")
	}
	var msg struct {
		Schemas    json.RawMessage `json:"schemas"`
		Operations json.RawMessage `json:"Operations"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "the request body "+jsonProblem(err))
	}
	var out scim.PatchOp
	if isAbsent(msg.Schemas) {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" is missing; it must contain %q (RFC 7644 §3.5.2)", scim.PatchOpSchema)
	}
	if err := json.Unmarshal(msg.Schemas, &out.Schemas); err != nil {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" must be an array of strings containing %q", scim.PatchOpSchema)
	}
	if !containsFold(out.Schemas, scim.PatchOpSchema) {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" %q does not contain %q (RFC 7644 §3.5.2)", out.Schemas, scim.PatchOpSchema)
	}
	if isAbsent(msg.Operations) {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "\"Operations\" is missing; a PATCH body carries one or more operations (RFC 7644 §3.5.2)")
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(msg.Operations, &raws); err != nil {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "\"Operations\" must be an array of operation objects")
	}
	if len(raws) == 0 {
		return scim.PatchOp{}, scim.New(400, scim.InvalidValue, "\"Operations\" is empty; RFC 7644 §3.5.2 requires one or more operations")
	}
	out.Operations = make([]scim.PatchOperation, 0, len(raws))
	for i, raw := range raws {
		op, err := parseOperation(i, raw)
		if err != nil {
			return scim.PatchOp{}, err
		}
		out.Operations = append(out.Operations, op)
	}
	return out, nil
}

func parseOperation(i int, raw json.RawMessage) (scim.PatchOperation, error) {
	var o struct {
		Op    json.RawMessage `json:"op"`
		Path  json.RawMessage `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d] is not an operation object", i)
	}
	var op scim.PatchOperation
	if isAbsent(o.Op) || json.Unmarshal(o.Op, &op.Op) != nil {
		return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].op must be \"add\", \"remove\" or \"replace\"", i)
	}
	k, ok := kindOf(op.Op)
	if !ok {
		return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].op %q is not \"add\", \"remove\" or \"replace\" (RFC 7644 §3.5.2)", i, op.Op)
	}
	if !isAbsent(o.Path) && json.Unmarshal(o.Path, &op.Path) != nil {
		return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].path must be a string", i)
	}
	if !isAbsent(o.Value) {
		if err := json.Unmarshal(o.Value, &op.Value); err != nil {
			return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].value %s", i, jsonProblem(err))
		}
	}
	if k != opRemove && op.Value == nil {
		return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidValue, "Operations[%d] (%s) has no \"value\"; RFC 7644 §3.5.2.%d requires one", i, op.Op, section(k))
	}
	return op, nil
}

// isAbsent reports whether a member was missing or JSON null.
func isAbsent(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// jsonProblem completes the sentence "the request body …" for an
// encoding/json error, without Go type names or a bare "EOF".
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("is not a JSON object but %s", article(te.Value))
	}
	return "is not valid JSON: " + err.Error()
}

func article(v string) string {
	switch v {
	case "array", "object":
		return "an " + v
	}
	return "a " + v
}

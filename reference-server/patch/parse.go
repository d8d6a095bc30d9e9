package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/jsondoc"
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
	if !utf8.Valid(body) {
		// encoding/json would store U+FFFD for the bad bytes (RFC 8259 §8.1).
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "the request body is not valid UTF-8 (RFC 8259 §8.1)")
	}
	m, err := jsondoc.DecodeObjectUnique(body)
	var dup *jsondoc.DuplicateKeyError
	if errors.As(err, &dup) {
		// Two values for one member ("op", "path", "value"): which one the
		// client meant is unknowable, so the operation is not run.
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "the PatchOp message is ambiguous: %v", dup)
	}
	if err == nil && m != nil {
		if out, err := parseDecoded(m); err != errAmbiguous {
			return out, err
		}
	}
	return parseRaw(body)
}

// errAmbiguous is parseDecoded's answer when two member names of the
// message or of an operation match the same field ("op" and "Op"):
// encoding/json then takes the later one, an order the decoded map does not
// keep, so parseRaw decides.
var errAmbiguous = errors.New("patch: two members match one field")

// parseDecoded is Parse for a body that decodes to a JSON object: it reads
// the decoded document once instead of decoding each member again, and
// returns what parseRaw returns, or errAmbiguous.
func parseDecoded(m map[string]any) (out scim.PatchOp, err error) {
	var fields [2]any
	if !lookupFields(m, []string{"schemas", "Operations"}, fields[:]) {
		return scim.PatchOp{}, errAmbiguous
	}
	schemas, ops := fields[0], fields[1]
	if schemas == nil {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" is missing; it must contain %q (RFC 7644 §3.5.2)", scim.PatchOpSchema)
	}
	list, isList := schemas.([]any)
	if !isList {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" must be an array of strings containing %q", scim.PatchOpSchema)
	}
	out.Schemas = make([]string, len(list))
	for i, v := range list {
		switch v := v.(type) {
		case string:
			out.Schemas[i] = v
		case nil: // encoding/json leaves a string alone for null
		default:
			return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" must be an array of strings containing %q", scim.PatchOpSchema)
		}
	}
	if !containsFold(out.Schemas, scim.PatchOpSchema) {
		return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "\"schemas\" %q does not contain %q (RFC 7644 §3.5.2)", out.Schemas, scim.PatchOpSchema)
	}
	if ops == nil {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "\"Operations\" is missing; a PATCH body carries one or more operations (RFC 7644 §3.5.2)")
	}
	raws, isList := ops.([]any)
	if !isList {
		return scim.PatchOp{}, scim.New(400, scim.InvalidSyntax, "\"Operations\" must be an array of operation objects")
	}
	if len(raws) == 0 {
		return scim.PatchOp{}, scim.New(400, scim.InvalidValue, "\"Operations\" is empty; RFC 7644 §3.5.2 requires one or more operations")
	}
	out.Operations = make([]scim.PatchOperation, 0, len(raws))
	for i, raw := range raws {
		var o [3]any
		switch raw := raw.(type) {
		case nil: // decodes as an operation with no members
		case map[string]any:
			if !lookupFields(raw, []string{"op", "path", "value"}, o[:]) {
				return scim.PatchOp{}, errAmbiguous
			}
		default:
			return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d] is not an operation object", i)
		}
		var op scim.PatchOperation
		var isString bool
		if op.Op, isString = o[0].(string); !isString {
			return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].op must be \"add\", \"remove\" or \"replace\"", i)
		}
		k, known := kindOf(op.Op)
		if !known {
			return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].op %q is not \"add\", \"remove\" or \"replace\" (RFC 7644 §3.5.2)", i, op.Op)
		}
		if o[1] != nil {
			if op.Path, isString = o[1].(string); !isString {
				return scim.PatchOp{}, scim.Errorf(400, scim.InvalidSyntax, "Operations[%d].path must be a string", i)
			}
		}
		op.Value = o[2]
		if k != opRemove && op.Value == nil {
			return scim.PatchOp{}, scim.Errorf(400, scim.InvalidValue, "Operations[%d] (%s) has no \"value\"; RFC 7644 §3.5.2.%d requires one", i, op.Op, section(k))
		}
		out.Operations = append(out.Operations, op)
	}
	return out, nil
}

// lookupFields sets vals[i] to the value of the member of obj whose name
// matches names[i] as encoding/json matches a struct field's name (exactly
// or under Unicode case folding); absent and null both leave nil. It
// reports false when two members match one name.
func lookupFields(obj map[string]any, names []string, vals []any) bool {
	var seen [3]bool
	for key, v := range obj {
		for i, name := range names {
			if strings.EqualFold(key, name) {
				if seen[i] {
					return false
				}
				seen[i], vals[i] = true, v
			}
		}
	}
	return true
}

// parseRaw is Parse through encoding/json's struct decoding, one member at
// a time: the definition of what Parse accepts, run for the bodies
// parseDecoded leaves to it (malformed JSON among them).
func parseRaw(body []byte) (scim.PatchOp, error) {
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
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && strings.HasPrefix(te.Value, "number ") {
				// Valid JSON, but a number no float64 holds.
				return scim.PatchOperation{}, scim.Errorf(400, scim.InvalidValue, "Operations[%d].value holds %s, out of range (a number must fit a 64-bit float)", i, shorten(te.Value, 60))
			}
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

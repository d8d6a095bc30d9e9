// Package scim holds the SCIM 2.0 wire vocabulary shared by the reference
// server, the suites and the simulator: schema URNs, resources, ListResponse,
// PatchOp, SearchRequest, BulkRequest/BulkResponse and the one Error type.
package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type is a scimType keyword: the detail error keyword of RFC 7644 §3.12, Table 9.
type Type string

// The scimType values of RFC 7644 §3.12, Table 9. No others are defined;
// product detail belongs in the Detail text, not a new keyword.
const (
	InvalidFilter Type = "invalidFilter" // RFC 7644 §3.12: the filter syntax was invalid or the filter attribute/operator is unsupported (400).
	TooMany       Type = "tooMany"       // RFC 7644 §3.12: the filter yields more results than the server will return (400).
	Uniqueness    Type = "uniqueness"    // RFC 7644 §3.12: one or more attribute values are already in use or reserved (409).
	Mutability    Type = "mutability"    // RFC 7644 §3.12: the modification is incompatible with the attribute's mutability (400).
	InvalidSyntax Type = "invalidSyntax" // RFC 7644 §3.12: the request body structure was invalid or did not match the schema (400).
	InvalidPath   Type = "invalidPath"   // RFC 7644 §3.12: the "path" attribute was invalid or malformed (400).
	NoTarget      Type = "noTarget"      // RFC 7644 §3.12: the "path" did not yield an attribute or value that could be operated on (400).
	InvalidValue  Type = "invalidValue"  // RFC 7644 §3.12: a required value was missing, or the value was not compatible with the attribute (400).
	InvalidVers   Type = "invalidVers"   // RFC 7644 §3.12: the specified SCIM protocol version is not supported (400).
	Sensitive     Type = "sensitive"     // RFC 7644 §3.12: the request cannot be completed because sensitive information would be exposed (403).
)

// Types lists every scimType of RFC 7644 §3.12, Table 9.
var Types = []Type{InvalidFilter, TooMany, Uniqueness, Mutability, InvalidSyntax, InvalidPath, NoTarget, InvalidValue, InvalidVers, Sensitive}

// Valid reports whether t is one of the keywords RFC 7644 defines.
func (t Type) Valid() bool {
	for _, v := range Types {
		if v == t {
			return true
		}
	}
	return false
}

// Error is a SCIM error response (RFC 7644 §3.12). On the wire Status is a
// string, as the RFC's examples show; UnmarshalJSON also accepts a number,
// which real targets send. Two errors are equal for errors.Is when their
// Status and ScimType match; Detail is for people.
type Error struct {
	Status   int
	ScimType Type
	Detail   string
}

// New returns a SCIM error with the given status, scimType (may be empty) and detail.
func New(status int, t Type, detail string) *Error {
	return &Error{Status: status, ScimType: t, Detail: detail}
}

// Errorf returns a SCIM error whose detail is formatted with fmt.Sprintf.
func Errorf(status int, t Type, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scim ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.ScimType != "" {
		b.WriteString(" ")
		b.WriteString(string(e.ScimType))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is reports whether target is a *Error with the same status and scimType.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.ScimType == e.ScimType
}

// AsError returns err as a *Error; any other error becomes a 500 whose detail
// is err's text. A nil err returns nil.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return &Error{Status: 500, Detail: err.Error()}
}

type wireError struct {
	Schemas  []string        `json:"schemas"`
	ScimType Type            `json:"scimType,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Status   json.RawMessage `json:"status"`
}

// MarshalJSON writes the RFC 7644 §3.12 form, with status as a string.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireError{
		Schemas:  []string{ErrorSchema},
		ScimType: e.ScimType,
		Detail:   e.Detail,
		Status:   json.RawMessage(strconv.Quote(strconv.Itoa(e.Status))),
	})
}

// UnmarshalJSON reads an error whose status is a string ("404") or a number (404).
func (e *Error) UnmarshalJSON(b []byte) error {
	var w wireError
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	st, err := parseStatus(w.Status)
	if err != nil {
		return err
	}
	*e = Error{Status: st, ScimType: w.ScimType, Detail: w.Detail}
	return nil
}

func parseStatus(raw json.RawMessage) (int, error) {
	if len(raw) == 0 {
		return 0, errors.New("scim error: status is missing")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
	} else {
		s = string(raw)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("scim error: status %s is not an HTTP status code", raw)
	}
	return n, nil
}

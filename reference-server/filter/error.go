package filter

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// MaxLength is the longest filter or path, in bytes, that [Parse],
// [ParsePath] and [ParseAttrPath] accept. Longer input is rejected with a
// [ParseError] before it is parsed, which bounds the parser's time, memory
// and recursion depth.
const MaxLength = 4096

// Sentinel errors that every [ParseError] unwraps to. They map to the
// scimType values of RFC 7644 §3.12, Table 9.
var (
	ErrInvalidFilter = errors.New("invalid filter") // scimType invalidFilter
	ErrInvalidPath   = errors.New("invalid path")   // scimType invalidPath
)

// ParseError is a syntax error in a filter or a PATCH path. Offset is the
// byte offset in Input of the token that could not be parsed (len(Input) at
// the end of input). IsPath reports whether Input was a PATCH path or an
// attribute path rather than a filter.
type ParseError struct {
	Input  string
	Offset int
	Reason string
	IsPath bool
}

// Error returns a message such as
//
//	invalid filter at offset 9: expected compareOp, found "eqq" in "userName eqq \"x\""
//
// Input longer than 128 bytes is shortened around Offset.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Unwrap().Error())
	b.WriteString(" at offset ")
	b.WriteString(strconv.Itoa(e.Offset))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	b.WriteString(" in ")
	b.WriteString(excerpt(e.Input, e.Offset))
	return b.String()
}

// Unwrap returns [ErrInvalidPath] if IsPath is set and [ErrInvalidFilter]
// otherwise.
func (e *ParseError) Unwrap() error {
	if e.IsPath {
		return ErrInvalidPath
	}
	return ErrInvalidFilter
}

// SCIM returns the error as a 400 response with scimType invalidFilter or
// invalidPath (RFC 7644 §3.12) and the message as its detail.
func (e *ParseError) SCIM() *scim.Error {
	t := scim.InvalidFilter
	if e.IsPath {
		t = scim.InvalidPath
	}
	return scim.New(400, t, e.Error())
}

// excerpt quotes s, or, when s is long, up to 64 bytes either side of off.
func excerpt(s string, off int) string {
	const limit, side = 128, 64
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	off = min(max(off, 0), len(s))
	lo, hi := max(off-side, 0), min(off+side, len(s))
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	q := strconv.Quote(s[lo:hi])
	if lo > 0 {
		q = "…" + q
	}
	if hi < len(s) {
		q += "…"
	}
	return q
}

// Package filter parses and evaluates SCIM filters (RFC 7644 §3.4.2.2) and
// SCIM PATCH paths (RFC 7644 §3.5.2).
//
// # Grammar
//
// The accepted language is Figure 1 of RFC 7644 §3.4.2.2 plus the PATH rule
// of §3.5.2, Figure 7, with the errata noted in grammar.abnf, which is
// checked in next to this file. In outline:
//
//	FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//	valuePath = attrPath "[" valFilter "]"
//	attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//	logExp    = FILTER SP ("and" / "or") SP FILTER
//	attrPath  = [URI ":"] ATTRNAME *1subAttr
//	PATH      = attrPath / valuePath [subAttr]
//
// Operators and the keywords and, or, not, pr, true, false and null are
// matched case-insensitively. Attribute names keep the spelling of the input
// and are compared case-insensitively when a filter is evaluated (RFC 7643
// §2.1). A comparison value is a JSON value (RFC 7159): a double-quoted
// string with JSON escapes, a number, true, false or null. An unquoted word,
// as in `userName eq akadmin`, is a syntax error.
//
// A URI prefix is everything before the last ':' of an attribute path,
// because attribute names never contain ':'. Thus
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
// has URI "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", Name
// "manager" and Sub "value", and a bare extension URN used as a PATCH path,
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", has URI
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0" and Name "User".
// [AttrPath.FullURN] rebuilds the URN so that callers can test whether a path
// names a whole extension.
//
// # Precedence
//
// RFC 7644 §3.4.2.2 orders operations as grouping, then "not", then "and",
// then "or". The parser encodes that order in its call graph rather than in
// a table: parseOr calls parseAnd for each operand, parseAnd calls parseNot,
// and parseNot handles "not (…)" and "(…)" before it reads an attribute
// expression. Thus
//
//	a pr or b pr and c pr     is   a pr or (b pr and c pr)
//	not (a pr) and b pr       is   (not (a pr)) and b pr
//
// and "and" and "or" associate to the left.
//
// # Syntax tree
//
// [Parse] returns an [Expr], a sealed interface implemented by *[Compare],
// *[Logical], *[Not] and *[ValuePath]. Parentheses leave no node of their
// own. Inside a ValuePath's Filter, attribute paths are relative: in
// emails[type eq "work"] the inner path names the "type" sub-attribute of
// "emails". [ParsePath] returns a [Path], whose Filter holds the bracketed
// filter, if any, and whose Sub holds a sub-attribute written after "]".
//
// Every node's String method writes a canonical form that parses back to an
// equal tree: lower-case operators, single spaces, JSON-quoted strings,
// numbers exactly as written, and only the parentheses that precedence
// requires.
//
// # Evaluation
//
// [Match] reports whether a resource, decoded from JSON into a
// map[string]any, satisfies a filter. [Validate] checks a filter against a
// resource type before it is run. The rules, from RFC 7644 §3.4.2.2 and RFC
// 7643 §2, are:
//
//   - Attribute names match document keys case-insensitively. Extension
//     attributes are looked up under their schema URN
//     (doc["urn:…:enterprise:2.0:User"]["employeeNumber"]); an unqualified
//     name that the resource type resolves to an extension is found there
//     too.
//   - A multi-valued attribute matches if any of its values matches.
//   - A complex attribute compared without a sub-attribute is compared
//     through its "value" sub-attribute, as in emails co "example.com".
//   - Strings compare case-insensitively unless the attribute is caseExact,
//     binary or a reference (RFC 7643 §2.3.6, §2.3.7). Attributes the
//     resource type does not define compare case-insensitively.
//   - dateTime attributes compare chronologically as RFC 3339 times,
//     numbers numerically, booleans only with eq and ne; co, sw and ew
//     apply to strings only.
//   - "pr" matches a value that is present and not null, "", [] or {}.
//     "eq null" matches when "pr" does not, and "ne null" when it does.
//   - "ne" matches an absent attribute, and otherwise when any value does
//     not equal the operand: on a multi-valued attribute it is not the
//     negation of "eq".
//
// # Errors
//
// A syntax error is a *[ParseError] carrying the offset of the offending
// byte; it unwraps to [ErrInvalidFilter] or [ErrInvalidPath], and its SCIM
// method gives the 400 invalidFilter or invalidPath response of RFC 7644
// §3.12. Inputs longer than [MaxLength] bytes, or that are not UTF-8, are
// rejected before parsing. [Validate] reports semantic errors as a
// *scim.Error with status 400 and scimType invalidFilter.
package filter

// Package patch evaluates SCIM PATCH requests (RFC 7644 §3.5.2) against
// schema-validated resource documents.
//
// # Request
//
// A PATCH body is a PatchOp message:
//
//	{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//	 "Operations":[{"op":"add"|"remove"|"replace", "path":PATH, "value":…}, …]}
//
// [Parse] checks that structure. Operations holds one or more operations
// (RFC 7644 §3.5.2); "op" is matched case-insensitively, because Microsoft
// Entra ID sends "Add", "Replace" and "Remove" and tells servers not to
// match structural keywords by case; "path" is optional for add and replace
// and required for remove; "value" is required for add and replace. PATH is
// the rule of RFC 7644 §3.5.2, Figure 7, parsed by package filter:
//
//	PATH = attrPath / valuePath [subAttr]
//
// so a path names an attribute ("nickName", "name.familyName",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
// the values of a multi-valued attribute selected by a filter
// (`members[value eq "2819c223"]`), or a sub-attribute of those values
// (`emails[type eq "work"].value`). A bare extension schema URN
// ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") names the
// whole extension object.
//
// # Documents
//
// A document is a map[string]any as encoding/json decodes it: string,
// float64, bool, nil, []any and map[string]any. Core and common attributes
// (id, externalId, meta, schemas) are top-level keys; the attributes of an
// extension schema live in an object under the extension's URN. Attribute
// names in stored documents are spelled as the schema spells them; names in
// paths and in value objects compare case-insensitively (RFC 7643 §2.1) and
// are rewritten to the schema's spelling when written.
//
// # Evaluation
//
// [Apply] evaluates the operations in order on a deep copy of the document
// and returns the copy; on any error the caller's document is untouched and
// no partial result is returned, which makes the request atomic as RFC 7644
// §3.5.2 requires. The rules are those of RFC 7644 §3.5.2.1 (add), §3.5.2.2
// (remove) and §3.5.2.3 (replace); where the RFC leaves a case open, the
// choice is recorded on the function that makes it. Every error is a
// *scim.Error carrying the scimType of RFC 7644 §3.12, Table 9:
//
//   - invalidSyntax: the body is not a PatchOp, or an op is not add, remove or replace.
//   - invalidValue: "value" is missing or does not fit the attribute.
//   - invalidPath: "path" is malformed or names no attribute of the resource type.
//   - noTarget: remove without a path; a value filter of replace (or add) that
//     matches no value.
//   - mutability: the result changes a readOnly attribute, changes an
//     immutable attribute that had a value, or leaves a required attribute
//     unassigned (RFC 7644 §3.5.2, §3.5.2.2).
//
// # Strict and lenient evaluation
//
// The zero [Options] is strict RFC 7644. Each field admits one shape that
// real identity providers send and that the RFC does not define; [Lenient]
// turns all of them on. The conformance suites run the reference server both
// ways, so that a target can be compared with the RFC and with what Okta and
// Entra ID actually need.
package patch

package patch_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

const (
	coreUser   = `"urn:ietf:params:scim:schemas:core:2.0:User"`
	enterprise = `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
)

// mini is the user most rule cases patch.
const mini = `{"schemas":[` + coreUser + `],"id":"u1","userName":"mini",
 "name":{"givenName":"Min","familyName":"I"},
 "emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"}]}`

// miniExt is mini with the enterprise extension.
const miniExt = `{"schemas":[` + coreUser + `,"` + enterprise + `"],"id":"u1","userName":"mini",
 "groups":[{"value":"g1","display":"Engineers"}],
 "meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z"},
 "` + enterprise + `":{"employeeNumber":"7","manager":{"value":"m1","displayName":"Boss"}}}`

const team = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Team",
 "members":[{"value":"u-1","display":"one"},{"value":"u-2","display":"two"}]}`

// ruleCase is one clause of RFC 7644 §3.5.2 exercised on a small document.
// want is the resulting document with `mini`'s unchanged members omitted:
// it is merged over the input, and null deletes a member.
type ruleCase struct {
	name string
	rt   string // "User" (default) or "Group"
	doc  string // default mini
	ops  string // JSON array of operations
	opt  patch.Options
	want string    // JSON merge patch (RFC 7386) of the expected result over doc
	err  scim.Type // expected 400 scimType
	same bool      // success with no change
}

// ruleCases are the clauses of RFC 7644 §3.5.2, one small case each.
var ruleCases = []ruleCase{
	// §3.5.2.1 add
	{name: "add sets an absent single-valued attribute", ops: `[{"op":"add","path":"nickName","value":"M"}]`, want: `{"nickName":"M"}`},
	{name: "add replaces an existing single-valued attribute", ops: `[{"op":"add","path":"userName","value":"maxi"}]`, want: `{"userName":"maxi"}`},
	{name: "add the value already there changes nothing", ops: `[{"op":"add","path":"userName","value":"mini"}]`, same: true},
	{name: "add to a complex attribute merges sub-attributes", ops: `[{"op":"add","path":"name","value":{"middleName":"J","givenName":"Mina"}}]`, want: `{"name":{"givenName":"Mina","familyName":"I","middleName":"J"}}`},
	{name: "add to a complex attribute needs an object", ops: `[{"op":"add","path":"name","value":"Min I"}]`, err: scim.InvalidValue},
	{name: "add a sub-attribute creates its parent", doc: `{"schemas":[` + coreUser + `],"userName":"x"}`, ops: `[{"op":"add","path":"name.givenName","value":"X"}]`, want: `{"name":{"givenName":"X"}}`},
	{name: "add one value (not an array) to a multi-valued attribute", ops: `[{"op":"add","path":"emails","value":{"value":"m@other.test","type":"other"}}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"},{"value":"m@other.test","type":"other"}]}`},
	{name: "add an existing multi-value changes nothing", ops: `[{"op":"add","path":"emails","value":[{"value":"m@home.test","type":"home"}]}]`, same: true},
	{name: "add an empty array changes nothing", ops: `[{"op":"add","path":"emails","value":[]}]`, same: true},
	{name: "add a primary value demotes the old primary (§3.5.2)", ops: `[{"op":"add","path":"emails","value":[{"value":"m@new.test","type":"other","primary":true}]}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":false},{"value":"m@home.test","type":"home"},{"value":"m@new.test","type":"other","primary":true}]}`},
	// RFC 7643 §2.4: the same (type, value) SHOULD NOT appear twice; an add
	// of a value that is there merges what it says into it.
	{name: "add an existing (type, value) with primary merges it", ops: `[{"op":"add","path":"emails","value":[{"value":"M@HOME.test","type":"home","primary":true}]}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":false},{"value":"M@HOME.test","type":"home","primary":true}]}`},
	{name: "add the same value with another type appends it", ops: `[{"op":"add","path":"emails","value":[{"value":"m@home.test","type":"other"}]}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"},{"value":"m@home.test","type":"other"}]}`},
	// One operation that makes two values primary asks for what RFC 7643
	// §2.4 forbids, as a POST with them would: refused, not "last wins".
	{name: "replace with two primaries is invalidValue", ops: `[{"op":"replace","path":"emails","value":[{"value":"a@x.test","primary":true},{"value":"b@x.test","primary":true}]}]`, err: scim.InvalidValue},
	{name: "path-less add with two primaries is invalidValue", ops: `[{"op":"add","value":{"phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":true}]}}]`, err: scim.InvalidValue},
	{name: "primary true on every value is invalidValue", ops: `[{"op":"replace","path":"emails.primary","value":true}]`, err: scim.InvalidValue},
	{name: "primary through a filter matching two values is invalidValue", ops: `[{"op":"replace","path":"emails[value co \"@\"].primary","value":true}]`, err: scim.InvalidValue},
	{name: "primaries in two operations: the later one keeps it", ops: `[{"op":"add","path":"emails[type eq \"home\"].primary","value":true},{"op":"add","path":"emails[type eq \"work\"].primary","value":true}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home","primary":false}]}`},
	{name: "add primary through a filter demotes the old primary", ops: `[{"op":"add","path":"emails[type eq \"home\"].primary","value":true}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":false},{"value":"m@home.test","type":"home","primary":true}]}`},
	{name: "add through a filter merges into the matching values", ops: `[{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home","display":"Home"}]}`},
	{name: "add through a filter that matches nothing is noTarget", ops: `[{"op":"add","path":"emails[type eq \"other\"].value","value":"x@y"}]`, err: scim.NoTarget},
	{name: "add without a path merges attributes case-insensitively", ops: `[{"op":"add","value":{"NICKNAME":"M","Name":{"GIVENNAME":"Mina"}}}]`, want: `{"nickName":"M","name":{"givenName":"Mina","familyName":"I"}}`},
	{name: "add without a path needs an object", ops: `[{"op":"add","value":"x"}]`, err: scim.InvalidValue},
	{name: "add without a path rejects an unknown attribute", ops: `[{"op":"add","value":{"favouriteColour":"blue"}}]`, err: scim.InvalidValue},
	{name: "add without a path takes an extension URN key", ops: `[{"op":"add","value":{"` + enterprise + `":{"department":"R&D"}}}]`,
		want: `{"schemas":[` + coreUser + `,"` + enterprise + `"],"` + enterprise + `":{"department":"R&D"}}`},
	{name: "add a null member adds nothing", ops: `[{"op":"add","value":{"nickName":null}}]`, same: true},
	{name: "add without value is invalidValue", ops: `[{"op":"add","path":"nickName"}]`, err: scim.InvalidValue},

	// §3.5.2.2 remove
	{name: "remove without a path is noTarget", ops: `[{"op":"remove"}]`, err: scim.NoTarget},
	{name: "remove a single-valued attribute", ops: `[{"op":"remove","path":"name"}]`, want: `{"name":null}`},
	{name: "remove a sub-attribute", ops: `[{"op":"remove","path":"name.givenName"}]`, want: `{"name":{"givenName":null}}`},
	{name: "remove the last sub-attribute unassigns the parent", doc: `{"schemas":[` + coreUser + `],"userName":"x","name":{"givenName":"X"}}`, ops: `[{"op":"remove","path":"name.givenName"}]`, want: `{"name":null}`},
	{name: "remove an absent attribute changes nothing", ops: `[{"op":"remove","path":"nickName"}]`, same: true},
	{name: "remove a multi-valued attribute", ops: `[{"op":"remove","path":"emails"}]`, want: `{"emails":null}`},
	{name: "strict remove with a value list removes every value (B6)", ops: `[{"op":"remove","path":"emails","value":[{"value":"m@home.test"}]}]`, want: `{"emails":null}`},
	{name: "lenient remove with a value list removes the listed values (B6)", opt: patch.Lenient(), ops: `[{"op":"remove","path":"emails","value":[{"value":"M@HOME.TEST"}]}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true}]}`},
	{name: "remove through a filter that matches nothing changes nothing", ops: `[{"op":"remove","path":"emails[type eq \"other\"]"}]`, same: true},
	{name: "remove a sub-attribute of matching values", ops: `[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work"},{"value":"m@home.test","type":"home"}]}`},
	{name: "remove a sub-attribute of every value", ops: `[{"op":"remove","path":"emails.type"}]`,
		want: `{"emails":[{"value":"m@work.test","primary":true},{"value":"m@home.test"}]}`},
	{name: "remove a required attribute is mutability", ops: `[{"op":"remove","path":"userName"}]`, err: scim.Mutability},
	{name: "remove schemas is mutability", ops: `[{"op":"remove","path":"schemas"}]`, err: scim.Mutability},
	// RFC 7643 §3: "schemas" lists the schemas of the attributes the resource holds.
	{name: "replace schemas without a present extension lists it again", doc: miniExt,
		ops: `[{"op":"replace","path":"schemas","value":[` + coreUser + `]}]`, same: true},
	{name: "replace schemas with a no-path value lists a present extension again", doc: miniExt,
		ops: `[{"op":"replace","value":{"schemas":[` + coreUser + `],"nickName":"M"}}]`, want: `{"nickName":"M"}`},
	{name: "replace schemas without the core schema is invalid", doc: miniExt,
		ops: `[{"op":"replace","path":"schemas","value":["` + enterprise + `"]}]`, err: scim.InvalidValue},
	{name: "remove a group's displayName is mutability", rt: "Group", doc: team, ops: `[{"op":"remove","path":"displayName"}]`, err: scim.Mutability},
	{name: "remove id is mutability", ops: `[{"op":"remove","path":"id"}]`, err: scim.Mutability},
	{name: "remove readOnly groups is mutability", doc: miniExt, ops: `[{"op":"remove","path":"groups"}]`, err: scim.Mutability},
	{name: "remove meta is mutability", doc: miniExt, ops: `[{"op":"remove","path":"meta.created"}]`, err: scim.Mutability},
	{name: "remove an extension attribute by URN path", doc: miniExt, ops: `[{"op":"remove","path":"` + enterprise + `:employeeNumber"}]`,
		want: `{"` + enterprise + `":{"employeeNumber":null}}`},
	{name: "remove the last extension attribute drops the extension from schemas", doc: miniExt, ops: `[{"op":"remove","path":"` + enterprise + `:employeeNumber"},{"op":"remove","path":"manager"}]`,
		want: `{"schemas":[` + coreUser + `],"` + enterprise + `":null}`},
	{name: "remove a whole extension by its URN", doc: miniExt, ops: `[{"op":"remove","path":"` + enterprise + `"}]`,
		want: `{"schemas":[` + coreUser + `],"` + enterprise + `":null}`},
	{name: "remove an immutable member sub-attribute is mutability", rt: "Group", doc: team, ops: `[{"op":"remove","path":"members[value eq \"u-1\"].display"}]`, err: scim.Mutability},

	// §3.5.2.3 replace
	{name: "replace an absent attribute adds it", ops: `[{"op":"replace","path":"title","value":"Dr"}]`, want: `{"title":"Dr"}`},
	{name: "replace a complex attribute keeps unnamed sub-attributes", ops: `[{"op":"replace","path":"name","value":{"givenName":"Mina"}}]`, want: `{"name":{"givenName":"Mina","familyName":"I"}}`},
	{name: "replace with null sub-attribute unassigns it", ops: `[{"op":"replace","path":"name","value":{"givenName":null}}]`, want: `{"name":{"givenName":null}}`},
	{name: "replace a multi-valued attribute sets all values", ops: `[{"op":"replace","path":"emails","value":[{"value":"a@b.test"}]}]`, want: `{"emails":[{"value":"a@b.test"}]}`},
	{name: "replace with duplicate values keeps one", ops: `[{"op":"replace","path":"emails","value":[{"value":"a@b.test"},{"value":"a@b.test"}]}]`, want: `{"emails":[{"value":"a@b.test"}]}`},
	{name: "replace through a filter that matches nothing is noTarget (strict)", ops: `[{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"x@y","type":"other"}}]`, err: scim.NoTarget},
	{name: "replace through a filter that matches nothing creates it (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","path":"emails[type eq \"other\"]","value":{"value":"x@y"}}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"},{"value":"x@y"}]}`},
	{name: "lenient creation needs an eq filter", opt: patch.Lenient(), ops: `[{"op":"replace","path":"emails[type co \"oth\"].value","value":"x@y"}]`, err: scim.NoTarget},
	{name: "lenient creation from an and of eq clauses", opt: patch.Lenient(), ops: `[{"op":"replace","path":"emails[type eq \"other\" and display eq \"O\"].value","value":"x@y"}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"},{"type":"other","display":"O","value":"x@y"}]}`},
	{name: "replace a sub-attribute of every matching value", ops: `[{"op":"replace","path":"emails[value ew \".test\"].display","value":"D"}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true,"display":"D"},{"value":"m@home.test","type":"home","display":"D"}]}`},
	{name: "replace without a path needs an object", ops: `[{"op":"replace","value":[1]}]`, err: scim.InvalidValue},
	{name: "replace without a path: null unassigns", ops: `[{"op":"replace","value":{"name":null}}]`, want: `{"name":null}`},
	{name: "replace without a path: dotted key is invalidValue (strict)", ops: `[{"op":"replace","value":{"name.givenName":"X"}}]`, err: scim.InvalidValue},
	{name: "replace without a path: URN attribute key is invalidValue (strict)", ops: `[{"op":"replace","value":{"` + enterprise + `:department":"X"}}]`, err: scim.InvalidValue},
	{name: "replace without a path: core URN key (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:userName":"maxi"}}]`, want: `{"userName":"maxi"}`},
	{name: "replace without a path: unknown dotted key is invalidValue (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","value":{"name.nickName":"X"}}]`, err: scim.InvalidValue},
	{name: "replace without a path: filter key is invalidValue (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","value":{"emails[type eq \"work\"].value":"X"}}]`, err: scim.InvalidValue},
	{name: "replace a whole extension merges its attributes", doc: miniExt, ops: `[{"op":"replace","path":"` + enterprise + `","value":{"department":"Ops"}}]`,
		want: `{"` + enterprise + `":{"employeeNumber":"7","department":"Ops","manager":{"value":"m1","displayName":"Boss"}}}`},
	{name: "replace a whole extension needs an object", doc: miniExt, ops: `[{"op":"replace","path":"` + enterprise + `","value":"x"}]`, err: scim.InvalidValue},
	{name: "replace a whole extension rejects unknown attributes", doc: miniExt, ops: `[{"op":"replace","path":"` + enterprise + `","value":{"shoeSize":"9"}}]`, err: scim.InvalidValue},
	{name: "add an extension attribute lists the extension in schemas", ops: `[{"op":"add","path":"` + enterprise + `:employeeNumber","value":"8"}]`,
		want: `{"schemas":[` + coreUser + `,"` + enterprise + `"],"` + enterprise + `":{"employeeNumber":"8"}}`},
	{name: "replace an extension attribute by bare name", doc: miniExt, ops: `[{"op":"replace","path":"employeeNumber","value":"8"}]`,
		want: `{"` + enterprise + `":{"employeeNumber":"8","manager":{"value":"m1","displayName":"Boss"}}}`},

	// §3.5.2 mutability
	{name: "replace id with another value is mutability", ops: `[{"op":"replace","path":"id","value":"u2"}]`, err: scim.Mutability},
	{name: "replace id with its own value changes nothing", ops: `[{"op":"replace","path":"id","value":"u1"}]`, same: true},
	{name: "replace meta is mutability", doc: miniExt, ops: `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, err: scim.Mutability},
	{name: "add groups on a user is mutability", ops: `[{"op":"add","path":"groups","value":[{"value":"g2"}]}]`, err: scim.Mutability},
	{name: "write a readOnly sub-attribute is mutability", doc: miniExt, ops: `[{"op":"replace","path":"manager.displayName","value":"Other"}]`, err: scim.Mutability},
	{name: "write a readOnly value it already has changes nothing", doc: miniExt, ops: `[{"op":"replace","path":"manager","value":{"displayName":"Boss"}}]`, same: true},
	{name: "change an immutable member value is mutability", rt: "Group", doc: team, ops: `[{"op":"replace","path":"members[value eq \"u-1\"].value","value":"u-9"}]`, err: scim.Mutability},
	{name: "replace members whole sets new immutable values", rt: "Group", doc: team, ops: `[{"op":"replace","path":"members","value":[{"value":"u-9"}]}]`, want: `{"members":[{"value":"u-9"}]}`},
	{name: "write a writeOnly attribute", ops: `[{"op":"replace","path":"password","value":"t1meMa$heen"}]`, want: `{"password":"t1meMa$heen"}`},
	// Each operation must be compatible with the attribute's mutability
	// (RFC 7644 §3.5.2), whatever the later ones do: removing a readOnly
	// attribute is not, and neither is writing one the document does not
	// hold (the server keeps it apart: id, meta, a User's groups).
	{name: "remove a readOnly attribute is mutability, even if restored", doc: miniExt, ops: `[{"op":"remove","path":"groups"},{"op":"add","path":"groups","value":[{"value":"g1","display":"Engineers"}]}]`, err: scim.Mutability},
	{name: "remove meta.lastModified is mutability", ops: `[{"op":"remove","path":"meta.lastModified"}]`, err: scim.Mutability},
	{name: "remove id is mutability", ops: `[{"op":"remove","path":"id"}]`, err: scim.Mutability},
	{name: "replace groups the document lacks is mutability", ops: `[{"op":"replace","path":"groups","value":[]}]`, err: scim.Mutability},
	{name: "rewrite a readOnly value the document holds is no change", doc: miniExt, ops: `[{"op":"replace","path":"groups","value":[{"value":"g1","display":"Engineers"}]}]`, same: true},

	// paths
	{name: "unknown attribute is invalidPath", ops: `[{"op":"replace","path":"shoeSize","value":"9"}]`, err: scim.InvalidPath},
	{name: "unknown sub-attribute is invalidPath", ops: `[{"op":"replace","path":"name.nick","value":"x"}]`, err: scim.InvalidPath},
	{name: "sub-attribute of a simple attribute is invalidPath", ops: `[{"op":"replace","path":"userName.first","value":"x"}]`, err: scim.InvalidPath},
	{name: "malformed path is invalidPath", ops: `[{"op":"replace","path":"emails[type eq","value":"x"}]`, err: scim.InvalidPath},
	{name: "filter on a single-valued attribute is invalidPath", ops: `[{"op":"replace","path":"name[givenName eq \"Min\"]","value":{}}]`, err: scim.InvalidPath},
	{name: "filter naming an unknown sub-attribute is invalidPath", ops: `[{"op":"remove","path":"emails[colour eq \"red\"]"}]`, err: scim.InvalidPath},
	{name: "unknown extension URN is invalidPath", ops: `[{"op":"remove","path":"urn:example:ext:1.0:User"}]`, err: scim.InvalidPath},
	{name: "path attribute names compare case-insensitively", ops: `[{"op":"replace","path":"EMAILS[TYPE eq \"work\"].VALUE","value":"w@x.test"}]`,
		want: `{"emails":[{"value":"w@x.test","type":"work","primary":true},{"value":"m@home.test","type":"home"}]}`},

	// types
	{name: "string for a boolean is invalidValue (strict)", ops: `[{"op":"replace","path":"active","value":"yes"}]`, err: scim.InvalidValue},
	{name: "a string boolean other than true/false is invalidValue (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","path":"active","value":"yes"}]`, err: scim.InvalidValue},
	{name: "string booleans in nested values (lenient)", opt: patch.Lenient(), ops: `[{"op":"replace","path":"emails","value":[{"value":"a@b.test","primary":"TRUE"}]}]`, want: `{"emails":[{"value":"a@b.test","primary":true}]}`},
	{name: "number for a string is invalidValue", ops: `[{"op":"replace","path":"userName","value":5}]`, err: scim.InvalidValue},
	{name: "string for a complex multi-value is invalidValue", ops: `[{"op":"add","path":"emails","value":"x@y.test"}]`, err: scim.InvalidValue},
	{name: "null inside a value list is invalidValue", ops: `[{"op":"add","path":"emails","value":[null]}]`, err: scim.InvalidValue},
	{name: "an object with none of the sub-attributes is invalidValue", rt: "Group", doc: team, ops: `[{"op":"add","path":"members","value":[{"displayName":"Team"}]}]`, err: scim.InvalidValue},
	{name: "unknown sub-attributes are dropped (RFC 7644 §3.3)", ops: `[{"op":"add","path":"emails","value":[{"value":"c@x.test","colour":"red"}]}]`,
		want: `{"emails":[{"value":"m@work.test","type":"work","primary":true},{"value":"m@home.test","type":"home"},{"value":"c@x.test"}]}`},
	{name: "schema validation of the result: binary must be base64", ops: `[{"op":"add","path":"x509Certificates","value":[{"value":"not base64!"}]}]`, err: scim.InvalidValue},
	{name: "schema validation of the result: schemas must hold the core URN", ops: `[{"op":"replace","path":"schemas","value":["` + enterprise + `"]}]`, err: scim.InvalidValue},
	{name: "an array for a single-valued attribute is invalidValue", ops: `[{"op":"replace","path":"nickName","value":["a"]}]`, err: scim.InvalidValue},

	// ops
	{name: "unknown op is invalidSyntax", ops: `[{"op":"move","path":"nickName","value":"x"}]`, err: scim.InvalidSyntax},
	{name: "operations apply in order", ops: `[{"op":"replace","path":"nickName","value":"a"},{"op":"replace","path":"nickName","value":"b"}]`, want: `{"nickName":"b"}`},
	{name: "a failing second operation fails the request", ops: `[{"op":"replace","path":"nickName","value":"a"},{"op":"remove","path":"userName"}]`, err: scim.Mutability},
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.name, func(t *testing.T) {
			rtName, doc := c.rt, c.doc
			if rtName == "" {
				rtName = "User"
			}
			if doc == "" {
				doc = mini
			}
			var ops []scim.PatchOperation
			if err := json.Unmarshal([]byte(c.ops), &ops); err != nil {
				t.Fatal(err)
			}
			want := outcome{Error: c.err, Unchanged: c.same}
			if c.want != "" {
				want.Want = mergePatch(t, doc, c.want)
			}
			in := decodeDoc(t, []byte(doc))
			pristine := decodeDoc(t, []byte(doc))
			out, changed, err := patch.Apply(in, ops, resourceType(t, rtName), c.opt)
			check(t, pristine, in, out, changed, err, want)
		})
	}
}

// check compares an Apply result with want.
func check(t *testing.T, pristine, in, out map[string]any, changed bool, err error, want outcome) {
	t.Helper()
	if d := cmp.Diff(pristine, in); d != "" {
		t.Errorf("Apply modified its input:\n%s", d)
	}
	switch {
	case want.Error != "":
		if !errors.Is(err, scim.New(400, want.Error, "")) {
			t.Fatalf("got (%s, %v), want 400 %s", jsonText(out), err, want.Error)
		}
		if out != nil || changed {
			t.Errorf("a failed request returned (%s, %v)", jsonText(out), changed)
		}
	case want.Unchanged:
		if err != nil {
			t.Fatalf("got %v, want success with no change", err)
		}
		if changed || !cmp.Equal(pristine, out) {
			t.Errorf("changed = %v, diff:\n%s", changed, cmp.Diff(pristine, out))
		}
	default:
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		w := decodeDoc(t, want.Want)
		if d := cmp.Diff(w, out); d != "" {
			t.Errorf("result (-want +got):\n%s", d)
		}
		if !changed {
			t.Errorf("changed = false")
		}
	}
}

// mergePatch applies the JSON merge patch p (RFC 7386) to doc.
func mergePatch(t *testing.T, doc, p string) []byte {
	t.Helper()
	d := decodeDoc(t, []byte(doc))
	var m map[string]any
	if err := json.Unmarshal([]byte(p), &m); err != nil {
		t.Fatalf("want: %v", err)
	}
	var apply func(dst, src map[string]any)
	apply = func(dst, src map[string]any) {
		for k, v := range src {
			switch v := v.(type) {
			case nil:
				delete(dst, k)
			case map[string]any:
				sub, ok := dst[k].(map[string]any)
				if !ok {
					sub = map[string]any{}
				}
				apply(sub, v)
				dst[k] = sub
			default:
				dst[k] = v
			}
		}
	}
	apply(d, m)
	b, _ := json.Marshal(d)
	return b
}

// TestAtomic checks RFC 7644 §3.5.2: when any operation fails, the
// document is untouched and no partial result is returned.
func TestAtomic(t *testing.T) {
	for i, fail := range []string{
		`{"op":"remove","path":"userName"}`,
		`{"op":"replace","path":"emails[type eq \"other\"].value","value":"x"}`,
		`{"op":"replace","path":"nope","value":"x"}`,
		`{"op":"replace","path":"active","value":"False"}`,
	} {
		ops := `[{"op":"replace","path":"nickName","value":"a"},{"op":"add","path":"emails","value":[{"value":"n@x.test"}]},` + fail + `]`
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var list []scim.PatchOperation
			if err := json.Unmarshal([]byte(ops), &list); err != nil {
				t.Fatal(err)
			}
			in := decodeDoc(t, []byte(mini))
			out, changed, err := patch.Apply(in, list, schema.UserResourceType(), patch.Options{})
			if err == nil || out != nil || changed {
				t.Fatalf("got (%s, %v, %v), want an error and nothing else", jsonText(out), changed, err)
			}
			if !strings.Contains(err.Error(), "Operations[2]") {
				t.Errorf("error %q does not name the failing operation", err)
			}
			if d := cmp.Diff(decodeDoc(t, []byte(mini)), in); d != "" {
				t.Errorf("input changed:\n%s", d)
			}
		})
	}
}

// TestResultSharesNothing checks that the result does not alias the input
// document or the operations' values, so a caller may store it and reuse both.
func TestResultSharesNothing(t *testing.T) {
	in := decodeDoc(t, []byte(mini))
	val := []any{map[string]any{"value": "n@x.test"}}
	ops := []scim.PatchOperation{{Op: "add", Path: "emails", Value: val}}
	out, _, err := patch.Apply(in, ops, schema.UserResourceType(), patch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out["name"].(map[string]any)["givenName"] = "changed"
	emails := out["emails"].([]any)
	emails[2].(map[string]any)["value"] = "changed"
	if in["name"].(map[string]any)["givenName"] != "Min" {
		t.Error("result aliases the input document")
	}
	if val[0].(map[string]any)["value"] != "n@x.test" {
		t.Error("result aliases the operation's value")
	}
}

// TestResourceID covers Okta's group rename on a store that keeps documents
// without their id: Options.ResourceID supplies it.
func TestResourceID(t *testing.T) {
	doc := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Team"}`
	ops := []scim.PatchOperation{{Op: "replace", Value: map[string]any{"id": "g1", "displayName": "Team 2"}}}
	rt := schema.GroupResourceType()

	_, _, err := patch.Apply(decodeDoc(t, []byte(doc)), ops, rt, patch.Options{})
	if !errors.Is(err, scim.New(400, scim.Mutability, "")) {
		t.Errorf("without ResourceID: got %v, want 400 mutability", err)
	}
	out, changed, err := patch.Apply(decodeDoc(t, []byte(doc)), ops, rt, patch.Options{ResourceID: "g1"})
	if err != nil || !changed {
		t.Fatalf("with ResourceID: got (%v, %v)", changed, err)
	}
	if _, ok := out["id"]; ok || out["displayName"] != "Team 2" {
		t.Errorf("with ResourceID: got %s", jsonText(out))
	}
	_, _, err = patch.Apply(decodeDoc(t, []byte(doc)), ops, rt, patch.Options{ResourceID: "g2"})
	if !errors.Is(err, scim.New(400, scim.Mutability, "")) {
		t.Errorf("with another ResourceID: got %v, want 400 mutability", err)
	}
}

// TestLenient pins the options Lenient turns on.
func TestLenient(t *testing.T) {
	want := patch.Options{StringBooleans: true, DottedKeys: true, RemoveMembersByValue: true, ReplaceCreatesMissing: true}
	if got := patch.Lenient(); got != want {
		t.Errorf("Lenient() = %+v, want %+v", got, want)
	}
}

func TestApplyArguments(t *testing.T) {
	ops := []scim.PatchOperation{{Op: "add", Path: "nickName", Value: "x"}}
	if _, _, err := patch.Apply(nil, ops, nil, patch.Options{}); scim.AsError(err).Status != 500 {
		t.Errorf("nil resource type: got %v, want a 500", err)
	}
	if _, _, err := patch.Apply(nil, nil, schema.UserResourceType(), patch.Options{}); !errors.Is(err, scim.New(400, scim.InvalidValue, "")) {
		t.Errorf("no operations: got %v, want 400 invalidValue", err)
	}
	if _, _, err := patch.Apply(nil, []scim.PatchOperation{{Op: "add", Path: "userName", Value: "x"}}, schema.UserResourceType(), patch.Options{}); !errors.Is(err, scim.New(400, scim.InvalidValue, "")) {
		t.Errorf("nil document without schemas: got %v, want 400 invalidValue from validation", err)
	}
	value := map[string]any{"schemas": []any{scim.UserSchema}, "userName": "x"}
	out, changed, err := patch.Apply(nil, []scim.PatchOperation{{Op: "add", Value: value}}, schema.UserResourceType(), patch.Options{})
	if err != nil || !changed || out["userName"] != "x" {
		t.Errorf("nil document: got (%s, %v, %v)", jsonText(out), changed, err)
	}
}

// TestRequiredExtension: RFC 7644 §3.5.2.2 makes removing what is required
// a mutability error, and RFC 7643 §6 lets an extension be required.
func TestRequiredExtension(t *testing.T) {
	rt := schema.UserResourceType()
	rt.Extensions[0].Required = true
	for _, path := range []string{enterprise, enterprise + ":employeeNumber"} {
		in := decodeDoc(t, []byte(`{"schemas":[`+coreUser+`,"`+enterprise+`"],"userName":"x","`+enterprise+`":{"employeeNumber":"7"}}`))
		_, _, err := patch.Apply(in, []scim.PatchOperation{{Op: "remove", Path: path}}, rt, patch.Options{})
		if !errors.Is(err, scim.New(400, scim.Mutability, "")) {
			t.Errorf("remove %s: got %v, want 400 mutability", path, err)
		}
	}
}

// ReplaceCreatesMissing creates only what Entra sends: a value whose filter
// names a canonical type ("work"); any other filter keeps RFC 7644's noTarget,
// so a lenient server stays atomic and strict elsewhere.
func TestReplaceCreatesMissingOnlyForCanonicalTypes(t *testing.T) {
	doc := map[string]any{"schemas": []any{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "ana@example.test"}
	opt := patch.Lenient()
	for _, tc := range []struct {
		typ     string
		created bool
	}{{"work", true}, {"WORK", true}, {"scimlab-none", false}} {
		ops := []scim.PatchOperation{{Op: "Replace", Path: `emails[type eq "` + tc.typ + `"].value`, Value: "ana@example.com"}}
		out, _, err := patch.Apply(doc, ops, schema.UserResourceType(), opt)
		if tc.created {
			if err != nil {
				t.Errorf("type %q: %v", tc.typ, err)
			} else if emails, _ := out["emails"].([]any); len(emails) != 1 {
				t.Errorf("type %q: emails = %v", tc.typ, out["emails"])
			}
			continue
		}
		if !errors.Is(err, scim.New(400, scim.NoTarget, "")) {
			t.Errorf("type %q: err = %v, want 400 noTarget", tc.typ, err)
		}
	}
}

// TestMutabilityMessageNamesThePath: the error for a member sub-attribute
// names it as the request did, once (members[value eq "u-1"].display).
func TestMutabilityMessageNamesThePath(t *testing.T) {
	var ops []scim.PatchOperation
	if err := json.Unmarshal([]byte(`[{"op":"replace","path":"members[value eq \"u-1\"].display","value":"X"}]`), &ops); err != nil {
		t.Fatal(err)
	}
	_, _, err := patch.Apply(decodeDoc(t, []byte(team)), ops, resourceType(t, "Group"), patch.Options{})
	if err == nil || !strings.Contains(err.Error(), `members[value eq "u-1"].display is immutable`) {
		t.Errorf("error %v, want it to name members[value eq \"u-1\"].display once", err)
	}
}

// TestLongPathErrorIsShort: an error about a path over the size limit names
// it shortened, not whole (a 900 KB path once made a 900 KB error body).
func TestLongPathErrorIsShort(t *testing.T) {
	var ops []scim.PatchOperation
	long := "name." + strings.Repeat("a", 100000)
	ops = append(ops, scim.PatchOperation{Op: "replace", Path: long, Value: "x"})
	_, _, err := patch.Apply(decodeDoc(t, []byte(mini)), ops, resourceType(t, "User"), patch.Options{})
	if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), "…") {
		t.Fatalf("error of %d bytes: %.300v", len(fmt.Sprint(err)), err)
	}
}

// TestMaxWork: a request whose operations would compare more than patch.MaxWork
// values in all is refused with 400 invalidValue, and nothing is changed;
// the same operations on a short list pass.
func TestMaxWork(t *testing.T) {
	doc := func(n int) map[string]any {
		var emails []any
		for i := range n {
			emails = append(emails, map[string]any{"value": fmt.Sprintf("u%d@z.test", i)})
		}
		return map[string]any{"schemas": []any{scim.UserSchema}, "userName": "w", "emails": emails}
	}
	var ops []scim.PatchOperation
	for i := range 1500 {
		ops = append(ops, scim.PatchOperation{Op: "replace", Path: fmt.Sprintf(`emails[value eq "u%d@z.test"].type`, i), Value: "work"})
	}
	if _, changed, err := patch.Apply(doc(1500), ops, schema.UserResourceType(), patch.Options{}); err != nil || !changed {
		t.Fatalf("1,500 filtered operations on 1,500 emails: changed %v, %v", changed, err)
	}
	in := doc(3000)
	out, _, err := patch.Apply(in, ops, schema.UserResourceType(), patch.Options{})
	var se *scim.Error
	if !errors.As(err, &se) || se.Status != 400 || se.ScimType != scim.InvalidValue || !strings.Contains(se.Detail, "several smaller requests") || out != nil {
		t.Fatalf("1,500 filtered operations on 3,000 emails: %v", err)
	}
	if _, ok := in["emails"].([]any)[0].(map[string]any)["type"]; ok {
		t.Error("the refused request changed the caller's document")
	}
}

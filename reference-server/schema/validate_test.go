package schema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

const (
	coreUser = scim.UserSchema
	entUser  = scim.EnterpriseUserSchema
	testURN  = "urn:example:params:scim:schemas:extension:test:2.0:User"
)

// load decodes a testdata file the way a server decodes a request body.
func load(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("bad test JSON: %v\n%s", err, s)
	}
	return m
}

func attr(name string, typ Type, opts ...func(*Attribute)) *Attribute {
	a := &Attribute{Name: name, Type: typ, Mutability: ReadWrite, Returned: Default, Uniqueness: None}
	for _, o := range opts {
		o(a)
	}
	return a
}

// testRT is the User resource type plus an extension with one attribute of
// every data type and characteristic the core schemas lack.
func testRT(extRequired bool) *ResourceType {
	rt := UserResourceType()
	rt.Extensions = append(rt.Extensions, Extension{Required: extRequired, Schema: &Schema{
		ID: testURN, Name: "Test",
		Attributes: []*Attribute{
			attr("hired", DateTime),
			attr("level", Integer),
			attr("score", Decimal),
			attr("badge", Binary),
			attr("homepage", Reference, func(a *Attribute) { a.ReferenceTypes = []string{"external"} }),
			attr("tags", String, func(a *Attribute) { a.MultiValued = true }),
			attr("tier", String, func(a *Attribute) {
				a.CanonicalValues, a.StrictCanonical = []string{"gold", "silver"}, true
			}),
			attr("badgeId", String, func(a *Attribute) { a.Mutability = Immutable }),
			attr("serial", String, func(a *Attribute) { a.Mutability, a.CaseExact = Immutable, true }),
			attr("aliases", String, func(a *Attribute) { a.Mutability, a.MultiValued = Immutable, true }),
			attr("contract", Complex, func(a *Attribute) {
				a.SubAttributes = []*Attribute{
					attr("number", String, func(a *Attribute) { a.Mutability, a.CaseExact = Immutable, true }),
					attr("note", String),
					attr("signed", Boolean, func(a *Attribute) { a.Required = true }),
				}
			}),
			attr("costCode", String, func(a *Attribute) { a.Required = true }),
		},
	}})
	return rt
}

func is(err error, status int, t scim.Type) bool { return errors.Is(err, scim.New(status, t, "")) }

// RFC 7643 §8.1–§8.4: the examples validate, strictly, and come out as the
// stored form: read-only attributes gone, everything else kept.
func TestValidateRFCExamples(t *testing.T) {
	for _, tc := range []struct {
		file    string
		rt      *ResourceType
		dropped []string // top-level keys that must not survive
	}{
		{"rfc7643-8.1-minimal-user.json", UserResourceType(), []string{"id", "meta"}},
		{"rfc7643-8.2-full-user.json", UserResourceType(), []string{"id", "meta", "groups"}},
		{"rfc7643-8.3-enterprise-user.json", UserResourceType(), []string{"id", "meta", "groups"}},
		{"rfc7643-8.4-group.json", GroupResourceType(), []string{"id", "meta"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			in := load(t, tc.file)
			pristine := load(t, tc.file)
			for _, opt := range []Options{{}, {RejectUnknown: true}, {Mode: Replace, StringBooleans: true, RejectUnknown: true}} {
				out, err := tc.rt.Validate(in, opt)
				if err != nil {
					t.Fatalf("%+v: %v", opt, err)
				}
				if !reflect.DeepEqual(in, pristine) {
					t.Fatal("Validate changed its input")
				}
				for _, k := range tc.dropped {
					if _, ok := out[k]; ok {
						t.Errorf("%s survived", k)
					}
				}
				// Every other key of the example survives with its value.
				for k, v := range in {
					if _, ok := out[k]; !ok && !contains(tc.dropped, k) {
						t.Errorf("%s was dropped", k)
						continue
					}
					if contains(tc.dropped, k) || k == entUser {
						continue
					}
					if !reflect.DeepEqual(out[k], v) {
						t.Errorf("%s = %v, want %v", k, out[k], v)
					}
				}
				again, err := tc.rt.Validate(out, opt)
				if err != nil || !reflect.DeepEqual(again, out) {
					t.Errorf("Validate is not idempotent: %v\n%v\n%v", err, again, out)
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestValidateEnterpriseUser(t *testing.T) {
	out, err := UserResourceType().Validate(load(t, "rfc7643-8.3-enterprise-user.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
		"division": "Theme Park", "department": "Tour Operations",
		// manager.displayName is readOnly (§4.3): ignored on input.
		"manager": map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"},
	}
	if !reflect.DeepEqual(out[entUser], want) {
		t.Errorf("extension = %v\nwant %v", out[entUser], want)
	}
	if !reflect.DeepEqual(out["schemas"], []any{coreUser, entUser}) {
		t.Errorf("schemas = %v", out["schemas"])
	}
	if out["password"] != "t1meMa$heen" {
		t.Error("writeOnly password must be kept for storage")
	}
}

func TestValidateResultSharesNothing(t *testing.T) {
	in := load(t, "rfc7643-8.3-enterprise-user.json")
	out, err := UserResourceType().Validate(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out["name"].(map[string]any)["givenName"] = "X"
	out["emails"].([]any)[0].(map[string]any)["value"] = "X"
	out[entUser].(map[string]any)["manager"].(map[string]any)["value"] = "X"
	if !reflect.DeepEqual(in, load(t, "rfc7643-8.3-enterprise-user.json")) {
		t.Error("changing the result changed the input")
	}
}

// Each failure class with its status and scimType (RFC 7644 §3.12).
func TestValidateErrors(t *testing.T) {
	const u = `"schemas":["` + coreUser + `"],"userName":"bjensen"`
	for _, tc := range []struct {
		name   string
		rt     *ResourceType
		body   string
		opt    Options
		scim   scim.Type
		detail string // substring of the detail
	}{
		{"no schemas", nil, `{"userName":"b"}`, Options{}, scim.InvalidValue, "'schemas' is required"},
		{"null schemas", nil, `{"schemas":null,"userName":"b"}`, Options{}, scim.InvalidValue, "'schemas' is required"},
		{"schemas not array", nil, `{"schemas":"` + coreUser + `","userName":"b"}`, Options{}, scim.InvalidValue, "array"},
		{"schemas holds a number", nil, `{"schemas":["` + coreUser + `",1],"userName":"b"}`, Options{}, scim.InvalidValue, "got number"},
		{"schemas without core", nil, `{"schemas":["` + entUser + `"],"userName":"b"}`, Options{}, scim.InvalidValue, "must contain " + coreUser},
		{"foreign schema", nil, `{"schemas":["` + coreUser + `","urn:acme:User"],"userName":"b"}`, Options{}, scim.InvalidValue, `"urn:acme:User"`},
		{"group schema on users", nil, `{"schemas":["` + coreUser + `","` + scim.GroupSchema + `"],"userName":"b"}`, Options{}, scim.InvalidValue, scim.GroupSchema},
		{"userName missing", nil, `{"schemas":["` + coreUser + `"]}`, Options{}, scim.InvalidValue, "attribute 'userName' is required"},
		{"userName null", nil, `{"schemas":["` + coreUser + `"],"userName":null}`, Options{}, scim.InvalidValue, "attribute 'userName' is required"},
		{"userName blank", nil, `{"schemas":["` + coreUser + `"],"userName":"  "}`, Options{}, scim.InvalidValue, "attribute 'userName' is required"},
		{"userName number", nil, `{"schemas":["` + coreUser + `"],"userName":42}`, Options{}, scim.InvalidValue, `"userName" must be a string, got number`},
		{"displayName missing", GroupResourceType(), `{"schemas":["` + scim.GroupSchema + `"],"members":[]}`, Options{}, scim.InvalidValue, "attribute 'displayName' is required"},
		{"active word", nil, `{` + u + `,"active":"yes"}`, Options{StringBooleans: true}, scim.InvalidValue, `"active" must be a boolean`},
		{"active string, strict", nil, `{` + u + `,"active":"True"}`, Options{}, scim.InvalidValue, "got string"},
		{"primary string, strict", nil, `{` + u + `,"emails":[{"value":"a@b","primary":"true"}]}`, Options{}, scim.InvalidValue, `"emails.primary"`},
		{"active number", nil, `{` + u + `,"active":1}`, Options{}, scim.InvalidValue, "got number"},
		{"emails single object", nil, `{` + u + `,"emails":{"value":"a@b"}}`, Options{}, scim.InvalidValue, `"emails" is multi-valued and must be a JSON array, got object`},
		{"emails single string", nil, `{` + u + `,"emails":"a@b"}`, Options{}, scim.InvalidValue, "multi-valued"},
		{"emails of strings", nil, `{` + u + `,"emails":["a@b"]}`, Options{}, scim.InvalidValue, `"emails" must be a JSON object, got string`},
		{"name string", nil, `{` + u + `,"name":"Babs"}`, Options{}, scim.InvalidValue, `"name" must be a JSON object`},
		{"givenName array", nil, `{` + u + `,"name":{"givenName":["a"]}}`, Options{}, scim.InvalidValue, `"name.givenName" must be a string, got array`},
		{"two primaries", nil, `{` + u + `,"emails":[{"value":"a@b","primary":true},{"value":"c@d","primary":true}]}`, Options{}, scim.InvalidValue, "at most one"},
		{"two primaries, string booleans", nil, `{` + u + `,"phoneNumbers":[{"value":"1","primary":"True"},{"value":"2","primary":"true"}]}`, Options{StringBooleans: true}, scim.InvalidValue, `"phoneNumbers" has 2 values`},
		{"x509 not base64", nil, `{` + u + `,"x509Certificates":[{"value":"not base64!"}]}`, Options{}, scim.InvalidValue, `"x509Certificates.value" must be base64`},
		{"profileUrl not a URI", nil, `{` + u + `,"profileUrl":"http://[::1"}`, Options{}, scim.InvalidValue, `"profileUrl" must be a URI reference`},
		{"profileUrl number", nil, `{` + u + `,"profileUrl":7}`, Options{}, scim.InvalidValue, "URI reference"},
		{"profileUrl with a space", nil, `{` + u + `,"profileUrl":"not a url"}`, Options{}, scim.InvalidValue, `"profileUrl" must be a URI reference`},
		{"photo with a control", nil, `{` + u + `,"photos":[{"value":"https://x.test/a\tb.png"}]}`, Options{}, scim.InvalidValue, `must be a URI reference`},
		{"profileUrl with a brace", nil, `{` + u + `,"profileUrl":"https://x.test/{id}"}`, Options{}, scim.InvalidValue, `must be a URI reference`},
		{"unknown attribute, strict", nil, `{` + u + `,"favouriteColour":"blue"}`, Options{RejectUnknown: true}, scim.InvalidSyntax, `"favouriteColour"`},
		{"unknown sub-attribute, strict", nil, `{` + u + `,"name":{"nickname":"b"}}`, Options{RejectUnknown: true}, scim.InvalidSyntax, `"name.nickname"`},
		{"unknown extension attribute, strict", nil, `{` + u + `,"` + entUser + `":{"shoeSize":"9"}}`, Options{RejectUnknown: true}, scim.InvalidSyntax, "shoeSize"},
		{"unknown URN key, strict", nil, `{` + u + `,"urn:acme:User:x":"1"}`, Options{RejectUnknown: true}, scim.InvalidSyntax, "urn:acme:User:x"},
		{"same attribute twice", nil, `{` + u + `,"USERNAME":"other"}`, Options{}, scim.InvalidSyntax, "more than once"},
		{"qualified and plain", nil, `{` + u + `,"` + coreUser + `:userName":"other"}`, Options{}, scim.InvalidSyntax, "more than once"},
		{"sub twice", nil, `{` + u + `,"name":{"givenName":"a","GIVENNAME":"b"}}`, Options{}, scim.InvalidSyntax, `"name.givenName" is given more than once`},
		{"dotted and nested clash", nil, `{` + u + `,"name":{"givenName":"a"},"name.givenName":"b"}`, Options{}, scim.InvalidSyntax, "more than once"},
		{"dotted multi-valued", nil, `{` + u + `,"emails.value":"a@b"}`, Options{}, scim.InvalidValue, "multi-valued"},
		{"extension not an object", nil, `{` + u + `,"` + entUser + `":"x"}`, Options{}, scim.InvalidValue, "must be a JSON object"},
		{"extension twice", nil, `{` + u + `,"` + entUser + `":{"department":"a"},"` + entUser + `:department":"b"}`, Options{}, scim.InvalidSyntax, "more than once"},
		{"manager not an object", nil, `{` + u + `,"` + entUser + `":{"manager":"bob"}}`, Options{}, scim.InvalidValue, entUser + `:manager" must be a JSON object`},
		{"required extension missing", testRT(true), `{` + u + `}`, Options{}, scim.InvalidValue, "schema extension " + testURN + " is required"},
		{"extension required attribute", testRT(false), `{` + u + `,"` + testURN + `":{"level":1}}`, Options{}, scim.InvalidValue, "attribute '" + testURN + ":costCode' is required"},
		{"declared extension required attribute", testRT(false), `{"schemas":["` + coreUser + `","` + testURN + `"],"userName":"b"}`, Options{}, scim.InvalidValue, "costCode' is required"},
		{"required sub-attribute", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","contract":{"note":"n"}}}`, Options{}, scim.InvalidValue, "contract.signed' is required"},
		{"dateTime garbage", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","hired":"yesterday"}}`, Options{}, scim.InvalidValue, `:hired" must be a dateTime`},
		{"dateTime date only", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","hired":"2008-01-23"}}`, Options{}, scim.InvalidValue, "dateTime"},
		{"integer fraction", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","level":1.5}}`, Options{}, scim.InvalidValue, `:level" must be an integer, got number`},
		{"integer string", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","level":"1"}}`, Options{}, scim.InvalidValue, "got string"},
		{"decimal string", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","score":"1.5"}}`, Options{}, scim.InvalidValue, `:score" must be a decimal`},
		{"binary number", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","badge":1}}`, Options{}, scim.InvalidValue, "base64"},
		{"multi-valued string scalar", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","tags":"a"}}`, Options{}, scim.InvalidValue, "multi-valued"},
		{"multi-valued string element", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","tags":["a",1]}}`, Options{}, scim.InvalidValue, `:tags" must be a string`},
		{"strict canonical", testRT(false), `{` + u + `,"` + testURN + `":{"costCode":"c","tier":"bronze"}}`, Options{}, scim.InvalidValue, "must be one of gold, silver"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := tc.rt
			if rt == nil {
				rt = UserResourceType()
			}
			out, err := rt.Validate(decode(t, tc.body), tc.opt)
			if err == nil {
				t.Fatalf("no error; got %v", out)
			}
			var se *scim.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *scim.Error: %v", err, err)
			}
			if !is(err, 400, tc.scim) {
				t.Errorf("error = %v, want 400 %s", err, tc.scim)
			}
			if !strings.Contains(se.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to contain %q", se.Detail, tc.detail)
			}
			if out != nil {
				t.Error("a failed Validate returned a document")
			}
		})
	}
}

func TestValidatePassesTypes(t *testing.T) {
	body := `{"schemas":["` + coreUser + `"],"userName":"b","` + testURN + `":{
		"costCode":"c","hired":"2008-01-23T04:56:22Z","level":2.0,"score":-1.25,"badge":"aGVsbG8=",
		"homepage":"../Users/x","tags":["a",null,"b"],"tier":"Gold","contract":{"number":"N1","signed":"TRUE"}}}`
	out, err := testRT(false).Validate(decode(t, body), Options{StringBooleans: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"costCode": "c", "hired": "2008-01-23T04:56:22Z", "level": 2.0, "score": -1.25, "badge": "aGVsbG8=",
		"homepage": "../Users/x", "tags": []any{"a", "b"}, "tier": "Gold",
		"contract": map[string]any{"number": "N1", "signed": true},
	}
	if !reflect.DeepEqual(out[testURN], want) {
		t.Errorf("extension = %v\nwant %v", out[testURN], want)
	}
	for _, dt := range []string{"2008-01-23T04:56:22.123+02:00", "2008-01-23T04:56:22", "2008-01-23T04:56:22.5"} {
		body := `{"schemas":["` + coreUser + `"],"userName":"b","` + testURN + `":{"costCode":"c","hired":"` + dt + `"}}`
		if _, err := testRT(false).Validate(decode(t, body), Options{}); err != nil {
			t.Errorf("dateTime %s: %v", dt, err)
		}
	}
	// Go values built by hand, not decoded: integers and json.Number.
	doc := map[string]any{"schemas": []any{coreUser}, "userName": "b",
		testURN: map[string]any{"costCode": "c", "level": 3, "score": json.Number("2.5")}}
	if _, err := testRT(false).Validate(doc, Options{}); err != nil {
		t.Errorf("Go numbers: %v", err)
	}
}

// RFC 7643 §2.1: names are case-insensitive; the result uses the schema's spelling.
func TestValidateNormalisesNames(t *testing.T) {
	body := `{
		"SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],
		"USERNAME": "bjensen",
		"Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
		"eMails": [{"VALUE": "b@example.com", "Primary": true, "TYPE": "work"}],
		"ExternalID": "701984",
		"ID": "ignored",
		"urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user": {"EMPLOYEENUMBER": "1", "Manager": {"VALUE": "m"}}
	}`
	out, err := UserResourceType().Validate(decode(t, body), Options{RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"schemas":    []any{coreUser, entUser},
		"userName":   "bjensen",
		"name":       map[string]any{"givenName": "Barbara", "familyName": "Jensen"},
		"emails":     []any{map[string]any{"value": "b@example.com", "primary": true, "type": "work"}},
		"externalId": "701984",
		entUser:      map[string]any{"employeeNumber": "1", "manager": map[string]any{"value": "m"}},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %v\nwant %v", out, want)
	}
}

// RFC 7644 §3.10: URN-qualified attribute names; Entra's dotted keys.
func TestValidateQualifiedAndDottedKeys(t *testing.T) {
	body := `{
		"schemas": ["` + coreUser + `"],
		"` + coreUser + `:userName": "bjensen",
		"` + coreUser + `:name.familyName": "Jensen",
		"name": {"givenName": "Barbara"},
		"name.middleName": "Jane",
		"` + entUser + `:employeeNumber": "701984",
		"` + entUser + `:manager.value": "m1",
		"` + entUser + `:manager.displayName": "read-only, dropped",
		"costCenter": "4130"
	}`
	out, err := UserResourceType().Validate(decode(t, body), Options{RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"schemas":  []any{coreUser, entUser}, // added: the body carries extension attributes
		"userName": "bjensen",
		"name":     map[string]any{"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"},
		entUser:    map[string]any{"employeeNumber": "701984", "manager": map[string]any{"value": "m1"}, "costCenter": "4130"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %v\nwant %v", out, want)
	}
}

// Entra sends "True"/"False" (docs/idp-traffic.md §1.2 row 7).
func TestValidateStringBooleans(t *testing.T) {
	for _, s := range []string{"True", "true", "TRUE", "False", "false"} {
		body := `{"schemas":["` + coreUser + `"],"userName":"b","active":"` + s + `","emails":[{"value":"a@b","primary":"` + s + `"}]}`
		out, err := UserResourceType().Validate(decode(t, body), Options{StringBooleans: true})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want := strings.EqualFold(s, "true")
		if out["active"] != want || out["emails"].([]any)[0].(map[string]any)["primary"] != want {
			t.Errorf("%s: active=%v primary=%v", s, out["active"], out["emails"])
		}
		if _, err := UserResourceType().Validate(decode(t, body), Options{}); !is(err, 400, scim.InvalidValue) {
			t.Errorf("%s accepted without StringBooleans: %v", s, err)
		}
	}
}

// null means absent; empty arrays and emptied objects go too.
func TestValidateDropsNullsAndEmpties(t *testing.T) {
	body := `{"schemas":["` + coreUser + `"],"userName":"b","displayName":null,"emails":[],"phoneNumbers":[null],
		"name":{"givenName":null},"addresses":[{"type":null}],"` + entUser + `":{"department":null},"nickName":""}`
	out, err := UserResourceType().Validate(decode(t, body), Options{RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"schemas": []any{coreUser, entUser}, "userName": "b", "nickName": ""}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %v\nwant %v", out, want)
	}
	// Entra's member shape: {"$ref": null, "value": id}, no type.
	g := `{"schemas":["` + scim.GroupSchema + `"],"displayName":"G","members":[{"$ref":null,"value":"u1"},{"value":"u2","display":"Ana"}]}`
	out, err = GroupResourceType().Validate(decode(t, g), Options{RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	wantMembers := []any{map[string]any{"value": "u1"}, map[string]any{"value": "u2", "display": "Ana"}}
	if !reflect.DeepEqual(out["members"], wantMembers) {
		t.Errorf("members = %v", out["members"])
	}
}

// RFC 7644 §3.3: readOnly values SHALL be ignored, even when they are malformed.
func TestValidateIgnoresReadOnly(t *testing.T) {
	body := `{"schemas":["` + coreUser + `"],"userName":"b","id":42,"meta":"x",
		"groups":"not even an array","` + entUser + `":{"manager":{"value":"m","displayName":7}}}`
	out, err := UserResourceType().Validate(decode(t, body), Options{RejectUnknown: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "meta", "groups"} {
		if _, ok := out[k]; ok {
			t.Errorf("%s kept", k)
		}
	}
	if got := out[entUser].(map[string]any)["manager"]; !reflect.DeepEqual(got, map[string]any{"value": "m"}) {
		t.Errorf("manager = %v", got)
	}
}

func TestValidateDropsUnknownByDefault(t *testing.T) {
	body := `{"schemas":["` + coreUser + `"],"userName":"b","favouriteColour":"blue","name":{"nick":"x","givenName":"B"},
		"urn:acme:User:x":"1","` + entUser + `":{"shoeSize":9}}`
	out, err := UserResourceType().Validate(decode(t, body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"schemas": []any{coreUser, entUser}, "userName": "b", "name": map[string]any{"givenName": "B"}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %v\nwant %v", out, want)
	}
}

func TestCheckImmutable(t *testing.T) {
	rt := testRT(false)
	doc := func(ext string) map[string]any {
		return decode(t, `{"schemas":["`+coreUser+`","`+testURN+`"],"userName":"b","`+testURN+`":{"costCode":"c"`+ext+`}}`)
	}
	old := doc(`,"badgeId":"AB-1","serial":"S1","aliases":["x","y"],"contract":{"number":"N1","note":"n","signed":true}`)
	for _, tc := range []struct {
		name string
		new  string
		bad  string // attribute named in the error; "" for none
	}{
		{"same", `,"badgeId":"AB-1","serial":"S1","aliases":["x","y"],"contract":{"number":"N1","signed":true}`, ""},
		{"absent keeps", ``, ""},
		{"caseExact false", `,"badgeId":"ab-1"`, ""},
		{"multiset order", `,"aliases":["y","x"]`, ""},
		{"other sub-attribute may change", `,"contract":{"number":"N1","note":"changed","signed":false}`, ""},
		{"changed", `,"badgeId":"AB-2"`, testURN + ":badgeId"},
		{"caseExact true", `,"serial":"s1"`, testURN + ":serial"},
		{"multiset changed", `,"aliases":["x","z"]`, testURN + ":aliases"},
		{"multiset shorter", `,"aliases":["x"]`, testURN + ":aliases"},
		{"immutable sub-attribute", `,"contract":{"number":"N2","signed":true}`, testURN + ":contract.number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rt.CheckImmutable(old, doc(tc.new))
			if tc.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !is(err, 400, scim.Mutability) || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("error = %v, want 400 mutability naming %s", err, tc.bad)
			}
		})
	}
	// No stored value: anything may be set.
	if err := rt.CheckImmutable(doc(``), old); err != nil {
		t.Error(err)
	}
	// A core attribute made immutable by a profile.
	rt.Schema.Attr("userName").Mutability = Immutable
	if err := rt.CheckImmutable(decode(t, `{"userName":"a"}`), decode(t, `{"userName":"b"}`)); !is(err, 400, scim.Mutability) {
		t.Errorf("userName: %v", err)
	}
	// Group members are added and removed whole (RFC 7643 §4.2).
	g := GroupResourceType()
	if err := g.CheckImmutable(load(t, "rfc7643-8.4-group.json"), decode(t, `{"members":[{"value":"other"}]}`)); err != nil {
		t.Errorf("members: %v", err)
	}
}

package schema

import (
	"reflect"
	"slices"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(ss ...string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return out
}

// The stored enterprise user of RFC 7643 §8.3: id, meta and groups as the
// server keeps them, and the writeOnly password.
func storedUser(t testing.TB) map[string]any { return load(t, "rfc7643-8.3-enterprise-user.json") }

// RFC 7644 §3.4.2.5 and §3.9, RFC 7643 §7 "returned".
func TestProject(t *testing.T) {
	all := []string{"schemas", "id", "externalId", "userName", "name", "displayName", "nickName", "profileUrl",
		"emails", "addresses", "phoneNumbers", "ims", "photos", "userType", "title", "preferredLanguage", "locale",
		"timezone", "active", "groups", "x509Certificates", entUser, "meta"}
	without := func(drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(s string) bool { return slices.Contains(drop, s) })
	}
	for _, tc := range []struct {
		name               string
		attributes, exclud []string
		keys               []string
		check              func(t *testing.T, out map[string]any)
	}{
		{name: "defaults: everything but password", keys: all},
		{name: "attributes=userName (RFC 7644 §3.9)", attributes: []string{"userName"}, keys: []string{"schemas", "id", "userName"},
			check: func(t *testing.T, out map[string]any) {
				want := map[string]any{"schemas": []any{coreUser, entUser}, "id": "2819c223-7f76-453a-919d-413861904646", "userName": "bjensen@example.com"}
				if !reflect.DeepEqual(out, want) {
					t.Errorf("got %v", out)
				}
			}},
		{name: "excludedAttributes=emails", exclud: []string{"emails"}, keys: without("emails")},
		// A bare core schema URN names every core attribute, as a bare
		// extension URN names the extension's.
		{name: "attributes=the core URN", attributes: []string{coreUser}, keys: without(entUser, "externalId", "meta")},
		{name: "excludedAttributes=the core URN", exclud: []string{coreUser}, keys: []string{"schemas", "id", "externalId", entUser, "meta"}},
		{name: "excludedAttributes=emails,name (one element)", exclud: []string{"emails, name"}, keys: without("emails", "name")},
		{name: "attributes=name.givenName", attributes: []string{"name.givenName"}, keys: []string{"schemas", "id", "name"},
			check: func(t *testing.T, out map[string]any) {
				if !reflect.DeepEqual(out["name"], map[string]any{"givenName": "Barbara"}) {
					t.Errorf("name = %v", out["name"])
				}
			}},
		{name: "attributes=name and name.givenName: whole wins", attributes: []string{"name.givenName", "name"}, keys: []string{"schemas", "id", "name"},
			check: func(t *testing.T, out map[string]any) {
				if len(out["name"].(map[string]any)) != 6 {
					t.Errorf("name = %v", out["name"])
				}
			}},
		{name: "attributes=emails.value", attributes: []string{"emails.value"}, keys: []string{"schemas", "id", "emails"},
			check: func(t *testing.T, out map[string]any) {
				want := []any{map[string]any{"value": "bjensen@example.com"}, map[string]any{"value": "babs@jensen.org"}}
				if !reflect.DeepEqual(out["emails"], want) {
					t.Errorf("emails = %v", out["emails"])
				}
			}},
		{name: "attributes=emails.primary drops values without it", attributes: []string{"emails.primary"}, keys: []string{"schemas", "id", "emails"},
			check: func(t *testing.T, out map[string]any) {
				if !reflect.DeepEqual(out["emails"], []any{map[string]any{"primary": true}}) {
					t.Errorf("emails = %v", out["emails"])
				}
			}},
		{name: "returned never: attributes=password", attributes: []string{"password"}, keys: []string{"schemas", "id"}},
		{name: "returned always: excluded id and schemas", exclud: []string{"id", "schemas", "password"}, keys: all},
		{name: "case-insensitive", attributes: []string{"USERNAME", "Name.GivenName"}, keys: []string{"schemas", "id", "userName", "name"}},
		{name: "unknown names are ignored", attributes: []string{"shoeSize", "name.nick", "urn:acme:x"}, keys: []string{"schemas", "id"}},
		{name: "unknown excluded names are ignored", exclud: []string{"shoeSize"}, keys: all},
		{name: "URN-qualified core", attributes: []string{coreUser + ":userName"}, keys: []string{"schemas", "id", "userName"}},
		{name: "URN-qualified extension attribute", attributes: []string{entUser + ":employeeNumber"}, keys: []string{"schemas", "id", entUser},
			check: func(t *testing.T, out map[string]any) {
				if !reflect.DeepEqual(out[entUser], map[string]any{"employeeNumber": "701984"}) {
					t.Errorf("extension = %v", out[entUser])
				}
			}},
		{name: "URN-qualified extension sub-attribute", attributes: []string{entUser + ":manager.value"}, keys: []string{"schemas", "id", entUser},
			check: func(t *testing.T, out map[string]any) {
				want := map[string]any{"manager": map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
				if !reflect.DeepEqual(out[entUser], want) {
					t.Errorf("extension = %v", out[entUser])
				}
			}},
		{name: "unqualified extension attribute (RFC 7644 §3.10 SHOULD)", attributes: []string{"employeeNumber"}, keys: []string{"schemas", "id", entUser}},
		{name: "bare extension URN", attributes: []string{entUser}, keys: []string{"schemas", "id", entUser},
			check: func(t *testing.T, out map[string]any) {
				if len(out[entUser].(map[string]any)) != 6 {
					t.Errorf("extension = %v", out[entUser])
				}
			}},
		{name: "excluded bare extension URN", exclud: []string{entUser}, keys: without(entUser)},
		{name: "excluded extension attribute", exclud: []string{entUser + ":manager"}, keys: all,
			check: func(t *testing.T, out map[string]any) {
				if _, ok := out[entUser].(map[string]any)["manager"]; ok {
					t.Error("manager kept")
				}
			}},
		{name: "excluded name.givenName", exclud: []string{"name.givenName"}, keys: all,
			check: func(t *testing.T, out map[string]any) {
				if n := out["name"].(map[string]any); n["givenName"] != nil || n["familyName"] != "Jensen" {
					t.Errorf("name = %v", n)
				}
			}},
		{name: "excluded emails.type", exclud: []string{"emails.type"}, keys: all,
			check: func(t *testing.T, out map[string]any) {
				want := []any{map[string]any{"value": "bjensen@example.com", "primary": true}, map[string]any{"value": "babs@jensen.org"}}
				if !reflect.DeepEqual(out["emails"], want) {
					t.Errorf("emails = %v", out["emails"])
				}
			}},
		{name: "attributes and excluded together", attributes: []string{"userName", "emails"}, exclud: []string{"emails.primary"}, keys: []string{"schemas", "id", "userName", "emails"},
			check: func(t *testing.T, out map[string]any) {
				if _, ok := out["emails"].([]any)[0].(map[string]any)["primary"]; ok {
					t.Error("primary kept")
				}
			}},
		{name: "meta is default", attributes: []string{"meta.lastModified"}, keys: []string{"schemas", "id", "meta"},
			check: func(t *testing.T, out map[string]any) {
				if !reflect.DeepEqual(out["meta"], map[string]any{"lastModified": "2011-05-13T04:42:34Z"}) {
					t.Errorf("meta = %v", out["meta"])
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := storedUser(t)
			out := UserResourceType().Project(in, tc.attributes, tc.exclud)
			if got, want := keys(out), sorted(tc.keys...); !slices.Equal(got, want) {
				t.Errorf("keys = %v\nwant  %v", got, want)
			}
			if _, ok := out["password"]; ok {
				t.Error("password returned")
			}
			if tc.check != nil {
				tc.check(t, out)
			}
			if !reflect.DeepEqual(in, storedUser(t)) {
				t.Error("Project changed its input")
			}
		})
	}
}

func TestProjectResultSharesNothing(t *testing.T) {
	in := storedUser(t)
	out := UserResourceType().Project(in, nil, nil)
	out["name"].(map[string]any)["givenName"] = "X"
	out["emails"].([]any)[0].(map[string]any)["value"] = "X"
	out[entUser].(map[string]any)["manager"].(map[string]any)["value"] = "X"
	out["schemas"].([]any)[0] = "X"
	if !reflect.DeepEqual(in, storedUser(t)) {
		t.Error("changing the result changed the input")
	}
}

// RFC 7643 §7: "request" attributes only when asked for, by name or as part
// of their parent; "never" sub-attributes never.
func TestProjectRequestAndNeverSubAttributes(t *testing.T) {
	rt := UserResourceType()
	rt.Schema.Attr("nickName").Returned = Request
	rt.Schema.Attr("emails").Sub("display").Returned = Request
	rt.Schema.Attr("name").Sub("middleName").Returned = Never
	in := load(t, "rfc7643-8.2-full-user.json")
	in["emails"].([]any)[0].(map[string]any)["display"] = "Work"

	out := rt.Project(in, nil, nil)
	if _, ok := out["nickName"]; ok {
		t.Error("request nickName returned by default")
	}
	if _, ok := out["emails"].([]any)[0].(map[string]any)["display"]; ok {
		t.Error("request emails.display returned by default")
	}
	if _, ok := out["name"].(map[string]any)["middleName"]; ok {
		t.Error("never name.middleName returned")
	}
	out = rt.Project(in, []string{"nickName", "emails", "name"}, nil)
	if out["nickName"] != "Babs" {
		t.Error("request nickName not returned when named")
	}
	if out["emails"].([]any)[0].(map[string]any)["display"] != "Work" {
		t.Error("request emails.display not returned when its parent is named")
	}
	if _, ok := out["name"].(map[string]any)["middleName"]; ok {
		t.Error("never name.middleName returned when its parent is named")
	}
	out = rt.Project(in, []string{"userName"}, nil)
	if _, ok := out["nickName"]; ok {
		t.Error("request nickName returned when not named")
	}
	out = rt.Project(in, []string{"emails.display"}, nil)
	if !reflect.DeepEqual(out["emails"], []any{map[string]any{"display": "Work"}}) {
		t.Errorf("emails = %v", out["emails"])
	}
}

// Entra reads groups with excludedAttributes=members (docs/idp-traffic.md §1.2).
func TestProjectGroupWithoutMembers(t *testing.T) {
	out := GroupResourceType().Project(load(t, "rfc7643-8.4-group.json"), nil, []string{"members"})
	if got := keys(out); !slices.Equal(got, sorted("schemas", "id", "displayName", "meta")) {
		t.Errorf("keys = %v", got)
	}
}

// Documents from elsewhere (a target's response) may carry keys no schema
// defines, or odd spellings.
func TestProjectForeignDocument(t *testing.T) {
	in := decode(t, `{"schemas":["`+coreUser+`"],"ID":"1","UserName":"b","PASSWORD":"p","x-extra":{"a":1},"emails":[{"value":"a","x":1}]}`)
	out := UserResourceType().Project(in, nil, nil)
	if got := keys(out); !slices.Equal(got, sorted("schemas", "ID", "UserName", "x-extra", "emails")) {
		t.Errorf("keys = %v", got)
	}
	out = UserResourceType().Project(in, []string{"emails.value"}, nil)
	if got := keys(out); !slices.Equal(got, sorted("schemas", "ID", "emails")) || !reflect.DeepEqual(out["emails"], []any{map[string]any{"value": "a"}}) {
		t.Errorf("got %v", out)
	}
}

func TestResolveName(t *testing.T) {
	rt := UserResourceType()
	for _, tc := range []struct {
		key, canonical, ext string
		attr                *Attribute
	}{
		{"userName", "userName", "", rt.Schema.Attr("userName")},
		{" USERNAME ", "userName", "", rt.Schema.Attr("userName")},
		{"name.givenName", "name.givenName", "", rt.Schema.Attr("name").Sub("givenName")},
		{"NAME.GIVENNAME", "name.givenName", "", rt.Schema.Attr("name").Sub("givenName")},
		{"emails.value", "emails.value", "", rt.Schema.Attr("emails").Sub("value")},
		{"members", "", "", nil},
		{coreUser + ":userName", "userName", "", rt.Schema.Attr("userName")},
		{coreUser + ":name.familyName", "name.familyName", "", rt.Schema.Attr("name").Sub("familyName")},
		{entUser + ":employeeNumber", "employeeNumber", entUser, rt.Extensions[0].Schema.Attr("employeeNumber")},
		{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER", "employeeNumber", entUser, rt.Extensions[0].Schema.Attr("employeeNumber")},
		{entUser + ":manager.value", "manager.value", entUser, rt.Extensions[0].Schema.Attr("manager").Sub("value")},
		{"department", "department", entUser, rt.Extensions[0].Schema.Attr("department")},
		{entUser, "", entUser, nil},
		{"id", "id", "", IDAttr},
		{"meta.lastModified", "meta.lastModified", "", MetaAttr.Sub("lastModified")},
		{coreUser + ":externalId", "externalId", "", ExternalIDAttr},
		{entUser + ":userName", "", "", nil}, // userName is not in the extension
		{"name.", "", "", nil},
		{"name.givenName.x", "", "", nil},
		{"userName.x", "", "", nil},
		{"", "", "", nil},
		{coreUser, "", "", nil},
		{"urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "", "", nil},
	} {
		a, canonical, ext := ResolveName(rt, tc.key)
		if a != tc.attr || canonical != tc.canonical || ext != tc.ext {
			t.Errorf("ResolveName(%q) = %v, %q, %q; want %v, %q, %q", tc.key, a, canonical, ext, tc.attr, tc.canonical, tc.ext)
		}
	}
}

func TestValidateAttrNames(t *testing.T) {
	rt := UserResourceType()
	if err := rt.ValidateAttrNames([]string{"userName", "name.givenName, emails.value", entUser, entUser + ":manager.value", "meta.created", ""}); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"shoeSize", "name.nick", "emails[type eq \"work\"].value", "urn:acme:User:x"} {
		err := rt.ValidateAttrNames([]string{"userName", bad})
		if !is(err, 400, scim.InvalidValue) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

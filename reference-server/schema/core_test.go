package schema

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// wire returns s's attributes in their JSON form, as a client of /Schemas
// decodes them.
func wire(t *testing.T, s *Schema) map[string]map[string]any {
	t.Helper()
	b, err := json.Marshal(s.Attributes)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]map[string]any, len(list))
	for _, a := range list {
		out[a["name"].(string)] = a
	}
	return out
}

func names(as []*Attribute) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func subNames(a map[string]any) []string {
	var out []string
	subs, _ := a["subAttributes"].([]any)
	for _, s := range subs {
		out = append(out, s.(map[string]any)["name"].(string))
	}
	return out
}

func sub(a map[string]any, name string) map[string]any {
	subs, _ := a["subAttributes"].([]any)
	for _, s := range subs {
		if m := s.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// has checks the listed characteristics of one attribute's JSON form.
func has(t *testing.T, where string, a map[string]any, want map[string]any) {
	t.Helper()
	if a == nil {
		t.Errorf("%s: missing", where)
		return
	}
	for k, w := range want {
		if got := a[k]; !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %s = %#v, want %#v", where, k, got, w)
		}
	}
}

// RFC 7643 §8.7.1: the User schema lists every attribute of §4.1, in order,
// with the characteristics printed there.
func TestUserMatchesRFC7643Section8_7_1(t *testing.T) {
	u := User()
	if u.ID != scim.UserSchema || u.Name != "User" || u.Description != "User Account" {
		t.Errorf("User() = %q %q %q", u.ID, u.Name, u.Description)
	}
	wantNames := []string{"userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
		"preferredLanguage", "locale", "timezone", "active", "password", "emails", "phoneNumbers", "ims",
		"photos", "addresses", "groups", "entitlements", "roles", "x509Certificates"}
	if got := names(u.Attributes); !slices.Equal(got, wantNames) {
		t.Fatalf("attributes = %v\nwant %v", got, wantNames)
	}
	w := wire(t, u)
	has(t, "userName", w["userName"], map[string]any{"type": "string", "multiValued": false, "required": true,
		"caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "server"})
	has(t, "password", w["password"], map[string]any{"type": "string", "mutability": "writeOnly", "returned": "never",
		"required": false, "uniqueness": "none"})
	has(t, "active", w["active"], map[string]any{"type": "boolean", "multiValued": false, "mutability": "readWrite",
		"returned": "default", "uniqueness": "none"})
	has(t, "profileUrl", w["profileUrl"], map[string]any{"type": "reference", "referenceTypes": []any{"external"}})
	if got := subNames(w["name"]); !slices.Equal(got, []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"}) {
		t.Errorf("name sub-attributes = %v", got)
	}

	has(t, "groups", w["groups"], map[string]any{"type": "complex", "multiValued": true, "mutability": "readOnly"})
	if got := subNames(w["groups"]); !slices.Equal(got, []string{"value", "$ref", "display", "type"}) {
		t.Errorf("groups sub-attributes = %v", got)
	}
	for _, s := range subNames(w["groups"]) {
		has(t, "groups."+s, sub(w["groups"], s), map[string]any{"mutability": "readOnly"})
	}
	has(t, "groups.$ref", sub(w["groups"], "$ref"), map[string]any{"type": "reference", "referenceTypes": []any{"User", "Group"}})
	has(t, "groups.type", sub(w["groups"], "type"), map[string]any{"canonicalValues": []any{"direct", "indirect"}})

	has(t, "emails", w["emails"], map[string]any{"type": "complex", "multiValued": true, "mutability": "readWrite"})
	if got := subNames(w["emails"]); !slices.Equal(got, []string{"value", "display", "type", "primary"}) {
		t.Errorf("emails sub-attributes = %v", got)
	}
	has(t, "emails.type", sub(w["emails"], "type"), map[string]any{"canonicalValues": []any{"work", "home", "other"}})
	has(t, "emails.primary", sub(w["emails"], "primary"), map[string]any{"type": "boolean"})

	canon := map[string][]any{
		"phoneNumbers": {"work", "home", "mobile", "fax", "pager", "other"},
		"ims":          {"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"},
		"photos":       {"photo", "thumbnail"},
		"addresses":    {"work", "home", "other"},
	}
	for attr, values := range canon {
		has(t, attr+".type", sub(w[attr], "type"), map[string]any{"canonicalValues": values})
	}
	for _, attr := range []string{"emails", "phoneNumbers", "ims", "photos", "addresses", "entitlements", "roles", "x509Certificates"} {
		has(t, attr, w[attr], map[string]any{"type": "complex", "multiValued": true, "mutability": "readWrite"})
		has(t, attr+".type", sub(w[attr], "type"), map[string]any{"type": "string"})
	}
	for _, attr := range []string{"phoneNumbers", "ims", "photos", "entitlements", "roles", "x509Certificates"} {
		if got := subNames(w[attr]); !slices.Equal(got, []string{"value", "display", "type", "primary"}) {
			t.Errorf("%s sub-attributes = %v", attr, got)
		}
	}
	has(t, "photos.value", sub(w["photos"], "value"), map[string]any{"type": "reference", "referenceTypes": []any{"external"}})
	has(t, "x509Certificates.value", sub(w["x509Certificates"], "value"), map[string]any{"type": "binary"})
	if got := subNames(w["addresses"]); !slices.Equal(got, []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"}) {
		t.Errorf("addresses sub-attributes = %v", got)
	}
	// §8.7.1 prints "canonicalValues": [] for roles.type and x509Certificates.type and none for entitlements.type.
	if cv := u.Attr("roles").Sub("type").CanonicalValues; cv == nil || len(cv) != 0 {
		t.Errorf("roles.type canonicalValues = %#v, want []", cv)
	}
	if cv := u.Attr("entitlements").Sub("type").CanonicalValues; cv != nil {
		t.Errorf("entitlements.type canonicalValues = %#v, want nil", cv)
	}
}

func TestGroupMatchesRFC7643Section8_7_1(t *testing.T) {
	g := Group()
	if g.ID != scim.GroupSchema || g.Name != "Group" {
		t.Errorf("Group() = %q %q", g.ID, g.Name)
	}
	if got := names(g.Attributes); !slices.Equal(got, []string{"displayName", "members"}) {
		t.Fatalf("attributes = %v", got)
	}
	w := wire(t, g)
	has(t, "displayName", w["displayName"], map[string]any{"type": "string", "required": true, "caseExact": false, "uniqueness": "none"})
	has(t, "members", w["members"], map[string]any{"type": "complex", "multiValued": true, "mutability": "readWrite", "required": false})
	if got := subNames(w["members"]); !slices.Equal(got, []string{"value", "$ref", "display", "type"}) {
		t.Errorf("members sub-attributes = %v", got)
	}
	has(t, "members.value", sub(w["members"], "value"), map[string]any{"type": "string", "mutability": "immutable", "required": true})
	has(t, "members.$ref", sub(w["members"], "$ref"), map[string]any{"type": "reference", "mutability": "immutable", "referenceTypes": []any{"User", "Group"}})
	has(t, "members.type", sub(w["members"], "type"), map[string]any{"mutability": "immutable", "canonicalValues": []any{"User", "Group"}})
}

func TestEnterpriseUserMatchesRFC7643Section8_7_1(t *testing.T) {
	e := EnterpriseUser()
	if e.ID != scim.EnterpriseUserSchema || e.Name != "EnterpriseUser" {
		t.Errorf("EnterpriseUser() = %q %q", e.ID, e.Name)
	}
	if got := names(e.Attributes); !slices.Equal(got, []string{"employeeNumber", "costCenter", "organization", "division", "department", "manager"}) {
		t.Fatalf("attributes = %v", got)
	}
	w := wire(t, e)
	if got := subNames(w["manager"]); !slices.Equal(got, []string{"value", "$ref", "displayName"}) {
		t.Errorf("manager sub-attributes = %v", got)
	}
	has(t, "manager.$ref", sub(w["manager"], "$ref"), map[string]any{"referenceTypes": []any{"User"}, "mutability": "readWrite"})
	has(t, "manager.displayName", sub(w["manager"], "displayName"), map[string]any{"mutability": "readOnly"})
}

func TestServiceProviderSchemasMatchRFC7643Section8_7_2(t *testing.T) {
	spc := ServiceProviderConfig()
	if got := names(spc.Attributes); !slices.Equal(got, []string{"documentationUri", "patch", "bulk", "filter", "changePassword", "sort", "etag", "authenticationSchemes"}) {
		t.Errorf("ServiceProviderConfig attributes = %v", got)
	}
	w := wire(t, spc)
	for _, a := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		has(t, a, w[a], map[string]any{"type": "complex", "required": true, "mutability": "readOnly"})
		has(t, a+".supported", sub(w[a], "supported"), map[string]any{"type": "boolean", "required": true})
	}
	has(t, "bulk.maxOperations", sub(w["bulk"], "maxOperations"), map[string]any{"type": "integer", "required": true})
	has(t, "filter.maxResults", sub(w["filter"], "maxResults"), map[string]any{"type": "integer", "required": true})
	if got := subNames(w["authenticationSchemes"]); !slices.Equal(got, []string{"type", "name", "description", "specUri", "documentationUri", "primary"}) {
		t.Errorf("authenticationSchemes sub-attributes = %v", got)
	}

	rt := ResourceTypeSchema()
	if got := names(rt.Attributes); !slices.Equal(got, []string{"id", "name", "description", "endpoint", "schema", "schemaExtensions"}) {
		t.Errorf("ResourceType attributes = %v", got)
	}
	has(t, "schemaExtensions", wire(t, rt)["schemaExtensions"], map[string]any{"multiValued": true, "required": false})

	s := SchemaSchema()
	if got := names(s.Attributes); !slices.Equal(got, []string{"id", "name", "description", "attributes"}) {
		t.Errorf("Schema attributes = %v", got)
	}
	attrs := wire(t, s)["attributes"]
	want := []string{"name", "type", "multiValued", "description", "required", "canonicalValues", "caseExact", "mutability", "returned", "uniqueness", "referenceTypes", "subAttributes"}
	if got := subNames(attrs); !slices.Equal(got, want) {
		t.Errorf("Schema attributes sub-attributes = %v", got)
	}
	if got := subNames(sub(attrs, "subAttributes")); !slices.Equal(got, want[:len(want)-1]) {
		t.Errorf("Schema attributes.subAttributes sub-attributes = %v", got)
	}
}

// §2.2 defaults are filled in, so no characteristic is ever blank.
func TestDefaultsFilled(t *testing.T) {
	var walk func(string, []*Attribute)
	walk = func(where string, as []*Attribute) {
		for _, a := range as {
			if a.Type == "" || a.Mutability == "" || a.Returned == "" || a.Uniqueness == "" {
				t.Errorf("%s%s has a blank characteristic: %+v", where, a.Name, a)
			}
			if (a.Type == Complex) != (len(a.SubAttributes) > 0) {
				t.Errorf("%s%s: type %s with %d sub-attributes", where, a.Name, a.Type, len(a.SubAttributes))
			}
			walk(where+a.Name+".", a.SubAttributes)
		}
	}
	for _, s := range []*Schema{User(), Group(), EnterpriseUser(), ServiceProviderConfig(), ResourceTypeSchema(), SchemaSchema()} {
		walk(s.Name+":", s.Attributes)
	}
}

func TestAccessorsReturnDeepCopies(t *testing.T) {
	u := User()
	u.Attributes = u.Attributes[:1]
	u2 := User()
	u2.Attr("title").Returned = Never
	u2.Attr("emails").Sub("type").CanonicalValues[0] = "changed"
	u2.Attr("emails").SubAttributes = nil

	fresh := User()
	if len(fresh.Attributes) != 21 || fresh.Attr("title").Returned != Default ||
		fresh.Attr("emails").Sub("type").CanonicalValues[0] != "work" {
		t.Error("changing a returned schema changed later ones")
	}
	c := Clone(fresh)
	if !reflect.DeepEqual(c, fresh) {
		t.Error("Clone differs from its source")
	}
	c.Attr("name").Sub("givenName").CaseExact = true
	if fresh.Attr("name").Sub("givenName").CaseExact {
		t.Error("Clone shares sub-attributes")
	}
	if Clone(nil) != nil {
		t.Error("Clone(nil) != nil")
	}
	rt1, rt2 := UserResourceType(), UserResourceType()
	rt1.Extensions[0].Schema.Attr("department").Required = true
	if rt2.Extensions[0].Schema.Attr("department").Required {
		t.Error("UserResourceType shares its extension schema")
	}
}

func TestSchemaResource(t *testing.T) {
	r := User().Resource("https://example.com/v2/")
	if !reflect.DeepEqual(r["schemas"], []any{scim.SchemaSchema}) || r["id"] != scim.UserSchema ||
		r["name"] != "User" || r["description"] != "User Account" {
		t.Errorf("header = %v %v %v %v", r["schemas"], r["id"], r["name"], r["description"])
	}
	wantMeta := map[string]any{"resourceType": "Schema", "location": "https://example.com/v2/Schemas/" + scim.UserSchema}
	if !reflect.DeepEqual(r["meta"], wantMeta) {
		t.Errorf("meta = %v", r["meta"])
	}
	// The wire form decodes back into the same attribute definitions.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Schema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Attributes, User().Attributes) {
		t.Error("Resource's attributes do not decode back to User().Attributes")
	}
	// Every characteristic is spelled out, defaults included.
	for _, a := range r["attributes"].([]any) {
		m := a.(map[string]any)
		for _, k := range []string{"name", "type", "multiValued", "required", "caseExact", "mutability", "returned", "uniqueness"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%v lacks %s", m["name"], k)
			}
		}
	}
	roles := r["attributes"].([]any)[19].(map[string]any)
	if roles["name"] != "roles" || !reflect.DeepEqual(sub(roles, "type")["canonicalValues"], []any{}) {
		t.Errorf("roles.type canonicalValues lost: %v", sub(roles, "type"))
	}
}

// RFC 7643 §8.6.
func TestResourceTypeResource(t *testing.T) {
	got := UserResourceType().Resource("https://example.com/v2")
	want := map[string]any{
		"schemas":     []any{scim.ResourceTypeSchema},
		"id":          "User",
		"name":        "User",
		"endpoint":    "/Users",
		"description": "User Account",
		"schema":      scim.UserSchema,
		"schemaExtensions": []any{
			map[string]any{"schema": scim.EnterpriseUserSchema, "required": false},
		},
		"meta": map[string]any{"location": "https://example.com/v2/ResourceTypes/User", "resourceType": "ResourceType"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("User resource type =\n%v\nwant\n%v", got, want)
	}
	g := GroupResourceType().Resource("https://example.com/v2")
	if _, ok := g["schemaExtensions"]; ok {
		t.Error("Group resource type has schemaExtensions")
	}
	if g["endpoint"] != "/Groups" || g["schema"] != scim.GroupSchema || g["description"] != "Group" {
		t.Errorf("Group resource type = %v", g)
	}
}

// Attr and Sub look for the exact spelling before comparing ignoring case,
// which finds the same attribute only while no two names of one level are
// equal ignoring case (RFC 7643 §2.1 makes names case-insensitive).
func TestNamesAreUniqueIgnoringCase(t *testing.T) {
	var unique func(where string, as []*Attribute)
	unique = func(where string, as []*Attribute) {
		for i, a := range as {
			for _, b := range as[i+1:] {
				if strings.EqualFold(a.Name, b.Name) {
					t.Errorf("%s: %q and %q are the same name", where, a.Name, b.Name)
				}
			}
			unique(where+"."+a.Name, a.SubAttributes)
		}
	}
	for id, s := range core {
		unique(id, s.Attributes)
	}
	unique("common", []*Attribute{SchemasAttr, IDAttr, ExternalIDAttr, MetaAttr})
}

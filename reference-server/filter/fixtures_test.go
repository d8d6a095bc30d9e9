package filter

import (
	"encoding/json"
	"testing"

	"github.com/scimlab/scimlab/reference-server/schema"
)

// The resource types below are test fixtures shaped after RFC 7643 §4.1
// (User), §4.2 (Group) and §4.3 (enterprise User), plus a test extension
// with numeric and binary attributes, which the core schemas lack. They stay
// here so that the filter tests do not depend on the schema package's
// core-schema data.

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	metricsURN    = "urn:scimlab:params:scim:schemas:extension:test:2.0:Metrics"
)

func str(name string) *schema.Attribute {
	return &schema.Attribute{Name: name, Type: schema.String}
}

func exact(name string) *schema.Attribute {
	return &schema.Attribute{Name: name, Type: schema.String, CaseExact: true}
}

func typed(name string, t schema.Type) *schema.Attribute {
	return &schema.Attribute{Name: name, Type: t}
}

func complexAttr(name string, multi bool, subs ...*schema.Attribute) *schema.Attribute {
	return &schema.Attribute{Name: name, Type: schema.Complex, MultiValued: multi, SubAttributes: subs}
}

// multiValued is the sub-attribute set of emails, phoneNumbers and ims
// (RFC 7643 §2.4).
func multiValued(name string, valueType schema.Type) *schema.Attribute {
	return complexAttr(name, true,
		typed("value", valueType), str("display"), str("type"), typed("primary", schema.Boolean))
}

func userType() *schema.ResourceType {
	return &schema.ResourceType{
		ID: "User", Name: "User", Endpoint: "/Users",
		Schema: &schema.Schema{ID: userURN, Name: "User", Attributes: []*schema.Attribute{
			str("userName"),
			complexAttr("name", false,
				str("formatted"), str("familyName"), str("givenName"),
				str("middleName"), str("honorificPrefix"), str("honorificSuffix")),
			str("displayName"), str("nickName"), typed("profileUrl", schema.Reference),
			str("title"), str("userType"), str("preferredLanguage"), str("locale"), str("timezone"),
			typed("active", schema.Boolean),
			exact("password"),
			multiValued("emails", schema.String),
			multiValued("phoneNumbers", schema.String),
			multiValued("ims", schema.String),
			multiValued("photos", schema.Reference),
			complexAttr("addresses", true,
				str("formatted"), str("streetAddress"), str("locality"), str("region"),
				str("postalCode"), str("country"), str("type"), typed("primary", schema.Boolean)),
			complexAttr("groups", true,
				exact("value"), typed("$ref", schema.Reference), str("display"), str("type")),
			multiValued("x509Certificates", schema.Binary),
		}},
		Extensions: []schema.Extension{
			{Schema: &schema.Schema{ID: enterpriseURN, Name: "EnterpriseUser", Attributes: []*schema.Attribute{
				str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
				complexAttr("manager", false, str("value"), typed("$ref", schema.Reference), str("displayName")),
			}}},
			{Schema: &schema.Schema{ID: metricsURN, Name: "Metrics", Attributes: []*schema.Attribute{
				typed("loginCount", schema.Integer), typed("score", schema.Decimal),
				typed("badge", schema.Binary), typed("lastLogin", schema.DateTime),
			}}},
		},
	}
}

func groupType() *schema.ResourceType {
	return &schema.ResourceType{
		ID: "Group", Name: "Group", Endpoint: "/Groups",
		Schema: &schema.Schema{ID: groupURN, Name: "Group", Attributes: []*schema.Attribute{
			str("displayName"),
			complexAttr("members", true,
				exact("value"), typed("$ref", schema.Reference), str("display"), str("type")),
		}},
	}
}

// bjensen is the full User of RFC 7643 §8.2, trimmed, with the enterprise
// extension of §8.3 and the test extension.
const bjensen = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
              "urn:scimlab:params:scim:schemas:extension:test:2.0:Metrics"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "701984",
  "userName": "bjensen",
  "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
  "displayName": "Babs Jensen",
  "profileUrl": "https://login.example.com/bjensen",
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@jensen.org", "type": "home"}
  ],
  "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "country": "USA", "primary": true}],
  "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
  "ims": [{"value": "someaimhandle", "type": "aim"}],
  "userType": "Employee",
  "title": "Tour Guide",
  "active": true,
  "groups": [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides"}],
  "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
  "meta": {
    "resourceType": "User",
    "created": "2010-01-23T04:56:22Z",
    "lastModified": "2011-05-13T04:42:34Z",
    "version": "W/\"3694e05e9dff591\"",
    "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
  },
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "employeeNumber": "701984",
    "costCenter": "4130",
    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
  },
  "urn:scimlab:params:scim:schemas:extension:test:2.0:Metrics": {
    "loginCount": 42, "score": 97.5, "badge": "QUJD", "lastLogin": "2024-02-29T23:30:00-05:00"
  }
}`

// jomalley is a second user that the RFC examples tell apart from bjensen:
// an intern with no title, an O'Malley family name, an xmpp handle at
// foo.com, and a lastModified one second before bjensen's once its offset is
// applied (lexicographically it sorts after).
const jomalley = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "c3a26dd3-27a0-4dec-a2ac-ce211e105f97",
  "userName": "JOMalley",
  "name": {"familyName": "O'Malley", "givenName": "Jane"},
  "emails": [{"value": "jane@omalley.net", "type": "home"}],
  "ims": [{"value": "jane@foo.com", "type": "xmpp"}],
  "userType": "Intern",
  "title": "",
  "active": false,
  "meta": {
    "resourceType": "User",
    "created": "2011-05-13T04:42:34Z",
    "lastModified": "2011-05-13T06:42:33+02:00"
  }
}`

// group is the Group of RFC 7643 §8.4.
const group = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
  "displayName": "Tour Guides",
  "members": [
    {"value": "2819c223-7f76-453a-919d-413861904646",
     "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
     "display": "Babs Jensen"},
    {"value": "902c246b-6245-4190-8e05-00816be7344a",
     "$ref": "https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a",
     "display": "Mandy Pepperidge"}
  ]
}`

// doc decodes a JSON document the way the server does.
func doc(tb testing.TB, s string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	return m
}

package patch_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// fuzzUser is the fixed document FuzzApply patches: every kind of attribute
// the User resource type has, including the enterprise extension.
const fuzzUser = `{
 "schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
 "id":"2819c223-7f76-453a-919d-413861904646","externalId":"bjensen","userName":"bjensen@example.com",
 "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"Jensen","givenName":"Barbara"},
 "displayName":"Babs Jensen","nickName":"Babs","profileUrl":"https://login.example.com/bjensen",
 "title":"Tour Guide","userType":"Employee","preferredLanguage":"en-US","locale":"en-US","timezone":"America/Los_Angeles",
 "active":true,
 "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
 "addresses":[{"type":"work","streetAddress":"100 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"USA","primary":true}],
 "phoneNumbers":[{"value":"555-555-5555","type":"work"}],
 "groups":[{"value":"e9e30dba-f08f-4109-8486-d5c6a331660a","display":"Tour Guides"}],
 "meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z"},
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d","displayName":"John Smith"}}
}`

// FuzzApply feeds PATCH bodies to Parse and Apply, strict and lenient. It
// checks that nothing panics; that every error is a 4xx *scim.Error; that
// the input is never modified; that a success validates against the User
// resource type; and that Apply is deterministic.
func FuzzApply(f *testing.F) {
	for _, name := range []string{"testdata/rfc7644.json", "testdata/idp.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var file replayFile
		if err := json.Unmarshal(b, &file); err != nil {
			f.Fatal(err)
		}
		for _, c := range file.Cases {
			f.Add([]byte(c.Body))
		}
	}
	for _, c := range ruleCases {
		f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + c.ops + `}`))
	}
	rt := schema.UserResourceType()
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := patch.Parse(body)
		if err != nil {
			requireClientError(t, err)
			return
		}
		for _, opt := range []patch.Options{{}, patch.Lenient()} {
			in := decodeDoc(t, []byte(fuzzUser))
			out, changed, err := patch.Apply(in, p.Operations, rt, opt)
			if d := cmp.Diff(decodeDoc(t, []byte(fuzzUser)), in); d != "" {
				t.Fatalf("input modified:\n%s", d)
			}
			if err != nil {
				requireClientError(t, err)
				if out != nil || changed {
					t.Fatalf("error %v with a result", err)
				}
				continue
			}
			if _, err := rt.Validate(out, schema.Options{Mode: schema.Replace}); err != nil {
				t.Fatalf("result does not validate: %v\n%s", err, jsonText(out))
			}
			again, changed2, err := patch.Apply(in, p.Operations, rt, opt)
			if err != nil || changed2 != changed || !cmp.Equal(again, out) {
				t.Fatalf("not deterministic: %v", err)
			}
		}
	})
}

func requireClientError(t *testing.T, err error) {
	t.Helper()
	se, ok := err.(*scim.Error)
	if !ok {
		t.Fatalf("error %T %v is not a *scim.Error", err, err)
	}
	if se.Status < 400 || se.Status > 499 || !se.ScimType.Valid() || se.Detail == "" {
		t.Fatalf("error %+v is not a 4xx with a scimType and a detail", se)
	}
}

package patch_test

import (
	"encoding/json"
	"fmt"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/schema"
)

// Entra ID disables a user with a capitalised op and a string boolean
// (idp-traffic.md B2, B3). Strict evaluation refuses the string; Lenient
// accepts it.
func Example() {
	var user map[string]any
	_ = json.Unmarshal([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"a1","userName":"ana","active":true}`), &user)
	req, err := patch.Parse([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`))
	if err != nil {
		panic(err)
	}
	rt := schema.UserResourceType()

	_, _, err = patch.Apply(user, req.Operations, rt, patch.Options{})
	fmt.Println(err)

	out, changed, err := patch.Apply(user, req.Operations, rt, patch.Lenient())
	fmt.Println(out["active"], changed, err)
	// Output:
	// scim 400 invalidValue: Operations[0] (Replace active): active is boolean; "False" is not a JSON boolean
	// false true <nil>
}

// Re-adding a member changes nothing and is not an error (RFC 7644
// §3.5.2.1; idp-traffic.md B18), so the server can keep meta.lastModified.
func ExampleApply_readdMember() {
	var group map[string]any
	_ = json.Unmarshal([]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Eng",
		"members":[{"value":"u-111","display":"ana@example.test"}]}`), &group)
	req, _ := patch.Parse([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"members","value":[{"value":"u-111","display":"ana@example.test"}]}]}`))
	_, changed, err := patch.Apply(group, req.Operations, schema.GroupResourceType(), patch.Options{})
	fmt.Println(changed, err)
	// Output: false <nil>
}

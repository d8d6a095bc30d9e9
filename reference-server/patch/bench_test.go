package patch_test

import (
	"fmt"
	"testing"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// BenchmarkApplyActive is Okta's deactivation, replace active on a full user.
func BenchmarkApplyActive(b *testing.B) {
	doc := decodeDoc(b, []byte(fuzzUser))
	rt := schema.UserResourceType()
	ops := []scim.PatchOperation{{Op: "replace", Value: map[string]any{"active": false}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, changed, err := patch.Apply(doc, ops, rt, patch.Options{}); err != nil || !changed {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyAddMember adds one member to a group of 1,000 members.
func BenchmarkApplyAddMember(b *testing.B) {
	members := make([]any, 1000)
	for i := range members {
		members[i] = map[string]any{"value": fmt.Sprintf("user-%04d", i), "display": fmt.Sprintf("user%04d@example.test", i)}
	}
	doc := map[string]any{
		"schemas":     []any{scim.GroupSchema},
		"id":          "g1",
		"displayName": "Everyone",
		"members":     members,
	}
	rt := schema.GroupResourceType()
	ops := []scim.PatchOperation{{Op: "add", Path: "members", Value: []any{map[string]any{"value": "user-new", "display": "new@example.test"}}}}
	b.ReportAllocs()
	for b.Loop() {
		out, changed, err := patch.Apply(doc, ops, rt, patch.Options{})
		if err != nil || !changed || len(out["members"].([]any)) != 1001 {
			b.Fatal(err)
		}
	}
}

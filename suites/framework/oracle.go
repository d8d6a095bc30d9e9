package framework

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reference-server/filter"
	"github.com/scimlab/scimlab/reference-server/schema"
)

// resourceType returns the reference schema of a resource type by name.
func resourceType(name string) *schema.ResourceType {
	switch strings.ToLower(name) {
	case "user", "users":
		return schema.UserResourceType()
	case "group", "groups":
		return schema.GroupResourceType()
	}
	return nil
}

// Matches evaluates a SCIM filter on a resource with the reference
// server's filter package, the oracle of these checks (DESIGN.md). err is
// set when the oracle cannot parse the filter.
func Matches(expr string, d Doc, resourceTypeName string) (bool, error) {
	e, err := filter.Parse(expr)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false, err
	}
	return filter.Match(e, doc, resourceType(resourceTypeName)), nil
}

// ExpectAllMatch fails the spec when a resource a filtered query returned
// does not match the filter according to the oracle.
func ExpectAllMatch(expr string, resources []Doc, resourceTypeName string) {
	ginkgo.GinkgoHelper()
	for _, r := range resources {
		ok, err := Matches(expr, r, resourceTypeName)
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "the reference filter parser reads %q", expr)
		gomega.Expect(ok).To(gomega.BeTrue(), fmt.Sprintf("resource %s (%s) was returned for filter %q, but it does not match it", r.ID(), r.Str("userName")+r.Str("displayName"), expr))
	}
}

package cli

import (
	"regexp"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/scimlab/scimlab/suites/all"
	"github.com/scimlab/scimlab/suites/framework"
)

// suiteCheckIDRE matches a suite check ID such as USR-001.
var suiteCheckIDRE = regexp.MustCompile(`^[A-Z]{2,4}-\d{3}$`)

// selectChecks parses a label filter and counts the checks it selects,
// without running any (Ginkgo's PreviewSpecs; the suite still runs once
// afterwards). A filter that selects nothing would pass every gate with
// "0 checks", so it is a usage error, as is one that does not parse.
func selectChecks(filter string) error {
	if filter == "" {
		return nil
	}
	match, err := all.ParseLabelFilter(filter)
	if err != nil {
		return usagef("%v", err)
	}
	gomega.RegisterFailHandler(ginkgo.Fail)
	report := framework.PreviewSpecs(all.SuiteName)
	for _, s := range report.SpecReports {
		if s.LeafNodeType == types.NodeTypeIt && match(s.Labels()) {
			return nil
		}
	}
	hint := "labels are areas (users, bulk, …), levels (MUST, SHOULD, MAY), idp:<name> and RFC references such as rfc7644:3.5.2; see suites/CHECKS.md"
	for _, word := range strings.FieldsFunc(filter, func(r rune) bool { return strings.ContainsRune(" ()&|!,", r) }) {
		if suiteCheckIDRE.MatchString(word) {
			hint = word + " is a check ID, not a label; " + hint
			break
		}
	}
	return usagef("--label-filter %q selects no check: %s", filter, hint)
}

package bugpack

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/simulator/bugpack"
	"github.com/scimlab/scimlab/simulator/replayer"
	"github.com/scimlab/scimlab/suites/framework"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

// The transcripts of the known-bug pack (fixtures/bugs), one check each:
// BPK-0nn replays bug Bnn byte for byte as its IdP sent it and passes when
// the target answers as a correct server does. `scimlab test --bug-pack`
// runs these alone.
var _ = Describe("Known-bug pack transcripts", lbl.Of(lbl.BugPack), func() {
	bugs, err := bugpack.Load()
	if err != nil {
		panic(fmt.Sprintf("loading the known-bug pack: %v", err))
	}
	for _, b := range bugs {
		args := []any{bugLevel(b.IdP), lbl.Tolerance}
		if ref, ok := rfcRef(b.RFC); ok {
			args = append(args, lbl.RFC(ref))
		}
		args = append(args, func(ctx SpecContext) {
			t := framework.Current()
			target := replayer.Target{BaseURL: t.BaseURL, Headers: map[string]string{}}
			for k, v := range t.Headers {
				target.Headers[k] = v
			}
			if t.Authorization != "" {
				target.Headers["Authorization"] = t.Authorization
			}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			if t.Insecure {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
			}
			target.Client = &http.Client{Timeout: 60 * time.Second, Transport: tr}
			run, err := bugpack.RunBugs(ctx, target, []bugpack.Bug{b})
			if err != nil {
				framework.CouldNotRun("bug %s could not be replayed: %v", b.ID, err)
			}
			Expect(run.Checks).To(HaveLen(1))
			c := run.Checks[0]
			for _, ev := range c.Evidence {
				AddReportEntry("exchange", ev, ReportEntryVisibilityFailureOrVerbose)
			}
			Expect(run.Orphans).To(BeEmpty(), "the bug's replay could not remove what it created")
			Expect(c.Verdict).To(Equal(reports.Pass), "%s (%s): %s; a correct server: %s", b.ID, b.Source, c.Reason, b.Correct)
		})
		framework.It(checkID(b.ID), b.ID+": "+b.Title, args...)
	}
})

// checkID maps bug B07 to check BPK-007.
func checkID(bug string) string {
	n, err := strconv.Atoi(strings.TrimPrefix(bug, "B"))
	if err != nil {
		panic(fmt.Sprintf("bug id %q: want Bnn", bug))
	}
	return fmt.Sprintf("BPK-%03d", n)
}

func bugLevel(idp string) lbl.Label {
	switch idp {
	case "okta":
		return lbl.Okta
	case "entra":
		return lbl.Entra
	case "onelogin":
		return lbl.OneLogin
	}
	panic(fmt.Sprintf("bug pack: no level label for IdP %q", idp))
}

// rfcRef turns "RFC7644 §3.5.2.3" into "7644:3.5.2.3".
func rfcRef(s string) (string, bool) {
	num, sec, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(s), "RFC"), " §")
	if !ok || num == "" || sec == "" {
		return "", false
	}
	return num + ":" + sec, true
}

package cli

import (
	"path/filepath"
	"strings"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
)

// TestSimulateEveryIdP: --help and the usage line list every built-in IdP,
// and each of PingFederate, OneLogin, SailPoint and JumpCloud runs against
// the reference server (profile rfc; --lenient for JumpCloud, whose
// unfiltered value-list member removal an RFC-literal server reads as
// "remove every member", B6) with every required check passing and its
// checks named and levelled after it (idp-traffic.md §1.3, §1.4, §1.6,
// §1.7).
func TestSimulateEveryIdP(t *testing.T) {
	_, help, _ := runCLI(t, "simulate", "--help")
	for _, name := range []string{"okta-oin", "okta-aiw", "entra", "entra-aadoptscim062020", "pingfederate", "onelogin", "sailpoint", "jumpcloud"} {
		if !strings.Contains(help, name) {
			t.Errorf("simulate --help does not list %s:\n%s", name, help)
		}
	}
	l := startReference(t, server.LocalOptions{})
	lenient := startReference(t, server.LocalOptions{Lenient: true})
	for name, prefix := range map[string]string{"pingfederate": "SIM-PING-", "onelogin": "SIM-ONELOGIN-", "sailpoint": "SIM-SAILPOINT-", "jumpcloud": "SIM-JUMPCLOUD-"} {
		t.Run(name, func(t *testing.T) {
			l := l
			if name == "jumpcloud" {
				code, out, _ := runCLI(t, "simulate", "--idp", name, "--target", l.BaseURL, "--token", l.Token, "--users", "30", "--groups", "4")
				if code != ExitFailures || !strings.Contains(out, "SIM-JUMPCLOUD-END-STATE") {
					t.Errorf("jumpcloud against the strict server: exit %d, want 1 with the end state emptied by B6:\n%s", code, out)
				}
				l = lenient
			}
			dir := t.TempDir()
			code, out, errs := runCLI(t, "simulate", "--idp", name, "--target", l.BaseURL, "--token", l.Token, "--users", "30", "--groups", "4", "--report-dir", dir)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			run, err := reports.Load(filepath.Join(dir, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			if run.IdP != name || len(run.Checks) == 0 {
				t.Fatalf("report of idp %q with %d checks", run.IdP, len(run.Checks))
			}
			for _, c := range run.Checks {
				if !strings.HasPrefix(c.ID, prefix) || string(c.Level) != "IDP:"+name {
					t.Errorf("check %s at level %s", c.ID, c.Level)
				}
			}
		})
	}
	if code, _, errs := runCLI(t, "simulate", "--idp", "google", "--target", l.BaseURL, "--token", l.Token); code != ExitUsage || !strings.Contains(errs, "unknown IdP") {
		t.Errorf("--idp google: exit %d, %s", code, errs)
	}
}

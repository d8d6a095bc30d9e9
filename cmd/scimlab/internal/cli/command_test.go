package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/simulator/transcript"
)

func TestRedactArgs(t *testing.T) {
	fs := newFlags("test", "", &env{})
	fs.String("token", "", "")
	fs.String("expired-token", "", "")
	fs.String("basic", "", "")
	fs.String("target", "", "")
	fs.Var(headerFlag{}, "header", "")
	fs.Bool("insecure", false, "")
	tests := []struct {
		name    string
		args    []string
		want    string
		secrets []string
	}{
		{"token", []string{"--token", "T0KEN", "--target", "http://x"}, "--token [REDACTED] --target http://x", []string{"T0KEN"}},
		{"token inline", []string{"-token=T0KEN"}, "-token=[REDACTED]", []string{"T0KEN"}},
		{"expired token", []string{"--expired-token", "OLDT0KEN"}, "--expired-token [REDACTED]", []string{"OLDT0KEN"}},
		{"basic", []string{"--basic", "u:PLAINPW"}, "--basic [REDACTED]", []string{"u:PLAINPW", "PLAINPW"}},
		{"basic inline", []string{"--basic=u:PLAINPW"}, "--basic=[REDACTED]", []string{"u:PLAINPW", "PLAINPW"}},
		{"api key header", []string{"--header", "X-Api-Key: K3Y"}, "--header 'X-Api-Key: [REDACTED]'", []string{"K3Y"}},
		{"authorization header", []string{"--header", "Authorization: Basic dTpw"}, "--header 'Authorization: [REDACTED]'", []string{"Basic dTpw", "dTpw"}},
		{"cookie header inline", []string{"--header=Cookie: sid=C00KIE"}, "'--header=Cookie: [REDACTED]'", []string{"sid=C00KIE"}},
		{"secret-named header", []string{"--header", "X-Tenant-Secret: S"}, "--header 'X-Tenant-Secret: [REDACTED]'", []string{"S"}},
		{"plain header kept", []string{"--header", "X-Tenant: acme"}, "--header 'X-Tenant: acme'", nil},
		{"malformed header hidden whole", []string{"--header", "Authorization Bearer abc"}, "--header [REDACTED]", []string{"Authorization Bearer abc"}},
		{"bool flag takes no value", []string{"--insecure", "--token", "T"}, "--insecure --token [REDACTED]", []string{"T"}},
		{"unknown secret flag", []string{"--password", "hunter2"}, "--password [REDACTED]", []string{"hunter2"}},
		{"after --", []string{"--", "--token", "x"}, "-- --token x", nil},
		{"positional", []string{"session.jsonl", "--token", "T"}, "session.jsonl --token [REDACTED]", []string{"T"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			red, secrets := redactArgs(fs.FlagSet, tc.args)
			if got := shellJoin(red); got != tc.want {
				t.Errorf("redacted %q, want %q", got, tc.want)
			}
			if strings.Join(secrets, "|") != strings.Join(tc.secrets, "|") {
				t.Errorf("secrets %q, want %q", secrets, tc.secrets)
			}
		})
	}
}

// A credential in a bad flag value never reaches the one-line error.
func TestBadFlagErrorHidesCredentials(t *testing.T) {
	for _, args := range [][]string{
		{"test", "--header", "Authorization Bearer PLAINSECRET9"},
		{"simulate", "--header", "X-Api-Key PLAINSECRET9"},
		{"replay", "x.jsonl", "--header", "Cookie=PLAINSECRET9"},
	} {
		code, out, errs := runCLI(t, args...)
		if code != ExitUsage {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
		if strings.Contains(out+errs, "PLAINSECRET9") {
			t.Errorf("%v: the credential is in the output: %q", args, out+errs)
		}
	}
}

// TestSecretsNeverReachAReport runs test, simulate and replay with
// credentials in --basic, --token, --expired-token and --header, and looks
// for each of them in the terminal output and in every report file.
func TestSecretsNeverReachAReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs scimlab in child processes")
	}
	target := credentialProxy(t, nil)
	session := filepath.Join(t.TempDir(), "session.jsonl")
	err := transcript.Save(session, []transcript.Exchange{{
		Seq: 1, Method: "GET", Path: "/Users", Query: "count=1", Status: 200,
		ResponseBody: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		secrets []string
	}{
		{"test with basic", []string{"test", "--target", target, "--basic", "u:PLAINPW_T1", "--header", "X-Api-Key: PLAINKEY_T1",
			"--header", "Cookie: sid=PLAINCOOKIE_T1", "--header", "X-Tenant-Secret: PLAINTS_T1", "--label-filter", "discovery && MUST"},
			[]string{"PLAINPW_T1", "PLAINKEY_T1", "PLAINCOOKIE_T1", "PLAINTS_T1"}},
		{"test with token", []string{"test", "--target", target, "--token", "PLAINTOKEN_T2", "--expired-token", "PLAINEXPIRED_T2",
			"--header", "Authorization: Basic UExBSU5BVVRIX1Qy", "--label-filter", "discovery && MUST"},
			[]string{"PLAINTOKEN_T2", "PLAINEXPIRED_T2", "UExBSU5BVVRIX1Qy"}},
		{"simulate", []string{"simulate", "--target", target, "--token", "PLAINTOKEN_S", "--header", "X-Api-Key: PLAINKEY_S",
			"--header", "X-Auth: PLAINAUTH_S", "--users", "3", "--groups", "1", "--scenario", "initial-sync"},
			[]string{"PLAINTOKEN_S", "PLAINKEY_S", "PLAINAUTH_S"}},
		{"replay", []string{"replay", session, "--target", target, "--token", "PLAINTOKEN_R", "--header", "Cookie: PLAINCOOKIE_R"},
			[]string{"PLAINTOKEN_R", "PLAINCOOKIE_R"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := runChild(t, nil, append(tc.args, "--report-dir", dir)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errs)
			}
			texts := map[string]string{"stdout": out, "stderr": errs}
			for _, f := range []string{"report.json", "junit.xml", "report.html", "report.md"} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				texts[f] = string(b)
			}
			for where, text := range texts {
				for _, s := range tc.secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s holds the secret %s", where, s)
					}
				}
			}
			if !strings.Contains(texts["report.json"], `[REDACTED]`) || !strings.Contains(texts["report.json"], `"command": "scimlab `+tc.args[0]) {
				t.Errorf("report.json has no redacted command line:\n%.2000s", texts["report.json"])
			}
		})
	}
}

// TestTargetPasswordNeverPrinted: a --target with a password in it is
// refused or reported with the userinfo redacted, by test, simulate and
// replay alike, and whatever the message.
func TestTargetPasswordNeverPrinted(t *testing.T) {
	const password = "Sup3rSecretPassw0rd!!"
	closed := closedAddr(t)
	target := "http://svc:" + password + "@" + closed + "/scim/v2"
	session := listSession(t, 1)
	t.Setenv("SCIM_TOKEN", "")
	t.Setenv("SCIM_BASIC", "")
	for _, args := range [][]string{
		{"test", "--target", target},
		{"test", "--target", target, "--token", "t0ken"},
		{"test", "--target", "ftp://svc:" + password + "@" + closed + "/scim/v2", "--token", "t0ken"},
		{"test", "--target", target + "?x=1", "--token", "t0ken"},
		{"simulate", "--target", target},
		{"simulate", "--target", target, "--token", "t0ken", "--users", "1", "--groups", "1"},
		{"replay", session, "--target", target},
		{"replay", session, "--target", target, "--token", "t0ken", "--minimize"},
		{"bench", "--target", target, "--token", "t0ken", "--users", "1"},
	} {
		code, out, errs := runCLI(t, args...)
		if code == ExitOK || !strings.Contains(errs, "scimlab "+args[0]+": ") {
			t.Errorf("%v: exit %d, stderr %q; want an error", args, code, errs)
		}
		if strings.Contains(out+errs, password) || strings.Contains(out+errs, "Sup3r") {
			t.Errorf("%v: the password is in the output:\n%s%s", args, out, errs)
		}
		// With a credential given, the userinfo itself is the mistake: no
		// request would send it. Every command says so, with exit 2.
		if slices.Contains(args, "--token") && !strings.Contains(args[2], "ftp:") && !strings.Contains(args[2], "?") &&
			(code != ExitUsage || !strings.Contains(errs, "must not carry credentials")) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying --target must not carry credentials", args, code, errs)
		}
	}
}

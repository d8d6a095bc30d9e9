package cli

import (
	"encoding/json"
	"flag"
	"regexp"
	"strings"

	"github.com/scimlab/scimlab/reports"
)

// minSecretLen is the shortest flag value that scrub replaces in messages: a
// shorter one would mangle ordinary words.
const minSecretLen = 4

// commandLine is the command line a report records: the arguments as the
// shell would need them quoted, with every credential replaced by
// reports.Mask (see redactArgs).
func commandLine(name string, fs *flags, args []string) string {
	red, _ := redactArgs(fs.FlagSet, args)
	return "scimlab " + name + " " + shellJoin(red)
}

// redactArgs returns args with the value of every credential flag replaced by
// reports.Mask, and the values it replaced. Credential flags are --basic,
// every flag whose name reports.SensitiveName matches (--token,
// --expired-token, --password, …) but not one ending in -file
// (--password-file names the file that holds the secret, not the secret),
// and --header when the header is a credential's (reports.CredentialHeader:
// Authorization, Cookie, X-Api-Key, …), whose name is kept. fs tells flags
// that take a value from boolean ones.
func redactArgs(fs *flag.FlagSet, args []string) (red, secrets []string) {
	red = append([]string(nil), args...)
	for i := 0; i < len(red); i++ {
		a := red[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, value, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !inline {
			f := fs.Lookup(name)
			known := f != nil && !isBoolFlag(f)
			// An unknown flag named like a secret may still have its value next.
			guess := f == nil && reports.SensitiveName(name) && i+1 < len(red) && !strings.HasPrefix(red[i+1], "-")
			if !known && !guess || i+1 >= len(red) {
				continue
			}
			i++
			value = red[i]
		}
		masked, secret := maskFlagValue(name, value)
		if len(secret) == 0 {
			continue
		}
		secrets = append(secrets, secret...)
		if inline {
			red[i] = a[:len(a)-len(value)] + masked
		} else {
			red[i] = masked
		}
	}
	return red, secrets
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// maskFlagValue returns the value of flag name as a report may show it, and
// the secrets it held (none when the value is not a credential).
func maskFlagValue(name, value string) (string, []string) {
	switch {
	case name == "header":
		hn, hv, ok := strings.Cut(value, ":")
		hv = strings.TrimSpace(hv)
		if !ok {
			// Not "Name: value", so parsing fails and echoes it: hide it whole.
			return reports.Mask, []string{value}
		}
		if hv == "" || hv == reports.Mask || !reports.CredentialHeader(hn) {
			return value, nil
		}
		secrets := []string{hv}
		if _, cred, ok := strings.Cut(hv, " "); ok {
			secrets = append(secrets, strings.TrimSpace(cred)) // "Basic dTpw": the credential alone too
		}
		return strings.TrimSpace(hn) + ": " + reports.Mask, secrets
	case strings.HasSuffix(name, "-file"):
		// --password-file, --admin-password-file: the path of the file that
		// holds the secret, which an error may name; the secret is read later.
		return value, nil
	case name == "basic" || reports.SensitiveName(name):
		if value == "" || value == reports.Mask {
			return value, nil
		}
		secrets := []string{value}
		if _, pw, ok := strings.Cut(value, ":"); ok && name == "basic" {
			secrets = append(secrets, pw)
		}
		return reports.Mask, secrets
	}
	return value, nil
}

// shellJoin joins args into one line that a POSIX shell splits back into
// args: a word with anything but letters, digits and @%+=:,./_- is
// single-quoted (reports.Mask does not count, so "--token=[REDACTED]" reads
// as it is).
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	for _, r := range strings.ReplaceAll(s, reports.Mask, "") {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// maskedUserinfoRE finds the userinfo of a URL that a message already shows
// redacted the reference server's way (auth.RedactURL: "user:***@",
// "***@"), which scrub keeps as it is.
var maskedUserinfoRE = regexp.MustCompile(`://(?:[^/\s?#"'<>\\@:]*:)?\*\*\*@`)

// scrub replaces every credential given on the command line (see
// redactArgs) in a message meant for the terminal, and then every
// credential recognisable by its shape (reports.RedactText), such as the
// password in a URL's userinfo.
func (e *env) scrub(s string) string {
	for _, secret := range e.secrets {
		if len(secret) >= minSecretLen {
			s = strings.ReplaceAll(s, secret, reports.Mask)
		}
	}
	kept := maskedUserinfoRE.FindAllString(s, -1)
	if len(kept) == 0 {
		return reports.RedactText(s)
	}
	s = reports.RedactText(maskedUserinfoRE.ReplaceAllString(s, "\x00"))
	for _, k := range kept {
		s = strings.Replace(s, "\x00", k, 1)
	}
	return s
}

// scrubRun replaces every credential given on the command line wherever it
// appears in run: in evidence a target echoed back, in a reason, a note. The
// report renderers redact by name and shape; this catches the exact values.
func (e *env) scrubRun(run *reports.Run) (*reports.Run, error) {
	b, err := json.Marshal(run)
	if err != nil {
		return nil, err
	}
	text := string(b)
	for _, secret := range e.secrets {
		if len(secret) < minSecretLen {
			continue
		}
		enc, err := json.Marshal(secret)
		if err != nil {
			return nil, err
		}
		text = strings.ReplaceAll(text, string(enc[1:len(enc)-1]), reports.Mask)
	}
	if text == string(b) {
		return run, nil
	}
	var out reports.Run
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

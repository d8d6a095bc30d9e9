package auth

import (
	"net/url"
	"strings"
)

// urlMask replaces a secret in a URL that RedactURL shows.
const urlMask = "***"

// hookPrefixes are the path segments (compared ignoring case) after which a
// webhook URL's path is its secret: Slack "/services/T…/B…/…" and its
// "/workflows/…" and "/triggers/…", Discord "/api/webhooks/ID/TOKEN",
// Mattermost and Rocket.Chat "/hooks/…", n8n "/webhook/…", Microsoft Teams
// "/webhookb2/…", and a path that names its key, token or secret
// ("/with/key/…").
var hookPrefixes = map[string]bool{
	"services":  true,
	"workflows": true,
	"triggers":  true,
	"webhooks":  true,
	"webhook":   true,
	"hooks":     true,
	"webhookb2": true,
	"key":       true,
	"token":     true,
	"secret":    true,
}

// minSecretSegment is the length in bytes from which a path segment may be
// taken for a secret; a shorter one is taken for a name.
const minSecretSegment = 16

// RedactURL returns a URL fit for a log line or an error message, since
// webhook URLs carry their secret in the userinfo, the query or the path
// (DESIGN.md: logs never hold a secret). It keeps the scheme, the host and
// the username (unless it looks like a secret itself, see secretSegment),
// and the leading path segments that read as names; it
// replaces with "***" a userinfo password ("user:***@"), every query value
// ("?key=***", and a parameter with no "=" whole), an opaque part
// ("http:***"), and the rest of the path from the first segment that
// looks like a secret (see secretSegment) or that follows a known hook
// prefix (see hookPrefixes): "https://hooks.slack.com/services/***",
// "https://discord.com/api/webhooks/***". The fragment is dropped. An
// unparsable URL is not shown.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	var user string
	if u.User != nil {
		user = url.User(u.User.Username()).String()
		if name := u.User.Username(); name == urlMask || secretSegment(name) {
			user = urlMask // "https://APIKEY@host": the username is the secret
		}
		if _, ok := u.User.Password(); ok {
			user += ":" + urlMask
		}
		user += "@"
	}
	var query []string
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if k, _, ok := strings.Cut(kv, "="); ok {
			query = append(query, k+"="+urlMask)
		} else if kv != "" {
			query = append(query, urlMask) // "?s3cr3t": the whole parameter may be the secret
		}
	}
	rest := *u
	rest.User, rest.RawQuery, rest.Fragment, rest.RawFragment, rest.ForceQuery = nil, "", "", "", false
	if rest.Opaque != "" {
		rest.Opaque = urlMask
	}
	if p := u.EscapedPath(); p != "" {
		if red := redactPath(p); red != p {
			rest.RawPath = red
			if rest.Path, err = url.PathUnescape(red); err != nil {
				rest.Path, rest.RawPath = urlMask, ""
			}
		}
	}
	s := rest.String()
	if user != "" {
		if scheme, after, ok := strings.Cut(s, "//"); ok {
			s = scheme + "//" + user + after
		}
	}
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// redactPath returns the escaped path p with everything from its first
// secret-looking segment, or everything after its first hook prefix,
// replaced by one urlMask, so that neither the secret nor the number of its
// parts shows.
func redactPath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		name, err := url.PathUnescape(seg)
		if err != nil {
			name = seg
		}
		switch {
		case secretSegment(name):
			if i == 0 {
				return urlMask
			}
			return strings.Join(segs[:i], "/") + "/" + urlMask
		case hookPrefixes[strings.ToLower(name)] && strings.Trim(strings.Join(segs[i+1:], "/"), "/") != "":
			return strings.Join(segs[:i+1], "/") + "/" + urlMask
		}
	}
	return p
}

// secretSegment reports whether a decoded path segment looks like a secret
// (a random token, a UUID, a long number) rather than a name. A segment
// shorter than minSecretSegment never does; a longer one does when it holds
// a digit or no ASCII letter, when more than a third of its letters are
// capitals (and some are not), when its words (see words) average fewer
// than three letters, or when one of them does not read as a word (see
// readsAsWord). "token-expiry-notices" and "IncomingWebhook" are names;
// "3f1b2c4d-9e8f-4a7b-b6c5-d4e3f2a1b0c9" and "kQzPxWvNrTbYsLmA" are not.
func secretSegment(s string) bool {
	if len(s) < minSecretSegment {
		return false
	}
	letters, upper := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			return true
		case 'A' <= c && c <= 'Z':
			letters++
			upper++
		case 'a' <= c && c <= 'z':
			letters++
		}
	}
	if letters == 0 || upper < letters && 3*upper > letters {
		return true
	}
	ws := words(s)
	for _, w := range ws {
		if !readsAsWord(w) {
			return true
		}
	}
	return letters < 3*len(ws)
}

// words splits s into runs of ASCII letters, breaking a run where a capital
// follows a small letter ("Incoming|Webhook") and before the last capital
// of a run of capitals that a small letter follows ("HTTP|Server").
func words(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || !isLetter(s[i]) {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		switch {
		case start < 0:
			start = i
		case isUpper(s[i]) && !isUpper(s[i-1]):
			out = append(out, s[start:i])
			start = i
		case !isUpper(s[i]) && isUpper(s[i-1]) && i-1 > start && isUpper(s[i-2]):
			out = append(out, s[start:i-1])
			start = i - 1
		}
	}
	return out
}

// readsAsWord reports whether a word of ASCII letters could be one of a
// name: shorter than minSecretSegment, and either at most three letters, an
// acronym of at most five capitals, or a word with a vowel (a, e, i, o, u
// or y) in at least one letter of five and no five consonants in a row.
func readsAsWord(w string) bool {
	if len(w) >= minSecretSegment {
		return false
	}
	if len(w) <= 3 || len(w) <= 5 && strings.ToUpper(w) == w {
		return true
	}
	vowels, run := 0, 0
	for i := 0; i < len(w); i++ {
		switch w[i] | 0x20 { // lower case
		case 'a', 'e', 'i', 'o', 'u', 'y':
			vowels++
			run = 0
		default:
			if run++; run >= 5 {
				return false
			}
		}
	}
	return 5*vowels >= len(w)
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

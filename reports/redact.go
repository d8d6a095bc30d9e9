package reports

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultBodyLimit is the size in bytes to which NewExchange cuts each body.
const DefaultBodyLimit = 16 << 10

// Mask replaces a secret in headers, bodies and text.
const Mask = "[REDACTED]"

// redactedURLPart replaces a secret inside a URL; it needs no escaping, so the
// URL stays one that a reader can paste.
const redactedURLPart = "REDACTED"

// alwaysSecretHeaders are redacted whatever their value looks like.
var alwaysSecretHeaders = map[string]bool{
	"authorization":       true,
	"proxy-authorization": true,
	"cookie":              true,
	"set-cookie":          true,
}

// secretWords are the fragments that make a header, JSON field, query
// parameter or form field name sensitive once lower-cased and stripped of
// '-', '_' and '.': "client_secret", "X-Api-Key" and "accessToken" all match.
var secretWords = []string{"password", "passwd", "passphrase", "secret", "token", "apikey", "authorization", "cookie"}

// secretWordPattern is secretWords as a regular expression for names in
// text (pairRE, jsonPairRE, flagRE), where the name is not stripped first:
// "apikey" may be written "api_key", "api-key" or "api.key" there.
// TestSecretWordPatternCoversSecretWords keeps the two in step.
const secretWordPattern = `(?:pass(?:word|wd|phrase)|secret|token|api[_.\-]?key|authorization|cookie)`

// SensitiveName reports whether a header, JSON field, query parameter or form
// field with this name carries a secret (password, token, secret, apiKey,
// client_secret and their spellings).
func SensitiveName(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.':
			return -1
		}
		return r
	}, strings.ToLower(name))
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

var (
	// userinfoRE finds credentials in a URL written anywhere in text; the
	// userinfo runs to the last '@' before the host, as in url.Parse.
	userinfoRE = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s?#"'<>\\]*@`)
	// bearerRE finds the word "Bearer" and the space after it.
	bearerRE = regexp.MustCompile(`(?i)\bbearer\s+`)
	// scimlabTokenRE finds a scimlab-issued token.
	scimlabTokenRE = regexp.MustCompile(`scimlab_[A-Za-z0-9_\-]+`)
	// snakeCaseRE matches what follows "scimlab_" in an identifier such as a
	// metric name, which is left alone.
	snakeCaseRE = regexp.MustCompile(`^[a-z]{1,12}(?:_[a-z]{1,12})*$`)
	// jwtRE finds a JSON Web Token (header.payload.signature, base64url).
	jwtRE = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)
	// pairRE finds name=value pairs (query strings, form bodies, cookies,
	// command-line flags) whose name is sensitive.
	pairRE = regexp.MustCompile(`(?i)([A-Za-z0-9_.\-]*` + secretWordPattern + `[A-Za-z0-9_.\-]*)(=)([^&\s"'<>;,\\]+)`)
	// jsonPairRE finds "name": value members whose name is sensitive in text
	// that is not valid JSON, such as a body cut short by its sender.
	jsonPairRE = regexp.MustCompile(`(?i)("[^"\\]*` + secretWordPattern + `[^"\\]*"\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|[^\s,}\]"]+)`)
	// flagRE finds command-line flags whose name is sensitive, with their value
	// after a space.
	flagRE = regexp.MustCompile(`(?i)(\s--?[A-Za-z0-9_\-]*` + secretWordPattern + `[A-Za-z0-9_\-]*)(\s+)([^\s\-]\S*)`)
)

// RedactText returns s, a line of text such as an error message, with the
// credentials that can be recognised by their shape replaced by Mask: bearer
// credentials, scimlab_ tokens, JWTs, sensitive name=value pairs, and the
// userinfo of a URL, which becomes "REDACTED@" as in RedactURL.
func RedactText(s string) string { return redactText(s, Mask) }

// redactText removes credentials that can be recognised by their shape
// wherever they appear: bearer credentials, scimlab_ tokens, JWTs, userinfo
// in URLs and sensitive name=value pairs.
func redactText(s string, marker string) string {
	if s == "" {
		return s
	}
	// Cheap tests first: most text has none of these, and the regular
	// expressions cost far more than a scan.
	if strings.Contains(s, "://") && strings.IndexByte(s, '@') >= 0 {
		s = userinfoRE.ReplaceAllString(s, "${1}"+redactedURLPart+"@")
	}
	if containsFold(s, "bearer") {
		s = redactBearer(s, marker)
	}
	if strings.Contains(s, "scimlab_") {
		s = scimlabTokenRE.ReplaceAllStringFunc(s, func(m string) string {
			if snakeCaseRE.MatchString(strings.TrimPrefix(m, "scimlab_")) {
				return m
			}
			return marker
		})
	}
	if strings.Contains(s, "eyJ") {
		s = jwtRE.ReplaceAllString(s, marker)
	}
	if strings.IndexByte(s, '=') >= 0 && mayNameSecret(s) {
		s = pairRE.ReplaceAllStringFunc(s, func(m string) string {
			sub := pairRE.FindStringSubmatch(m)
			if sub[3] == marker || sub[3] == redactedURLPart {
				return m
			}
			return sub[1] + sub[2] + marker
		})
	}
	return s
}

// mayNameSecret reports whether s could hold a name that pairRE or
// jsonPairRE would take for a secret's.
func mayNameSecret(s string) bool {
	return containsFold(s, "pass") || containsFold(s, "secret") || containsFold(s, "token") || containsFold(s, "key") ||
		containsFold(s, "authorization") || containsFold(s, "cookie")
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
outer:
	for i := 0; i+n <= len(s); i++ {
		for k := 0; k < n; k++ {
			c := s[i+k]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[k] {
				continue outer
			}
		}
		return true
	}
	return false
}

// redactBearer replaces the credential (RFC 6750 §2.1 b64token) that follows
// each word "Bearer" in s.
func redactBearer(s, marker string) string {
	locs := bearerRE.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		start := loc[1]
		if start < last {
			continue
		}
		end := start
		for end < len(s) && isB64TokenChar(s[end]) {
			end++
		}
		for end < len(s) && s[end] == '=' {
			end++
		}
		if end == start || !looksLikeCredential(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(marker)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isB64TokenChar reports whether c may appear in an RFC 6750 b64token
// before its trailing '=' padding.
func isB64TokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// looksLikeCredential tells a bearer credential from an English word that
// follows "Bearer" in prose ("OAuth Bearer Token") or in a WWW-Authenticate
// challenge ("Bearer realm=…").
func looksLikeCredential(tok string) bool {
	core := strings.TrimRight(tok, "=")
	if len(core) >= 16 {
		return true
	}
	for _, r := range core {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return true
		}
	}
	return false
}

// RedactURL returns u with its secrets replaced by "REDACTED": the userinfo,
// the values of sensitive query parameters (access_token, token, password,
// client_secret, api_key, …) and any bearer, JWT or scimlab_ token anywhere in
// it. A string that does not parse as a URL is redacted as text.
func RedactURL(u string) string {
	if u == "" {
		return u
	}
	p, err := url.Parse(u)
	if err != nil {
		return redactText(u, redactedURLPart)
	}
	if p.User != nil {
		p.User = url.User(redactedURLPart)
	}
	if p.RawQuery != "" {
		p.RawQuery = redactQuery(p.RawQuery)
	}
	return redactText(p.String(), redactedURLPart)
}

// redactQuery replaces the values of sensitive parameters in a raw query,
// keeping every other byte as it was.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, part := range parts {
		name, _, hasValue := strings.Cut(part, "=")
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if hasValue && SensitiveName(name) {
			parts[i] = part[:strings.IndexByte(part, '=')+1] + redactedURLPart
		}
	}
	return strings.Join(parts, "&")
}

// Redact returns a copy of m with its secrets replaced: the Authorization,
// Proxy-Authorization, Cookie and Set-Cookie headers and any header named like
// a secret (the scheme of an Authorization value is kept, as in
// "Bearer [REDACTED]"); JSON members named like a secret, and the value of a
// PATCH operation whose path names one; sensitive name=value pairs; bearer,
// JWT and scimlab_ tokens anywhere; and userinfo and sensitive query
// parameters in URLs. Redact never shortens a body otherwise: see TruncateBody.
func Redact(m HTTPMessage) HTTPMessage {
	out := m
	out.URL = RedactURL(m.URL)
	if m.Headers != nil {
		out.Headers = make(map[string][]string, len(m.Headers))
		for name, values := range m.Headers {
			red := make([]string, len(values))
			for i, v := range values {
				red[i] = redactHeader(name, v)
			}
			out.Headers[name] = red
		}
	}
	out.Body = redactBody(m.Body)
	return out
}

// redactHeader redacts one header value.
func redactHeader(name, value string) string {
	lower := strings.ToLower(name)
	switch {
	case lower == "authorization" || lower == "proxy-authorization":
		if value == Mask {
			return value
		}
		if scheme, _, ok := strings.Cut(value, " "); ok && isAuthScheme(scheme) {
			return scheme + " " + Mask
		}
		return Mask
	case alwaysSecretHeaders[lower] || CredentialHeader(name) && !publicAuthHeader(lower):
		return Mask
	}
	return redactText(value, Mask)
}

// publicAuthHeader reports whether a header whose name mentions auth, key or
// credentials is public by definition: an authentication challenge or its
// info (RFC 9110 §11.6) or a CORS header. Its value is still redacted by
// shape.
func publicAuthHeader(lower string) bool {
	switch lower {
	case "www-authenticate", "proxy-authenticate", "authentication-info", "proxy-authentication-info":
		return true
	}
	return strings.HasPrefix(lower, "access-control-")
}

// isAuthScheme reports whether s is a plausible HTTP authentication scheme
// name (RFC 9110 §11.1): a short token of letters, digits and '-'.
func isAuthScheme(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// redactBody redacts a body: structurally when it is JSON, by shape always.
func redactBody(body string) string {
	if body == "" {
		return body
	}
	trimmed := strings.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' && trimmed[0] != '[' {
		return redactText(body, Mask)
	}
	if json.Valid([]byte(body)) {
		return redactText(string(redactJSON([]byte(body))), Mask)
	}
	// Not JSON, or cut short: redact by shape first, since replacing a
	// member's value could remove the "Bearer" that marks a credential.
	body = redactText(body, Mask)
	if mayNameSecret(body) {
		body = jsonPairRE.ReplaceAllString(body, `${1}"`+Mask+`"`)
	}
	return body
}

// redactJSON replaces, in valid JSON, the value of every member whose name is
// sensitive and the "value" of every object whose "path" names a sensitive
// attribute (RFC 7644 §3.5.2 PATCH operations), keeping all other bytes.
func redactJSON(src []byte) []byte {
	j := jsonRedactor{src: src, out: make([]byte, 0, len(src))}
	end := j.value(j.skipSpace(0))
	j.out = append(j.out, src[end:]...)
	return j.out
}

// jsonRedactor copies valid JSON from src to out, redacting as it goes.
type jsonRedactor struct {
	src []byte
	out []byte
}

// redactedJSONValue stands in for a redacted member value.
var redactedJSONValue = []byte(`"` + Mask + `"`)

func (j *jsonRedactor) skipSpace(i int) int {
	for i < len(j.src) {
		switch j.src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skip returns the end of the value that starts at i.
func (j *jsonRedactor) skip(i int) int {
	switch j.src[i] {
	case '"':
		i++
		for i < len(j.src) {
			switch j.src[i] {
			case '\\':
				i += 2
			case '"':
				return i + 1
			default:
				i++
			}
		}
		return i
	case '{', '[':
		depth := 0
		for i < len(j.src) {
			switch j.src[i] {
			case '{', '[':
				depth++
				i++
			case '}', ']':
				depth--
				i++
				if depth == 0 {
					return i
				}
			case '"':
				i = j.skip(i)
			default:
				i++
			}
		}
		return i
	default:
		for i < len(j.src) {
			switch j.src[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// value copies the value that starts at i and returns its end.
func (j *jsonRedactor) value(i int) int {
	if i >= len(j.src) {
		return i
	}
	switch j.src[i] {
	case '{':
		return j.object(i)
	case '[':
		k := j.skipSpace(i + 1)
		j.out = append(j.out, j.src[i:k]...)
		i = k
		for i < len(j.src) && j.src[i] != ']' {
			i = j.value(i)
			k = j.skipSpace(i)
			if k < len(j.src) && j.src[k] == ',' {
				k = j.skipSpace(k + 1)
			}
			j.out = append(j.out, j.src[i:k]...)
			i = k
		}
		if i < len(j.src) {
			j.out = append(j.out, ']')
			i++
		}
		return i
	case '"':
		end := j.skip(i)
		lit := j.src[i:end]
		if bytes.IndexByte(lit, '\\') >= 0 {
			// An escape can hide a secret from the text pass that follows
			// ("Bearer\u0020…"), so redact the decoded string here.
			text := decodeJSONString(lit)
			if red := redactText(text, Mask); red != text {
				j.out = appendJSONString(j.out, red)
				return end
			}
		}
		j.out = append(j.out, lit...)
		return end
	default:
		end := j.skip(i)
		j.out = append(j.out, j.src[i:end]...)
		return end
	}
}

// object copies the object that starts at i and returns its end. It reads
// each byte once: the value of a member named "value" is copied as it comes,
// and replaced at the end of the object if a "path" member turns out to name
// a secret.
func (j *jsonRedactor) object(i int) int {
	type span struct{ from, to int }
	var values []span
	patchSecret := false
	j.out = append(j.out, '{')
	i++
	for {
		k := j.skipSpace(i)
		j.out = append(j.out, j.src[i:k]...)
		i = k
		if i >= len(j.src) {
			return i
		}
		switch j.src[i] {
		case '}':
			for n := len(values) - 1; patchSecret && n >= 0; n-- {
				v := values[n]
				tail := append([]byte(nil), j.out[v.to:]...)
				j.out = append(append(j.out[:v.from], redactedJSONValue...), tail...)
			}
			j.out = append(j.out, '}')
			return i + 1
		case ',':
			j.out = append(j.out, ',')
			i++
			continue
		}
		nameEnd := j.skip(i)
		name := decodeJSONString(j.src[i:nameEnd])
		j.out = append(j.out, j.src[i:nameEnd]...)
		i = j.skipSpace(nameEnd)
		if i < len(j.src) && j.src[i] == ':' {
			i++
		}
		k = j.skipSpace(i)
		j.out = append(j.out, j.src[nameEnd:k]...)
		i = k
		if i >= len(j.src) {
			return i
		}
		start, from := i, len(j.out)
		if SensitiveName(name) {
			i = j.skip(i)
			j.out = append(j.out, redactedJSONValue...)
		} else {
			i = j.value(i)
		}
		switch {
		case name == "value":
			values = append(values, span{from, len(j.out)})
		case name == "path" && j.src[start] == '"':
			patchSecret = SensitiveName(lastPathSegment(decodeJSONString(j.src[start:i])))
		}
	}
}

// appendJSONString appends s to out as a JSON string literal.
func appendJSONString(out []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return append(out, redactedJSONValue...)
	}
	return append(out, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// decodeJSONString returns the text of a JSON string literal.
func decodeJSONString(lit []byte) string {
	if len(lit) >= 2 && bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return string(lit)
	}
	return s
}

// lastPathSegment returns the attribute named last in a SCIM attribute path
// (RFC 7644 §3.10), e.g. "password" for
// "urn:ietf:params:scim:schemas:core:2.0:User:password".
func lastPathSegment(path string) string {
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	if i := strings.LastIndexAny(path, ":."); i >= 0 {
		path = path[i+1:]
	}
	return path
}

// TruncateBody returns m with its body cut to at most limit bytes, on a UTF-8
// boundary, setting Truncated and OriginalSize when it cuts. A limit of zero
// or less leaves the body whole.
func TruncateBody(m HTTPMessage, limit int) HTTPMessage {
	if limit <= 0 || len(m.Body) <= limit {
		return m
	}
	cut := limit
	for cut > 0 && cut > limit-utf8.UTFMax && !utf8.RuneStart(m.Body[cut]) {
		cut--
	}
	if !m.Truncated {
		m.OriginalSize = len(m.Body)
	}
	m.Body = m.Body[:cut]
	m.Truncated = true
	return m
}

// NewExchange records one HTTP request and its response as evidence, redacted
// (see Redact) and with each body cut to DefaultBodyLimit; a body over four
// times that limit is cut to four times the limit before it is redacted, so
// huge bodies stay cheap and are redacted by pattern. resp is nil when
// the request got no response; the bodies are passed separately because
// reading them consumes req.Body and resp.Body.
func NewExchange(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte, latency time.Duration) Exchange {
	var ex Exchange
	if req != nil {
		ex.Request = HTTPMessage{
			Method:  req.Method,
			URL:     requestURL(req),
			Headers: cloneHeaders(req.Header),
			Body:    string(reqBody),
		}
	}
	if resp != nil {
		ex.Response = HTTPMessage{
			Status:  resp.StatusCode,
			Headers: cloneHeaders(resp.Header),
			Body:    string(respBody),
		}
	}
	ex.Request = capAndRedact(ex.Request, DefaultBodyLimit)
	ex.Response = capAndRedact(ex.Response, DefaultBodyLimit)
	ex.Latency = latency
	return ex
}

// redactWindow is how many times the size cap of a body is redacted before
// it is cut to the cap, so that a secret that straddles the cut is redacted
// whole, while a huge body costs no more than a few times the cap.
const redactWindow = 4

// capAndRedact redacts m and cuts its body to limit. A body longer than
// redactWindow times limit is cut to that first; it is then no longer valid
// JSON, so it is redacted by pattern rather than by structure.
func capAndRedact(m HTTPMessage, limit int) HTTPMessage {
	size := len(m.Body)
	if size > redactWindow*limit {
		m = TruncateBody(m, redactWindow*limit)
	}
	m = TruncateBody(Redact(m), limit)
	if m.Truncated {
		m.OriginalSize = size
	}
	return m
}

// requestURL returns the absolute URL of a client or server request.
func requestURL(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	u := *req.URL
	if u.Host == "" && req.Host != "" {
		u.Host = req.Host
		if u.Scheme == "" {
			u.Scheme = "http"
			if req.TLS != nil {
				u.Scheme = "https"
			}
		}
	}
	return u.String()
}

// cloneHeaders copies h into the plain map the model uses.
func cloneHeaders(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// sortedHeaderNames returns the names of h in a stable order.
func sortedHeaderNames(h map[string][]string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// credentialHeaderWords are the fragments, beyond those of SensitiveName, that
// make a header given on a command line a credential: a user who passes
// "X-Auth", "X-Key" or "X-Session-Id" by hand passes it to log in.
var credentialHeaderWords = []string{"auth", "key", "session", "credential", "signature"}

// CredentialHeader reports whether a request header named name carries a
// credential when a user gives it with --header: Authorization, Cookie, and
// every name SensitiveName matches or that mentions auth, key, session,
// credential or signature.
func CredentialHeader(name string) bool {
	if alwaysSecretHeaders[strings.ToLower(strings.TrimSpace(name))] || SensitiveName(name) {
		return true
	}
	n := strings.ToLower(name)
	for _, w := range credentialHeaderWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

var (
	// basicFlagRE finds --basic user:password (or --basic=…) with its value,
	// quoted or not.
	basicFlagRE = regexp.MustCompile(`(\s--?basic)(=|\s+)('(?:[^']|'\\'')*'|"(?:[^"\\]|\\.)*"|\S+)`)
	// headerFlagRE finds the start of a --header "Name: value" value.
	headerFlagRE = regexp.MustCompile(`\s--?header(?:=|\s+)`)
	// nextFlagRE finds where the next flag starts in a command line.
	nextFlagRE = regexp.MustCompile(`\s--?[A-Za-z]`)
)

// RedactCommand returns a command line with the values of secret flags
// (--token T, --password=P, --basic user:password, …), the values of
// credential headers (--header "X-Api-Key: K", see CredentialHeader) and any
// recognisable credential replaced. It reads both a shell-quoted command
// line and one joined with plain spaces.
func RedactCommand(cmd string) string {
	cmd = " " + cmd
	cmd = flagRE.ReplaceAllString(cmd, "${1}${2}"+Mask)
	cmd = basicFlagRE.ReplaceAllString(cmd, "${1}${2}"+Mask)
	cmd = redactHeaderFlags(cmd)
	return redactText(cmd[1:], Mask)
}

// closingQuote returns the index of the quote q that closes the quoted word
// whose text starts at i, or len(s). Inside single quotes the shell's escaped
// quote (quote, backslash, quote, quote) does not close the word; inside
// double quotes a backslash-escaped quote does not.
func closingQuote(s string, i int, q byte) int {
	for i < len(s) {
		switch {
		case q == '"' && s[i] == '\\':
			i += 2
		case s[i] != q:
			i++
		case q == '\'' && strings.HasPrefix(s[i:], `'\''`):
			i += 4
		default:
			return i
		}
	}
	return len(s)
}

// redactHeaderFlags replaces the value of every --header whose name is a
// credential's. A quoted header runs to its closing quote; an unquoted one
// (a command line joined with spaces) runs to the next flag.
func redactHeaderFlags(cmd string) string {
	var b strings.Builder
	last := 0
	for _, loc := range headerFlagRE.FindAllStringIndex(cmd, -1) {
		start := loc[1]
		if start < last || start >= len(cmd) {
			continue
		}
		end := len(cmd)
		switch q := cmd[start]; q {
		case '\'', '"':
			start++
			end = closingQuote(cmd, start, q)
		default:
			if m := nextFlagRE.FindStringIndex(cmd[start:]); m != nil {
				end = start + m[0]
			}
		}
		name, value, ok := strings.Cut(cmd[start:end], ":")
		if !ok || !CredentialHeader(name) || strings.TrimSpace(value) == "" || strings.TrimSpace(value) == Mask {
			continue
		}
		b.WriteString(cmd[last:start])
		b.WriteString(name + ": " + Mask)
		last = end
	}
	if last == 0 {
		return cmd
	}
	b.WriteString(cmd[last:])
	return b.String()
}

// Redacted returns a copy of r in which every place a secret could hide is
// redacted: the target URL, the command line, the evidence, reasons, notes,
// orphans and differences. The renderers call it, so a report never shows a
// secret even when its producer forgot to redact.
func (r *Run) Redacted() *Run {
	out := *r
	out.Target = RedactURL(r.Target)
	out.Command = RedactCommand(r.Command)
	out.Checks = make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Reason = redactText(c.Reason, Mask)
		c.Title = redactText(c.Title, Mask)
		if c.Evidence != nil {
			ev := make([]Exchange, len(c.Evidence))
			for k, e := range c.Evidence {
				e.Request = Redact(e.Request)
				e.Response = Redact(e.Response)
				ev[k] = e
			}
			c.Evidence = ev
		}
		out.Checks[i] = c
	}
	out.Notes = redactLines(r.Notes)
	if list := r.OrphanList(); list != nil {
		out.Orphans = make([]string, len(list))
		out.OrphanDetails = make([]Orphan, len(list))
		for i, o := range list {
			o.URL = RedactURL(o.URL)
			o.Reason = redactText(o.Reason, Mask)
			out.Orphans[i], out.OrphanDetails[i] = o.URL, o
		}
	}
	if r.Differences != nil {
		out.Differences = make([]Difference, len(r.Differences))
		for i, d := range r.Differences {
			if SensitiveName(lastPathSegment(d.Attribute)) {
				if d.Want != "" {
					d.Want = Mask
				}
				if d.Got != "" {
					d.Got = Mask
				}
			}
			d.Resource = redactText(d.Resource, Mask)
			d.Want = redactText(d.Want, Mask)
			d.Got = redactText(d.Got, Mask)
			out.Differences[i] = d
		}
	}
	return &out
}

func redactLines(lines []string) []string {
	if lines == nil {
		return nil
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = redactText(l, Mask)
	}
	return out
}

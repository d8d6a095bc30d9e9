package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestRedactHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, header, value, want string
	}{
		{"bearer keeps scheme", "Authorization", "Bearer scimlab_Zx81kQ0pLmN3vB7tR2yW", "Bearer [REDACTED]"},
		{"lower-case bearer keeps its case", "Authorization", "bearer abc.def.ghi", "bearer [REDACTED]"},
		{"basic", "Authorization", "Basic dXNlcjpwYXNz", "Basic [REDACTED]"},
		{"no scheme", "Authorization", "non-token", "[REDACTED]"},
		{"proxy", "Proxy-Authorization", "Basic Zm9vOmJhcg==", "Basic [REDACTED]"},
		{"cookie", "Cookie", "sid=abc123; theme=dark", "[REDACTED]"},
		{"set-cookie", "Set-Cookie", "sid=abc123; HttpOnly", "[REDACTED]"},
		{"api key", "X-Api-Key", "k3y-AbCdEf-991", "[REDACTED]"},
		{"auth token", "X-Auth-Token", "t0k3n", "[REDACTED]"},
		{"client secret", "Client-Secret", "s3cr3t", "[REDACTED]"},
		{"password", "X-Password", "hunter2", "[REDACTED]"},
		{"harmless", "Content-Type", "application/scim+json", "application/scim+json"},
		{"etag", "ETag", `W/"3694e05e9dff591"`, `W/"3694e05e9dff591"`},
		{"challenge is not a credential", "WWW-Authenticate", `Bearer realm="scim", error="invalid_token"`, `Bearer realm="scim", error="invalid_token"`},
		{"auth header", "X-Auth", "PLAINAUTH", "[REDACTED]"},
		{"key header", "X-Key", "PLAINKEY", "[REDACTED]"},
		{"session header", "X-Session-Id", "s3ss10n", "[REDACTED]"},
		{"cors is public", "Access-Control-Allow-Credentials", "true", "true"},
		{"auth info is public", "Authentication-Info", `nextnonce="abc"`, `nextnonce="abc"`},
		{"location with userinfo", "Location", "https://u:p4ss@scim.example.test/Users/1", "https://REDACTED@scim.example.test/Users/1"},
		{"location with token", "Content-Location", "https://scim.example.test/Users/1?access_token=abc123", "https://scim.example.test/Users/1?access_token=[REDACTED]"},
		{"scimlab token anywhere", "X-Debug", "issued scimlab_AbC123dEf456 to you", "issued [REDACTED] to you"},
		{"bearer anywhere", "X-Debug", "sent Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "sent Bearer [REDACTED]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := HTTPMessage{Headers: map[string][]string{tc.header: {tc.value}}}
			got := Redact(in).Headers[tc.header][0]
			if got != tc.want {
				t.Errorf("%s: %q redacted to %q, want %q", tc.header, tc.value, got, tc.want)
			}
			if in.Headers[tc.header][0] != tc.value {
				t.Error("Redact modified its argument's headers")
			}
		})
	}
}

func TestRedactBody(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{
			"password member, formatting kept",
			"{\n  \"userName\": \"ana\",\n  \"password\" : \"Sup3r-Secret!pw\",\n  \"active\": true\n}",
			"{\n  \"userName\": \"ana\",\n  \"password\" : \"[REDACTED]\",\n  \"active\": true\n}",
		},
		{
			"nested and in arrays",
			`[{"a":{"client_secret":"x1","accessToken":"x2","apiKey":{"v":1},"keep":[1,2]}}, {"PASSWORD":99}]`,
			`[{"a":{"client_secret":"[REDACTED]","accessToken":"[REDACTED]","apiKey":"[REDACTED]","keep":[1,2]}}, {"PASSWORD":"[REDACTED]"}]`,
		},
		{
			"escaped member name",
			`{"pass\u0077ord":"hunter2"}`,
			`{"pass\u0077ord":"[REDACTED]"}`,
		},
		{
			"PATCH value for a password path",
			`{"Operations":[{"op":"replace","value":"N3w-Passw0rd!","path":"password"},{"op":"add","path":"members","value":[{"value":"u-1"}]}]}`,
			`{"Operations":[{"op":"replace","value":"[REDACTED]","path":"password"},{"op":"add","path":"members","value":[{"value":"u-1"}]}]}`,
		},
		{
			"PATCH value for a URN password path",
			`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:password","value":"x"}`,
			`{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:password","value":"[REDACTED]"}`,
		},
		{
			"escaped bearer inside a string",
			`{"detail":"got Bearer\u0020scimlab_AbC123dEf456 back"}`,
			`{"detail":"got Bearer [REDACTED] back"}`,
		},
		{
			"truncated JSON",
			`{"userName":"ana","password":"Sup3r-Sec`,
			`{"userName":"ana","password":"[REDACTED]"`,
		},
		{
			"form body",
			"grant_type=client_credentials&client_id=abc&client_secret=s3cr3t&scope=scim",
			"grant_type=client_credentials&client_id=abc&client_secret=[REDACTED]&scope=scim",
		},
		{
			"bearer and JWT in text",
			"retry with Bearer abcDEF123456 or token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl please",
			"retry with Bearer [REDACTED] or token [REDACTED] please",
		},
		{
			"bearer twice",
			"Bearer Bearer abcDEF1234567",
			"Bearer Bearer [REDACTED]",
		},
		{
			"HTML echoing a token",
			"<p>token=scimlab_Zx81kQ0pLmN3vB7tR2yW</p>",
			"<p>token=[REDACTED]</p>",
		},
		{
			"userinfo in text",
			"upstream https://svc:pa55@idp.example.test/scim failed",
			"upstream https://REDACTED@idp.example.test/scim failed",
		},
		{
			"ServiceProviderConfig prose stays",
			`{"authenticationSchemes":[{"type":"oauthbearertoken","name":"OAuth Bearer Token","description":"Authentication scheme using the OAuth Bearer Token Standard"}]}`,
			`{"authenticationSchemes":[{"type":"oauthbearertoken","name":"OAuth Bearer Token","description":"Authentication scheme using the OAuth Bearer Token Standard"}]}`,
		},
		{
			"metric names stay",
			"scimlab_http_requests_total 12\nscimlab_tokens_active 2",
			"scimlab_http_requests_total 12\nscimlab_tokens_active 2",
		},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(HTTPMessage{Body: tc.body}).Body
			if got != tc.want {
				t.Errorf("redacted body\n got: %s\nwant: %s", got, tc.want)
			}
			if json.Valid([]byte(tc.body)) && !json.Valid([]byte(got)) {
				t.Errorf("valid JSON became invalid: %s", got)
			}
			if again := Redact(HTTPMessage{Body: got}).Body; again != got {
				t.Errorf("redaction is not idempotent:\n once: %s\ntwice: %s", got, again)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://scim.example.test/scim/v2", "https://scim.example.test/scim/v2"},
		{"https://admin:hunter2@scim.example.test/scim/v2", "https://REDACTED@scim.example.test/scim/v2"},
		{"https://admin@scim.example.test/", "https://REDACTED@scim.example.test/"},
		{"https://h.test/Users?filter=userName%20eq%20%22a%22&access_token=abc&count=5", "https://h.test/Users?filter=userName%20eq%20%22a%22&access_token=REDACTED&count=5"},
		{"https://h.test/?token=abc", "https://h.test/?token=REDACTED"},
		{"https://h.test/?client_secret=abc&password=p&api_key=k&apiKey=k2", "https://h.test/?client_secret=REDACTED&password=REDACTED&api_key=REDACTED&apiKey=REDACTED"},
		{"https://h.test/tokens/scimlab_AbC123dEf456", "https://h.test/tokens/REDACTED"},
		{"https://h.test/x#access_token=abc", "https://h.test/x#access_token=REDACTED"},
		{"http://u:p@h.test/%zz?access_token=abc", "http://REDACTED@h.test/%zz?access_token=REDACTED"}, // does not parse
		{"", ""},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := RedactURL(RedactURL(tc.in)); got != RedactURL(tc.in) {
			t.Errorf("RedactURL is not idempotent on %q: %q", tc.in, got)
		}
	}
}

func TestRedactCommand(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"scimlab test --target https://h.test --token scimlab_AbC123dEf456", "scimlab test --target https://h.test --token [REDACTED]"},
		{"scimlab test --token=abc --target x", "scimlab test --token=[REDACTED] --target x"},
		{"scimlab serve -password hunter2", "scimlab serve -password [REDACTED]"},
		{"scimlab simulate --client-secret s3 --idp okta", "scimlab simulate --client-secret [REDACTED] --idp okta"},
		{"scimlab test --target https://u:p@h.test", "scimlab test --target https://REDACTED@h.test"},
		{"scimlab report render run.json", "scimlab report render run.json"},
		// --basic and credential headers, joined with spaces (reports written
		// before the CLI quoted its arguments) and shell-quoted.
		{"scimlab test --target x --basic=u:PLAINPW_V1 --label-filter discovery", "scimlab test --target x --basic=[REDACTED] --label-filter discovery"},
		{"scimlab test --basic u:PLAINPW_V1", "scimlab test --basic [REDACTED]"},
		{"scimlab test --basic 'u:pw with space' --seed 1", "scimlab test --basic [REDACTED] --seed 1"},
		{"scimlab test --token t --header X-Api-Key: PLAINKEY_V1 --header Cookie: sid=PLAINCOOKIE --label-filter discovery",
			"scimlab test --token [REDACTED] --header X-Api-Key: [REDACTED] --header Cookie: [REDACTED] --label-filter discovery"},
		{"scimlab simulate --header 'Authorization: Basic dTpw' --idp okta", "scimlab simulate --header 'Authorization: [REDACTED]' --idp okta"},
		{"scimlab simulate --header='X-Tenant-Secret: s3 cr3t' --users 2", "scimlab simulate --header='X-Tenant-Secret: [REDACTED]' --users 2"},
		{`scimlab test --header "X-Auth: a\"b" --seed 1`, `scimlab test --header "X-Auth: [REDACTED]" --seed 1`},
		{`scimlab test --header 'X-Key: it'\''s' --seed 1`, `scimlab test --header 'X-Key: [REDACTED]' --seed 1`},
		{"scimlab test --header 'X-Tenant: acme' --header 'Cookie: [REDACTED]'", "scimlab test --header 'X-Tenant: acme' --header 'Cookie: [REDACTED]'"},
		// Every secret word of SensitiveName, as a flag of its own.
		{"scimlab x --cookie sid=PLAIN1 --authorization PLAIN2 --api.key PLAIN3 --seed 1", "scimlab x --cookie [REDACTED] --authorization [REDACTED] --api.key [REDACTED] --seed 1"},
	} {
		if got := RedactCommand(tc.in); got != tc.want {
			t.Errorf("RedactCommand(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if got := RedactCommand(RedactCommand(tc.in)); got != tc.want {
			t.Errorf("RedactCommand is not idempotent on %q: %q", tc.in, got)
		}
	}
}

func TestCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "X-Api-Key": true, "X-Auth": true,
		"X-Tenant-Secret": true, "X-Access-Token": true, "X-Key": true, "X-Session-Id": true, "X-Client-Credential": true,
		"X-Signature": true, "x-password": true,
		"X-Tenant": false, "Accept": false, "User-Agent": false, "X-Request-Id": false, "Content-Type": false,
	} {
		if got := CredentialHeader(name); got != want {
			t.Errorf("CredentialHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestNewExchange(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "https://svc:pa55@scim.example.test/scim/v2/Users?access_token=qT9", nil)
	req.Header.Set("Authorization", "Bearer scimlab_AbC123dEf456")
	req.Header.Set("Content-Type", "application/scim+json")
	reqBody := []byte(`{"userName":"ana","password":"Sup3r-Secret!pw"}`)
	big := strings.Repeat("é", DefaultBodyLimit) // 2 bytes each: twice the cap
	resp := &http.Response{StatusCode: 201, Header: http.Header{"Set-Cookie": {"sid=c00kie"}, "Location": {"https://scim.example.test/scim/v2/Users/1"}}}

	ex := NewExchange(req, reqBody, resp, []byte(big), 42*time.Millisecond)

	if ex.Request.Method != "POST" || ex.Response.Status != 201 || ex.Latency != 42*time.Millisecond {
		t.Errorf("exchange lost its method, status or latency: %+v", ex)
	}
	all, _ := json.Marshal(ex)
	for _, secret := range []string{"pa55", "qT9", "AbC123dEf456", "Sup3r-Secret!pw", "c00kie"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("exchange keeps the secret %q: %s", secret, all)
		}
	}
	if ex.Request.URL != "https://REDACTED@scim.example.test/scim/v2/Users?access_token=REDACTED" {
		t.Errorf("request URL = %q", ex.Request.URL)
	}
	if ex.Request.Truncated {
		t.Error("a small request body was marked truncated")
	}
	if !ex.Response.Truncated || len(ex.Response.Body) > DefaultBodyLimit || ex.Response.OriginalSize != len(big) {
		t.Errorf("response body: %d bytes, truncated=%v, originalSize=%d; want at most %d, true, %d",
			len(ex.Response.Body), ex.Response.Truncated, ex.Response.OriginalSize, DefaultBodyLimit, len(big))
	}
	if !utf8.ValidString(ex.Response.Body) {
		t.Error("truncation split a UTF-8 sequence")
	}
	if ex.Response.Headers["Location"][0] != "https://scim.example.test/scim/v2/Users/1" {
		t.Errorf("Location changed: %q", ex.Response.Headers["Location"])
	}

	// A huge JSON body is cut before it is redacted, and still loses its secret.
	huge := `{"password":"Sup3r-Secret!pw","members":[` + strings.Repeat(`{"value":"u-1"},`, 20000) + `{"value":"u-2"}]}`
	ex = NewExchange(req, []byte(huge), nil, nil, 0)
	if strings.Contains(ex.Request.Body, "Sup3r-Secret!pw") || !ex.Request.Truncated || ex.Request.OriginalSize != len(huge) {
		t.Errorf("huge body: truncated=%v originalSize=%d (want %d), body starts %.60q", ex.Request.Truncated, ex.Request.OriginalSize, len(huge), ex.Request.Body)
	}

	// A request that got no response, and a server-side request with no
	// absolute URL.
	srvReq := httptest.NewRequest(http.MethodGet, "/scim/v2/Users?token=abc", nil)
	ex = NewExchange(srvReq, nil, nil, nil, 0)
	if ex.Response.Status != 0 || ex.Response.Headers != nil {
		t.Errorf("nil response gave %+v", ex.Response)
	}
	if ex.Request.URL != "http://example.com/scim/v2/Users?token=REDACTED" {
		t.Errorf("server request URL = %q", ex.Request.URL)
	}
}

func TestTruncateBody(t *testing.T) {
	m := TruncateBody(HTTPMessage{Body: "abcdef"}, 4)
	if m.Body != "abcd" || !m.Truncated || m.OriginalSize != 6 {
		t.Errorf("got %+v", m)
	}
	m = TruncateBody(HTTPMessage{Body: "ab€"}, 3) // € is 3 bytes
	if m.Body != "ab" {
		t.Errorf("cut inside a rune: %q", m.Body)
	}
	if m := TruncateBody(HTTPMessage{Body: "abc"}, 3); m.Truncated {
		t.Error("a body at the limit was truncated")
	}
	if m := TruncateBody(HTTPMessage{Body: "abc"}, 0); m.Body != "abc" || m.Truncated {
		t.Error("limit 0 should leave the body whole")
	}
}

func TestRunRedacted(t *testing.T) {
	r := &Run{
		Target:  "https://u:hunter2@h.test/scim/v2",
		Command: "scimlab test --token s3cr3tTok",
		Checks: []Check{{ID: "a", Reason: "got Bearer abcDEF123456 back", Evidence: []Exchange{{
			Request: HTTPMessage{Headers: map[string][]string{"Authorization": {"Bearer abcDEF123456"}}},
		}}}},
		Notes:       []string{"token scimlab_AbC123dEf456 expires soon"},
		Differences: []Difference{{Resource: "User ana", Attribute: "password", Want: "pw1", Got: "pw2"}},
		Orphans:     []string{"https://u:hunter2@h.test/scim/v2/Users/1"},
	}
	before, _ := json.Marshal(r)
	red := r.Redacted()
	after, _ := json.Marshal(r)
	if string(before) != string(after) {
		t.Error("Redacted modified the run")
	}
	out, _ := json.Marshal(red)
	for _, s := range []string{"hunter2", "s3cr3tTok", "abcDEF123456", "AbC123dEf456", "pw1", "pw2"} {
		if strings.Contains(string(out), s) {
			t.Errorf("redacted run still holds %q: %s", s, out)
		}
	}
}

func TestSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "Password": true, "newPassword": true, "client_secret": true, "clientSecret": true,
		"X-Api-Key": true, "api_key": true, "apiKey": true, "access_token": true, "refreshToken": true, "Cookie": true,
		"userName": false, "value": false, "path": false, "displayName": false, "ETag": false, "Location": false,
	} {
		if got := SensitiveName(name); got != want {
			t.Errorf("SensitiveName(%q) = %v, want %v", name, got, want)
		}
	}
}

// fuzzSecret derives a credential-shaped secret (24 characters with upper
// case and digits, as real tokens have) from the fuzzer's seed.
func fuzzSecret(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "Zq" + hex.EncodeToString(sum[:10]) + "7X"
}

// messageText joins every string of m, so a test can look for a secret in it.
func messageText(m HTTPMessage) string {
	var b strings.Builder
	b.WriteString(m.Method + "\n" + m.URL + "\n" + m.Body + "\n")
	for k, vs := range m.Headers {
		b.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	return b.String()
}

// FuzzRedact places a secret everywhere a secret goes in an HTTP message,
// surrounded by fuzzed text, and checks that Redact never panics, never lets
// the secret through and is idempotent.
func FuzzRedact(f *testing.F) {
	f.Add("", "", "seed")
	f.Add(`{"a":1}`, "x=1&y=2", "k")
	f.Add("x Bearer", "=", "s")
	f.Add("scimlab_", "_abc", "t")
	f.Add("https://h.test/a?b", "#frag", "u")
	f.Add("a%zz b", "c\x00d", "v")
	f.Add(`{"password":"`, `"}`, "w")
	f.Fuzz(func(t *testing.T, text, other, seed string) {
		secret := fuzzSecret(seed)
		if strings.Contains(text+other, secret) {
			t.Skip("the fuzzed text holds the secret itself")
		}
		body, err := json.Marshal(map[string]any{
			"note":     text,
			"password": secret,
			"nested":   map[string]any{"client_secret": secret, other: text},
			"Operations": []any{
				map[string]any{"op": "replace", "path": "password", "value": secret},
				map[string]any{"op": "replace", "path": other, "value": text},
			},
		})
		if err != nil {
			t.Skip()
		}
		msgs := []HTTPMessage{
			{
				Method: "POST",
				URL:    "https://user:" + secret + "@h.example/" + url.PathEscape(text) + "?" + other + "&access_token=" + secret,
				Headers: map[string][]string{
					"Authorization": {"Bearer " + secret},
					"Cookie":        {"sid=" + secret},
					"X-Api-Key":     {secret},
					"X-Other":       {text},
				},
				Body: string(body),
			},
			{Body: text + " Bearer " + secret + " " + other},
			{Body: text + "scimlab_" + secret + other},
			{Body: other + "&client_secret=" + secret + "&" + text},
			{URL: text + "?token=" + secret},
			{URL: "https://" + url.PathEscape(text) + ":" + secret + "@h.example/" + other},
			{Headers: map[string][]string{"Authorization": {text + " " + secret}, "Proxy-Authorization": {secret + " " + other}}},
		}
		for i, m := range msgs {
			out := Redact(m)
			if strings.Contains(messageText(out), secret) {
				t.Fatalf("message %d: the secret %q survived redaction:\n%s", i, secret, messageText(out))
			}
			if again := Redact(out); !reflect.DeepEqual(again, out) {
				t.Fatalf("message %d: redaction is not idempotent:\n once: %s\ntwice: %s", i, messageText(out), messageText(again))
			}
		}
	})
}

// FuzzRedactBody checks that redacting any body never panics, keeps valid
// JSON valid, and leaves no sensitive member with a value.
func FuzzRedactBody(f *testing.F) {
	f.Add(`{"password":"x","a":[{"token":1}],"b":"Bearer abcdef123456"}`)
	f.Add(`{"op":"replace","path":"password","value":{"x":1}}`)
	f.Add(`[1, "two", {"three": null}, true]`)
	f.Add(`{"a":"pass\u0077ord=abc\\\"def"}`)
	f.Add(`{"password":"abc`)
	f.Add("grant_type=x&client_secret=y")
	f.Fuzz(func(t *testing.T, body string) {
		out := Redact(HTTPMessage{Body: body}).Body
		if !json.Valid([]byte(body)) {
			return
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("valid JSON became invalid:\n in: %s\nout: %s", body, out)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, x := range v {
					if SensitiveName(k) && x != Mask {
						t.Fatalf("member %q kept the value %v:\n in: %s\nout: %s", k, x, body, out)
					}
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(v)
	})
}

// TestSecretWordPatternCoversSecretWords: the names found in text (pairRE,
// jsonPairRE, flagRE) are the names SensitiveName takes for secrets.
func TestSecretWordPatternCoversSecretWords(t *testing.T) {
	re := regexp.MustCompile(`(?i)^` + secretWordPattern + `$`)
	for _, w := range secretWords {
		if !re.MatchString(w) {
			t.Errorf("secretWordPattern misses %q", w)
		}
		if !mayNameSecret("x" + strings.ToUpper(w) + "=1") {
			t.Errorf("mayNameSecret misses %q", w)
		}
		in := "a=1&" + w + "=PLAINSECRET7&b=2"
		if got := redactText(in, Mask); strings.Contains(got, "PLAINSECRET7") {
			t.Errorf("redactText(%q) = %q", in, got)
		}
		body := `{"` + w + `": "PLAINSECRET7", "x": [` // cut short: not valid JSON
		if got := redactBody(body); strings.Contains(got, "PLAINSECRET7") {
			t.Errorf("redactBody(%q) = %q", body, got)
		}
	}
}

package framework

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/scimlab/scimlab/reports"
	"github.com/scimlab/scimlab/suites/framework/lbl"
)

func TestValidate(t *testing.T) {
	var starter LocalStarter
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"in-process", Config{Local: func(context.Context, string, bool) (*LocalServer, error) { return nil, nil }}, true},
		{"no target, no local", Config{Local: starter}, false},
		{"bearer", Config{Target: "https://scim.example.test/scim/v2", Token: "t"}, true},
		{"basic", Config{Target: "https://scim.example.test/scim/v2", Basic: "u:p"}, true},
		{"basic without colon", Config{Target: "https://scim.example.test/scim/v2", Basic: "up"}, false},
		{"header credential", Config{Target: "https://scim.example.test/scim/v2", Headers: map[string]string{"authorization": "SSWS x"}}, true},
		{"no credential", Config{Target: "https://scim.example.test/scim/v2"}, false},
		{"query string", Config{Target: "https://scim.example.test/scim/v2?aadOptscim062020", Token: "t"}, false},
		{"userinfo", Config{Target: "https://u:p@scim.example.test/scim/v2", Token: "t"}, false},
		{"scheme", Config{Target: "scim.example.test/scim/v2", Token: "t"}, false},
		{"bad header", Config{Target: "https://scim.example.test", Token: "t", Headers: map[string]string{"X Bad": "v"}}, false},
		{"missing limits file", Config{Target: "https://scim.example.test", Token: "t", LimitsFile: "/nonexistent"}, false},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v does not wrap ErrConfig", tc.name, err)
		}
		if err != nil && strings.Contains(err.Error(), "u:p") {
			t.Errorf("%s: the error shows a credential: %v", tc.name, err)
		}
	}
}

func TestWithEnv(t *testing.T) {
	t.Setenv(EnvBaseURL, "https://env.example.test/scim/v2")
	t.Setenv(EnvToken, "env-token")
	c := Config{}.WithEnv()
	if c.Target != "https://env.example.test/scim/v2" || c.Token != "env-token" {
		t.Errorf("WithEnv: %+v", c)
	}
	c = Config{Target: "https://flag.example.test", Basic: "a:b"}.WithEnv()
	if c.Target != "https://flag.example.test" || c.Token != "" {
		t.Errorf("flags must win over the environment: %+v", c)
	}
	t.Setenv(EnvBaseURL, "")
	if c := (Config{}).WithEnv(); c.Token != "" {
		t.Errorf("a stray %s must not go to the in-process server: %+v", EnvToken, c)
	}
}

func TestParseHeader(t *testing.T) {
	if k, v, err := ParseHeader("X-Tenant:  acme "); err != nil || k != "X-Tenant" || v != "acme" {
		t.Errorf("ParseHeader = %q %q %v", k, v, err)
	}
	if _, _, err := ParseHeader("no colon"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseHeader(no colon) = %v", err)
	}
}

func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := LoadLimits(write("a.yaml", "limits:\n  userName: 150\n  Group.displayName: 1000\n"))
	if err != nil || got["userName"] != 150 || got["Group.displayName"] != 1000 {
		t.Errorf("yaml: %v %v", got, err)
	}
	got, err = LoadLimits(write("b.json", `{"name.givenName": 64}`))
	if err != nil || got["name.givenName"] != 64 {
		t.Errorf("json: %v %v", got, err)
	}
	for _, bad := range []string{`{"userName": "long"}`, `{"userName": 0}`, `{}`, `:`} {
		if _, err := LoadLimits(write("bad.yaml", bad)); !errors.Is(err, ErrConfig) {
			t.Errorf("LoadLimits(%q) = %v, want ErrConfig", bad, err)
		}
	}
	if _, err := LoadLimits("../../fixtures/limits/alation.yaml"); err != nil {
		t.Errorf("the sample limits file: %v", err)
	}
}

func TestDocGet(t *testing.T) {
	r := &Response{Body: []byte(`{"userName":"a","Name":{"givenName":"G"},"count":3,"ratio":1.5,
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},
		"emails":[{"value":"x","type":"work"},{"value":"y"}]}`)}
	d := r.Doc()
	if d.Str("name.givenName") != "G" {
		t.Errorf("case-insensitive path: %v", d.Get("name.givenName"))
	}
	if d.Str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value") != "m1" {
		t.Errorf("extension path: %v", d.Get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"))
	}
	if d.Str("urn:ietf:params:scim:schemas:core:2.0:User:userName") != "a" {
		t.Errorf("core URN path")
	}
	if n, ok := d.Int("count"); !ok || n != 3 {
		t.Errorf("Int(count) = %d %v", n, ok)
	}
	if _, ok := d.Int("ratio"); ok {
		t.Errorf("1.5 is not an integer")
	}
	if got := d.Values("emails"); len(got) != 2 || got[0] != "x" {
		t.Errorf("Values(emails) = %v", got)
	}
	if !d.Has("name.givenName") || d.Has("name.familyName") {
		t.Errorf("Has")
	}
	if (&Response{Body: []byte(`[1]`)}).JSON() != nil {
		t.Errorf("an array is not a JSON object")
	}
}

func TestEncodeQuery(t *testing.T) {
	got := EncodeQuery(url.Values{"filter": {`userName eq "a b"`}})
	if got != "filter=userName%20eq%20%22a%20b%22" {
		t.Errorf("EncodeQuery = %s", got)
	}
}

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{
		"POST /Users: want HTTP 201, got 400\n> POST …":  "POST /Users: want HTTP 201, got 400",
		"Expected\n    <int>: 1\nto equal\n    <int>: 2": "Expected <int>: 1 to equal <int>: 2",
		"": "",
		"Group.displayName (max 1000)\nPOST /scim/v2/Groups: want HTTP 400, got 201\n> POST": "Group.displayName (max 1000): POST /scim/v2/Groups: want HTTP 400, got 201",
	} {
		if got := firstLine(in); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInfoFromSpec(t *testing.T) {
	spec := func(text string, labels ...string) types.SpecReport {
		return types.SpecReport{LeafNodeText: text, LeafNodeType: types.NodeTypeIt, LeafNodeLabels: labels}
	}
	ci, problems := InfoFromSpec(spec("[PAT-001] adds", "patch", "MUST", "rfc7644:3.5.2.1", "needs:patch"))
	if len(problems) > 0 || ci.ID != "PAT-001" || ci.Area != "patch" || ci.Level != reports.Must || ci.RFC != "RFC7644 §3.5.2.1" || ci.Capability != "patch" {
		t.Errorf("InfoFromSpec = %+v %v", ci, problems)
	}
	ci, _ = InfoFromSpec(spec("[IDP-001] test connection", "idp", "idp:entra", "rfc7644:3.4.2"))
	if ci.Level != reports.IdPLevel("entra") {
		t.Errorf("IdP level = %q", ci.Level)
	}
	for _, bad := range []types.SpecReport{
		spec("no id", "patch", "MUST", "rfc7644:3"),
		spec("[PAT-002] two areas", "patch", "users", "MUST", "rfc7644:3"),
		spec("[PAT-003] no level", "patch", "rfc7644:3"),
		spec("[PAT-004] no rfc", "patch", "MUST"),
		spec("[PAT-005] stray label", "patch", "MUST", "rfc7644:3", "wip"),
	} {
		if _, problems := InfoFromSpec(bad); len(problems) == 0 {
			t.Errorf("%q: want a problem", bad.LeafNodeText)
		}
	}
	_, problems = InfoFromReport(types.Report{SpecReports: types.SpecReports{
		spec("[PAT-001] a", "patch", "MUST", "rfc7644:3"), spec("[PAT-001] b", "patch", "MUST", "rfc7644:3"),
	}})
	if len(problems) == 0 {
		t.Errorf("duplicate IDs not reported")
	}
}

func TestLabels(t *testing.T) {
	if lbl.RFC("7644:3.5.2") != "rfc7644:3.5.2" || lbl.FormatRFC("rfc7643:4.1.1") != "RFC7643 §4.1.1" {
		t.Errorf("RFC labels")
	}
	for _, l := range []string{"MUST", "idp:okta", "filter", "needs:etag", "tolerance", "rfc6750:3.1", "probes:bulk"} {
		if !lbl.Valid(l) {
			t.Errorf("%s should be valid", l)
		}
	}
	for _, l := range []string{"must", "rfc7644", "needs:magic", "wip"} {
		if lbl.Valid(l) {
			t.Errorf("%s should not be valid", l)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("lbl.RFC(\"3.5.2\") should panic")
		}
	}()
	lbl.RFC("3.5.2")
}

// TestInsecureTransportKeepsDefaults: --insecure turns certificate
// verification off and nothing else: the transport still takes its proxy
// from the environment, as every other client of the run does, and reaches
// a server whose certificate no one signed.
func TestInsecureTransportKeepsDefaults(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, insecure := range []bool{false, true} {
		tr := (&Target{Insecure: insecure}).baseTransport()
		if tr.Proxy == nil {
			t.Errorf("insecure=%v: the transport ignores proxy settings", insecure)
		}
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if insecure {
			if err != nil {
				t.Errorf("insecure: %v", err)
			} else {
				resp.Body.Close()
			}
		} else if err == nil {
			resp.Body.Close()
			t.Error("without --insecure an unsigned certificate was accepted")
		}
	}
}

// TestLocationURLs resolves the Location header against the request URL
// (RFC 9110 §10.2.2) and meta.location against the base URL with a
// trailing slash (RFC 7643 §2.3.7), so that a relative reference names the
// same resource as the absolute URL, and a wrong one does not.
func TestLocationURLs(t *testing.T) {
	prev := target
	defer func() { target = prev }()
	target = &Target{BaseURL: "https://scim.example.test/scim/v2"}
	want := "https://scim.example.test/scim/v2/Users/24b8"
	r := &Response{URL: "https://scim.example.test/scim/v2/Users", Header: http.Header{}}
	for loc, ok := range map[string]bool{
		"Users/24b8":          true,
		"/scim/v2/Users/24b8": true,
		want:                  true,
		"24b8":                false,
		"Groups/24b8":         false,
		"/Users/24b8":         false,
	} {
		r.Header.Set("Location", loc)
		got, err := r.LocationURL()
		if err != nil || (got.String() == want) != ok {
			t.Errorf("Location %q resolved to %v (%v), want same as %s: %v", loc, got, err, want, ok)
		}
		got, err = MetaLocationURL(loc)
		if err != nil || (got.String() == want) != ok {
			t.Errorf("meta.location %q resolved to %v (%v), want same as %s: %v", loc, got, err, want, ok)
		}
	}
}

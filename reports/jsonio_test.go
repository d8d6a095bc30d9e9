package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJSONRoundTrip(t *testing.T) {
	yes := true
	in := &Run{
		Tool: Tool{Name: "scimlab", Version: "v1.0.0"}, Kind: "simulate", Target: "https://h.test/scim/v2",
		IdP: "okta", Seed: 7, Started: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 3 * time.Second,
		Capabilities: []Capability{{Name: "patch", Declared: true, Observed: &yes}},
		Checks: []Check{{ID: "a", Title: "A", Area: "users", Level: IdPLevel("okta"), Verdict: Fail, Duration: time.Millisecond, Reason: "r",
			Labels: []string{"idp:okta"}, Capability: "patch",
			Evidence: []Exchange{{Request: HTTPMessage{Method: "GET", URL: "https://h.test/x"}, Response: HTTPMessage{Status: 500, Body: "<b>&</b>", Truncated: true, OriginalSize: 99}, Latency: 5}}}},
		Operations:  []OperationStats{{Operation: "createUser", Count: 3, P50: 1, P95: 2, P99: 3}},
		Differences: []Difference{{Resource: "User a", Attribute: "active", Want: "false", Got: "true"}},
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"schemaVersion": 1`) {
		t.Errorf("JSON lacks the schema version:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `"body": "<b>&</b>"`) {
		t.Errorf("JSON escapes HTML in bodies, which makes evidence hard to read:\n%s", buf.String())
	}
	out, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	in.SchemaVersion = SchemaVersion
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the run:\n in: %+v\nout: %+v", in, out)
	}
}

func TestWriteJSONEmptyRun(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &Run{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"checks": []`) {
		t.Errorf("an empty run should have \"checks\": [], not null:\n%s", buf.String())
	}
}

func TestReadJSONRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"newer version", `{"schemaVersion": 2, "checks": []}`, "upgrade scimlab"},
		{"older version", `{"schemaVersion": 0, "checks": []}`, "regenerate"},
		{"no version", `{"checks": []}`, `no "schemaVersion"`},
		{"not JSON", `<testsuites/>`, "not valid JSON"},
		{"empty", ``, "not valid JSON"},
		{"wrong type", "{\"schemaVersion\": 1,\n\"checks\": {}}", "line 2"},
		{"unknown verdict", `{"schemaVersion": 1, "checks": [{"id": "a", "verdict": "flaky"}]}`, `verdict "flaky"`},
		{"missing id", `{"schemaVersion": 1, "checks": [{"title": "t", "verdict": "pass"}]}`, "has no id"},
	} {
		_, err := ReadJSON(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestReadJSONAcceptsAddedFields(t *testing.T) {
	r, err := ReadJSON(strings.NewReader(`{"schemaVersion": 1, "futureField": {"x": 1}, "checks": [{"id": "a", "verdict": "pass", "newer": true}]}`))
	if err != nil {
		t.Fatalf("a field added within version 1 must be ignored: %v", err)
	}
	if len(r.Checks) != 1 || r.Checks[0].ID != "a" {
		t.Errorf("got %+v", r)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(path, []byte(`{"schemaVersion": 9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "schemaVersion 9") {
		t.Errorf("Load error %v should name the file and the version", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

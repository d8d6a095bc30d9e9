package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorWireForm(t *testing.T) {
	b, err := json.Marshal(New(409, Uniqueness, "userName \"bjensen\" is already in use"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	// RFC 7644 §3.12: status is a string in the examples; schemas names the Error URN.
	if m["status"] != "409" {
		t.Errorf("status = %#v, want the string \"409\"", m["status"])
	}
	if s, _ := m["schemas"].([]any); len(s) != 1 || s[0] != ErrorSchema {
		t.Errorf("schemas = %#v", m["schemas"])
	}
	if m["scimType"] != "uniqueness" || !strings.Contains(m["detail"].(string), "bjensen") {
		t.Errorf("body = %s", b)
	}
	b, _ = json.Marshal(New(404, "", "no such user"))
	if strings.Contains(string(b), "scimType") {
		t.Errorf("empty scimType should be omitted: %s", b)
	}
}

func TestErrorParsesStringOrNumberStatus(t *testing.T) {
	tests := []struct {
		body    string
		status  int
		wantErr bool
	}{
		{`{"schemas":["` + ErrorSchema + `"],"status":"400","scimType":"invalidFilter","detail":"x"}`, 400, false},
		{`{"status":404,"detail":"not found"}`, 404, false}, // Entra and others send a number
		{`{"status":" 412 "}`, 412, false},
		{`{"status":"four hundred"}`, 0, true},
		{`{"detail":"no status"}`, 0, true},
		{`{"status":true}`, 0, true},
		{`[]`, 0, true},
	}
	for _, tc := range tests {
		var e Error
		err := json.Unmarshal([]byte(tc.body), &e)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.body, err, tc.wantErr)
			continue
		}
		if err == nil && e.Status != tc.status {
			t.Errorf("%s: status = %d, want %d", tc.body, e.Status, tc.status)
		}
	}
}

func TestErrorIsComparesStatusAndType(t *testing.T) {
	err := fmt.Errorf("patch: %w", New(400, NoTarget, "emails[type eq \"work\"] matched nothing"))
	if !errors.Is(err, New(400, NoTarget, "")) {
		t.Error("wrapped noTarget should match (400, noTarget)")
	}
	if errors.Is(err, New(400, InvalidPath, "")) {
		t.Error("noTarget must not match invalidPath")
	}
	if errors.Is(err, New(409, NoTarget, "")) {
		t.Error("status must be compared too")
	}
	if got := AsError(err); got.ScimType != NoTarget {
		t.Errorf("AsError = %v", got)
	}
	if got := AsError(errors.New("boom")); got.Status != 500 {
		t.Errorf("AsError(plain) status = %d, want 500", got.Status)
	}
	if AsError(nil) != nil {
		t.Error("AsError(nil) should be nil")
	}
}

func TestTypesAreTable9(t *testing.T) {
	want := "invalidFilter tooMany uniqueness mutability invalidSyntax invalidPath noTarget invalidValue invalidVers sensitive"
	var got []string
	for _, ty := range Types {
		if !ty.Valid() {
			t.Errorf("%s not valid", ty)
		}
		got = append(got, string(ty))
	}
	if strings.Join(got, " ") != want {
		t.Errorf("Types = %v", got)
	}
	if Type("invalidRequest").Valid() {
		t.Error("invented scimTypes must not be valid")
	}
}

func FuzzErrorUnmarshal(f *testing.F) {
	f.Add([]byte(`{"status":"400","scimType":"invalidFilter"}`))
	f.Add([]byte(`{"status":404}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Error
		if err := json.Unmarshal(b, &e); err != nil {
			return
		}
		out, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back Error
		if err := json.Unmarshal(out, &back); err != nil || back != e {
			t.Fatalf("round trip: %+v -> %s -> %+v (%v)", e, out, back, err)
		}
	})
}

package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

func seedExamples(f *testing.F) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// decodings yields doc decoded both ways a server might: float64 numbers and
// json.Number.
func decodings(data []byte) []map[string]any {
	var out []map[string]any
	var plain map[string]any
	if json.Unmarshal(data, &plain) == nil {
		out = append(out, plain)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var num map[string]any
	if d.Decode(&num) == nil {
		out = append(out, num)
	}
	return out
}

// FuzzValidate: for any JSON object, Validate returns a 400 *scim.Error or a
// document that validates again to itself, holds no read-only attribute, and
// leaves its input alone. It never panics.
func FuzzValidate(f *testing.F) {
	for _, b := range seedExamples(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{}`, `{"schemas":null}`, `{"schemas":[1]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b","emails":{"value":1}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b","name.givenName":"a","NAME":{"familyName":"f"}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b","active":"True","emails":[{"primary":"true","value":"x"},{"primary":false}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value":"m","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + testURN + `"],"userName":"b","` + testURN + `":{"costCode":"c","level":1e400,"score":1.5,"hired":"2008-01-23T04:56:22Z","badge":"=","tags":[[]],"contract":{"signed":true,"number":{}}}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"1","$ref":null},{"VALUE":"2","Display":"d"}]}`,
	} {
		f.Add([]byte(s))
	}
	rts := []*ResourceType{UserResourceType(), GroupResourceType(), testRT(false)}
	opts := []Options{{}, {StringBooleans: true, RejectUnknown: true, Mode: Replace}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, doc := range decodings(data) {
			before, err := json.Marshal(doc)
			if err != nil {
				return
			}
			for _, rt := range rts {
				for _, opt := range opts {
					out, err := rt.Validate(doc, opt)
					if err != nil {
						var se *scim.Error
						if !errors.As(err, &se) || se.Status != 400 || (se.ScimType != scim.InvalidValue && se.ScimType != scim.InvalidSyntax) {
							t.Fatalf("%s %+v: error %T %v", rt.Name, opt, err, err)
						}
						if out != nil {
							t.Fatal("error with a document")
						}
						continue
					}
					for _, k := range []string{"id", "meta", "groups"} {
						if _, ok := out[k]; ok {
							t.Fatalf("%s survived: %v", k, out)
						}
					}
					again, err := rt.Validate(out, opt)
					if err != nil || !reflect.DeepEqual(again, out) {
						t.Fatalf("%s %+v: not idempotent: %v\nfirst  %#v\nsecond %#v", rt.Name, opt, err, out, again)
					}
					if _, err := json.Marshal(out); err != nil {
						t.Fatalf("result does not marshal: %v", err)
					}
				}
			}
			after, _ := json.Marshal(doc)
			if !bytes.Equal(before, after) {
				t.Fatal("Validate changed its input")
			}
		}
	})
}

// FuzzProject: for any JSON object and parameter lists, Project never
// panics, never returns the password, leaves its input alone, and is
// idempotent.
func FuzzProject(f *testing.F) {
	for _, b := range seedExamples(f) {
		f.Add(b, "", "")
		f.Add(b, "userName,name.givenName,emails.value", "")
		f.Add(b, "", "emails,"+entUser+":manager")
		f.Add(b, entUser, "meta.created")
		f.Add(b, "members", "members.display")
	}
	f.Add([]byte(`{"PassWord":"p","emails":"x","name":[1],"`+entUser+`":[]}`), "emails.value,name", "password")
	rts := []*ResourceType{UserResourceType(), GroupResourceType()}
	f.Fuzz(func(t *testing.T, data []byte, attributes, excluded string) {
		for _, doc := range decodings(data) {
			before, err := json.Marshal(doc)
			if err != nil {
				return
			}
			for _, rt := range rts {
				out := rt.Project(doc, []string{attributes}, strings.Split(excluded, ","))
				for k := range out {
					if a, _, _ := ResolveName(rt, k); a != nil && a.Returned == Never {
						t.Fatalf("returned %q", k)
					}
				}
				again := rt.Project(out, []string{attributes}, strings.Split(excluded, ","))
				if !reflect.DeepEqual(again, out) {
					t.Fatalf("not idempotent:\nfirst  %#v\nsecond %#v", out, again)
				}
			}
			after, _ := json.Marshal(doc)
			if !bytes.Equal(before, after) {
				t.Fatal("Project changed its input")
			}
		}
	})
}

func BenchmarkValidateUser(b *testing.B) {
	doc := load(b, "rfc7643-8.3-enterprise-user.json")
	rt := UserResourceType()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.Validate(doc, Options{StringBooleans: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProject(b *testing.B) {
	doc := load(b, "rfc7643-8.3-enterprise-user.json")
	rt := UserResourceType()
	for _, bc := range []struct {
		name                 string
		attributes, excluded []string
	}{
		{"default", nil, nil},
		{"attributes", []string{"userName", "name.givenName", "emails.value", entUser + ":employeeNumber"}, nil},
		{"excluded", nil, []string{"groups", "emails.type", entUser + ":manager"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rt.Project(doc, bc.attributes, bc.excluded)
			}
		})
	}
}

package patch_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimlab/scimlab/reference-server/patch"
	"github.com/scimlab/scimlab/reference-server/schema"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// outcome is what a correct server does with a request: the resulting
// document, no change, or a 400 with a scimType.
type outcome struct {
	Want      json.RawMessage `json:"want"`
	Unchanged bool            `json:"unchanged"`
	Error     scim.Type       `json:"error"`
	Same      bool            `json:"same"` // lenient only: as in strict mode
}

// replayFile is testdata/rfc7644.json or testdata/idp.json: named documents
// and cases that patch one of them.
type replayFile struct {
	Docs  map[string]json.RawMessage `json:"docs"`
	Cases []struct {
		ID       string          `json:"id"`
		IdP      string          `json:"idp"`
		RFC      string          `json:"rfc"`
		Name     string          `json:"name"`
		Resource string          `json:"resource"`
		Doc      string          `json:"doc"`
		Body     json.RawMessage `json:"body"`
		outcome
		Strict  *outcome `json:"strict"`
		Lenient *outcome `json:"lenient"`
	} `json:"cases"`
}

func loadReplay(t *testing.T, name string) replayFile {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var f replayFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

func resourceType(t testing.TB, name string) *schema.ResourceType {
	t.Helper()
	switch name {
	case "User":
		return schema.UserResourceType()
	case "Group":
		return schema.GroupResourceType()
	}
	t.Fatalf("unknown resource type %q", name)
	return nil
}

func decodeDoc(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return m
}

// run parses body, applies it to a copy of doc with opt and checks the outcome.
func run(t *testing.T, rt *schema.ResourceType, doc []byte, body []byte, opt patch.Options, want outcome) {
	t.Helper()
	in := decodeDoc(t, doc)
	pristine := decodeDoc(t, doc)
	out, changed, err := parseAndApply(in, body, rt, opt)
	if !cmp.Equal(in, pristine) {
		t.Errorf("Apply modified its input document:\n%s", cmp.Diff(pristine, in))
	}
	switch {
	case want.Error != "":
		if !errors.Is(err, scim.New(400, want.Error, "")) {
			t.Fatalf("got (%v, %v), want 400 %s", jsonText(out), err, want.Error)
		}
		if out != nil {
			t.Errorf("a failed request returned a document: %s", jsonText(out))
		}
	case want.Unchanged:
		if err != nil {
			t.Fatalf("got error %v, want success with no change", err)
		}
		if changed {
			t.Errorf("changed = true, want false")
		}
		if d := cmp.Diff(pristine, out); d != "" {
			t.Errorf("document changed (-before +after):\n%s", d)
		}
	default:
		if err != nil {
			t.Fatalf("got error %v, want success", err)
		}
		w := decodeDoc(t, want.Want)
		if d := cmp.Diff(w, out); d != "" {
			t.Errorf("result (-want +got):\n%s", d)
		}
		if changed != !cmp.Equal(pristine, w) {
			t.Errorf("changed = %v", changed)
		}
	}
}

func parseAndApply(doc map[string]any, body []byte, rt *schema.ResourceType, opt patch.Options) (map[string]any, bool, error) {
	p, err := patch.Parse(body)
	if err != nil {
		return nil, false, err
	}
	return patch.Apply(doc, p.Operations, rt, opt)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRFC7644Examples replays every example of RFC 7644 §3.5.2.1–§3.5.2.3
// with the document the RFC's text says results.
func TestRFC7644Examples(t *testing.T) {
	f := loadReplay(t, "testdata/rfc7644.json")
	for _, c := range f.Cases {
		t.Run(c.RFC+"/"+c.Name, func(t *testing.T) {
			doc, ok := f.Docs[c.Doc]
			if !ok {
				t.Fatalf("no document %q", c.Doc)
			}
			rt := resourceType(t, c.Resource)
			run(t, rt, doc, c.Body, patch.Options{}, c.outcome)
			run(t, rt, doc, c.Body, patch.Lenient(), c.outcome)
		})
	}
}

// TestIdPTraffic replays the Okta and Entra ID request shapes and the bugs
// of docs/idp-traffic.md with what a correct server does in strict and in
// lenient mode.
func TestIdPTraffic(t *testing.T) {
	f := loadReplay(t, "testdata/idp.json")
	for _, c := range f.Cases {
		t.Run(c.ID+"/"+c.Name, func(t *testing.T) {
			doc, ok := f.Docs[c.Doc]
			if !ok {
				t.Fatalf("no document %q", c.Doc)
			}
			if c.Strict == nil || c.Lenient == nil {
				t.Fatal("a case needs both a strict and a lenient outcome")
			}
			rt := resourceType(t, c.Resource)
			lenient := *c.Lenient
			if lenient.Same {
				lenient = *c.Strict
			}
			t.Run("strict", func(t *testing.T) { run(t, rt, doc, c.Body, patch.Options{}, *c.Strict) })
			t.Run("lenient", func(t *testing.T) { run(t, rt, doc, c.Body, patch.Lenient(), lenient) })
		})
	}
}

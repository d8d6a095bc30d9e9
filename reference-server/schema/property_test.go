package schema

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/scim"
)

// gen builds random documents from a resource type's own vocabulary, which
// byte-level fuzzing of JSON rarely reaches: real attribute names in random
// case, URN-qualified and dotted keys, extension objects, and values of every
// JSON kind, right and wrong.
type gen struct {
	r  *rand.Rand
	rt *ResourceType
}

func (g gen) casing(s string) string {
	switch g.r.IntN(4) {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	return s
}

func (g gen) scalar() any {
	switch g.r.IntN(14) {
	case 0:
		return nil
	case 1:
		return g.r.IntN(2) == 0
	case 2:
		return []string{"True", "false", "TRUE", "yes"}[g.r.IntN(4)]
	case 3:
		return float64(g.r.IntN(100))
	case 4:
		return g.r.Float64()
	case 5:
		return "aGVsbG8="
	case 6:
		return "2008-01-23T04:56:22Z"
	case 7:
		return "https://example.com/v2/Users/1"
	case 8:
		return "http://[::1"
	case 9:
		return ""
	case 10:
		return []string{"work", "home", "Work", "gold"}[g.r.IntN(4)]
	}
	return "v" + string(rune('a'+g.r.IntN(26)))
}

// typed returns a value of a's type, or now and then anything at all.
func (g gen) typed(a *Attribute) any {
	if g.r.IntN(12) == 0 {
		return g.scalar()
	}
	switch a.Type {
	case Boolean:
		if g.r.IntN(4) == 0 {
			return []string{"True", "false"}[g.r.IntN(2)]
		}
		return g.r.IntN(2) == 0
	case Integer:
		return float64(g.r.IntN(1000))
	case Decimal:
		return g.r.Float64() * 100
	case DateTime:
		return []string{"2008-01-23T04:56:22Z", "2011-05-13T04:42:34.5+02:00"}[g.r.IntN(2)]
	case Binary:
		return "aGVsbG8="
	case Reference:
		return "https://example.com/v2/Users/" + string(rune('a'+g.r.IntN(26)))
	}
	if len(a.CanonicalValues) > 0 && g.r.IntN(2) == 0 {
		return a.CanonicalValues[g.r.IntN(len(a.CanonicalValues))]
	}
	return "v" + string(rune('a'+g.r.IntN(26)))
}

func (g gen) value(a *Attribute, depth int) any {
	if a == nil || depth > 3 || g.r.IntN(25) == 0 {
		switch g.r.IntN(4) {
		case 0:
			return []any{g.scalar(), g.scalar()}
		case 1:
			return map[string]any{"value": g.scalar(), "x": g.scalar()}
		}
		return g.scalar()
	}
	one := func() any {
		if a.Type != Complex {
			return g.typed(a)
		}
		m := map[string]any{}
		for _, s := range a.SubAttributes {
			if g.r.IntN(2) == 0 {
				m[g.casing(s.Name)] = g.value(s, depth+1)
			}
		}
		if g.r.IntN(6) == 0 {
			m["unknownSub"] = g.scalar()
		}
		return m
	}
	if !a.MultiValued || g.r.IntN(10) == 0 {
		return one()
	}
	n := g.r.IntN(4)
	arr := make([]any, n)
	for i := range arr {
		arr[i] = one()
	}
	return arr
}

func (g gen) doc() map[string]any {
	d := map[string]any{}
	schemas := []any{g.casing(g.rt.Schema.ID)}
	for _, e := range g.rt.Extensions {
		if g.r.IntN(2) == 0 {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	switch g.r.IntN(12) {
	case 0:
		schemas = append(schemas, "urn:acme:User")
	case 1:
		schemas = schemas[1:]
	}
	if g.r.IntN(15) != 0 {
		d[g.casing("schemas")] = schemas
	}
	all := []*Schema{g.rt.Schema}
	for _, e := range g.rt.Extensions {
		all = append(all, e.Schema)
	}
	for _, s := range all {
		ext := s != g.rt.Schema
		extObj := map[string]any{}
		for _, a := range append(s.Attributes, IDAttr, MetaAttr, ExternalIDAttr) {
			if g.r.IntN(3) != 0 && !(a.Required && g.r.IntN(8) != 0) {
				continue
			}
			v := g.value(a, 0)
			key := g.casing(a.Name)
			switch g.r.IntN(5) {
			case 0: // URN-qualified
				key = s.ID + ":" + key
				d[key] = v
			case 1: // dotted sub-attribute
				if len(a.SubAttributes) > 0 {
					sub := a.SubAttributes[g.r.IntN(len(a.SubAttributes))]
					key = key + "." + g.casing(sub.Name)
					if ext {
						key = s.ID + ":" + key
					}
					d[key] = g.value(sub, 1)
					continue
				}
				fallthrough
			default:
				if ext {
					extObj[key] = v
				} else {
					d[key] = v
				}
			}
		}
		if ext && (len(extObj) > 0 || g.r.IntN(4) == 0) {
			d[g.casing(s.ID)] = extObj
		}
	}
	if g.r.IntN(4) == 0 {
		d["shoeSize"] = g.scalar()
	}
	return d
}

// Validate's and Project's invariants over many random documents.
func TestValidateRandomDocuments(t *testing.T) {
	n := 3000
	if testing.Short() || raceDetector {
		n = 500
	}
	r := rand.New(rand.NewPCG(7643, 7644))
	accepted := 0
	for _, rt := range []*ResourceType{UserResourceType(), GroupResourceType(), testRT(false)} {
		g := gen{r: r, rt: rt}
		for i := 0; i < n; i++ {
			doc := g.doc()
			before, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			opt := Options{StringBooleans: r.IntN(2) == 0, RejectUnknown: r.IntN(2) == 0}
			out, err := rt.Validate(doc, opt)
			if after, _ := json.Marshal(doc); string(after) != string(before) {
				t.Fatalf("Validate changed its input %s", before)
			}
			if err != nil {
				var se *scim.Error
				if !errors.As(err, &se) || se.Status != 400 || (se.ScimType != scim.InvalidValue && se.ScimType != scim.InvalidSyntax) {
					t.Fatalf("%s: error %T %v for %s", rt.Name, err, err, before)
				}
				continue
			}
			accepted++
			again, err := rt.Validate(out, opt)
			if err != nil || !reflect.DeepEqual(again, out) {
				t.Fatalf("%s: not idempotent (%v) for %s\nfirst  %v\nsecond %v", rt.Name, err, before, out, again)
			}
			for _, k := range []string{"id", "meta", "groups"} {
				if _, ok := out[k]; ok {
					t.Fatalf("%s survived for %s", k, before)
				}
			}
			p := rt.Project(out, nil, nil)
			if _, ok := p["password"]; ok {
				t.Fatal("projection returned the password")
			}
			if !reflect.DeepEqual(rt.Project(p, nil, nil), p) {
				t.Fatalf("Project is not idempotent for %v", out)
			}
		}
	}
	t.Logf("%d of %d random documents valid", accepted, 3*n)
	if accepted < n/4 {
		t.Errorf("only %d random documents were valid; the generator no longer exercises the success path", accepted)
	}
}

package doc

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
)

func members(vs ...string) []store.Member {
	out := make([]store.Member, len(vs))
	for i, v := range vs {
		out[i] = store.Member{Value: v}
	}
	return out
}

// apply carries out p on old the way the backends do.
func apply(old, next []store.Member, p SetPlan) []store.Member {
	if p.Rewrite {
		return next
	}
	var out []store.Member
	removed := map[string]bool{}
	for _, v := range p.Removed {
		removed[v] = true
	}
	updated := map[string]store.Member{}
	for _, m := range p.Updated {
		updated[m.Value] = m
	}
	for _, m := range old {
		if removed[m.Value] {
			continue
		}
		if u, ok := updated[m.Value]; ok {
			m = u
		}
		out = append(out, m)
	}
	return append(out, p.Added...)
}

func TestPlanSet(t *testing.T) {
	tests := []struct {
		name      string
		old, next []store.Member
		rewrite   bool
		changed   bool
	}{
		{"same", members("a", "b"), members("a", "b"), false, false},
		{"both empty", nil, nil, false, false},
		{"append", members("a"), members("a", "b", "c"), false, true},
		{"remove middle", members("a", "b", "c"), members("a", "c"), false, true},
		{"remove and append", members("a", "b"), members("b", "x"), false, true},
		{"clear", members("a", "b"), nil, false, true},
		{"from empty", nil, members("a"), false, true},
		{"swap", members("a", "b"), members("b", "a"), true, true},
		{"insert before kept", members("a", "b"), members("x", "a", "b"), true, true},
		{"display change", members("a"), []store.Member{{Value: "a", Display: "A"}}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := PlanSet(tc.old, tc.next)
			if p.Rewrite != tc.rewrite || p.Changed() != tc.changed {
				t.Fatalf("PlanSet = %+v (changed %v), want rewrite %v changed %v", p, p.Changed(), tc.rewrite, tc.changed)
			}
			got := apply(tc.old, tc.next, p)
			if len(got) != 0 || len(tc.next) != 0 {
				if !reflect.DeepEqual(got, tc.next) {
					t.Fatalf("applying %+v gives %v, want %v", p, got, tc.next)
				}
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	got, err := Dedupe([]store.Member{{Value: "a", Display: "1"}, {Value: "b"}, {Value: "a", Display: "2"}})
	if err != nil || !reflect.DeepEqual(got, []store.Member{{Value: "a", Display: "1"}, {Value: "b"}}) {
		t.Fatalf("Dedupe = %v, %v", got, err)
	}
	if _, err := Dedupe([]store.Member{{Value: ""}}); err != ErrEmptyValue {
		t.Fatalf("Dedupe empty value: %v", err)
	}
}

func TestCloneMatchesJSON(t *testing.T) {
	in := map[string]any{
		"s": "x", "f": 1.5, "b": true, "n": nil, "i": 3, "u": uint8(4), "num": json.Number("1e2"),
		"ss": []string{"a"}, "m": map[string]int{"k": 1}, "nested": []any{map[string]any{"x": []any{1}}},
		"members": "dropped",
	}
	got, err := Clone(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Clone = %#v\nJSON round trip = %#v", got, want)
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), make(chan int), func() {}} {
		if _, err := Clone(map[string]any{"x": bad}); err == nil {
			t.Errorf("Clone(%T): no error", bad)
		}
		if _, err := Encode(map[string]any{"x": bad}); err == nil {
			t.Errorf("Encode(%T): no error", bad)
		}
	}
	// A clone shares nothing with its source.
	src := map[string]any{"a": []any{map[string]any{"b": "c"}}}
	c := CloneStored(src)
	c["a"].([]any)[0].(map[string]any)["b"] = "changed"
	if src["a"].([]any)[0].(map[string]any)["b"] != "c" {
		t.Fatal("CloneStored shares nested values")
	}
}

func TestMoved(t *testing.T) {
	ms := func(vs ...string) []store.Member {
		out := make([]store.Member, len(vs))
		for i, v := range vs {
			out[i] = store.Member{Value: v}
		}
		return out
	}
	for _, c := range []struct {
		old, next []store.Member
		want      string
	}{
		{ms("a", "b"), ms("b", "c"), "[c a]"},
		{ms("a", "b"), ms("b", "a"), "[]"},
		{nil, ms("a"), "[a]"},
		{ms("a"), nil, "[a]"},
		{nil, nil, "[]"},
	} {
		got := Moved(c.old, c.next)
		if got == nil {
			got = []string{}
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("Moved(%v, %v) = %v, want %s", c.old, c.next, got, c.want)
		}
	}
}

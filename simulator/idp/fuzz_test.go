package idp

import (
	"testing"

	"github.com/scimlab/scimlab/fixtures"
)

// FuzzParse: any bytes give an IdP profile or an error, never a panic.
func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		b, err := fixtures.IdPs.ReadFile("idps/" + n + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b, "fuzz.yaml")
		if err == nil && p == nil {
			t.Fatal("nil profile without an error")
		}
	})
}

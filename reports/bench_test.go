package reports

import (
	"io"
	"testing"
)

func BenchmarkRenderHTML(b *testing.B) {
	r := syntheticRun(300)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteHTML(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderJUnit(b *testing.B) {
	r := syntheticRun(300)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteJUnit(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	m := syntheticRun(6)
	ex := m.Checks[1].Evidence[0]
	b.ReportAllocs()
	for b.Loop() {
		Redact(ex.Request)
		Redact(ex.Response)
	}
}

package touches

import (
	"testing"
	"time"

	"github.com/scimlab/scimlab/reference-server/store"
)

func TestPending(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var p Pending
	if p.Take() != nil || p.NoteIfPending("a", t0) {
		t.Fatal("a new Pending has uses")
	}
	p.Note("a", t0)
	p.Note("a", t0.Add(-time.Minute)) // earlier: ignored
	if !p.NoteIfPending("a", t0.Add(time.Second)) {
		t.Fatal("NoteIfPending: a has a use pending")
	}
	if p.NoteIfPending("b", t0) || p.Len() != 1 {
		t.Fatal("NoteIfPending noted a token with nothing pending")
	}
	ts := []store.Token{{ID: "a", LastUsed: t0}, {ID: "b", LastUsed: t0}, {ID: "c"}}
	p.Apply(ts)
	if !ts[0].LastUsed.Equal(t0.Add(time.Second)) || !ts[1].LastUsed.Equal(t0) || !ts[2].LastUsed.IsZero() {
		t.Fatalf("Apply: %+v", ts)
	}

	batch := p.Take()
	if len(batch) != 1 || !batch["a"].Equal(t0.Add(time.Second)) {
		t.Fatalf("Take = %v", batch)
	}
	p.Note("a", t0.Add(2*time.Second)) // a use while the batch is written
	p.Note("b", t0)
	p.Written(batch)
	if got := p.Take(); len(got) != 2 || !got["a"].Equal(t0.Add(2*time.Second)) {
		t.Fatalf("after Written, pending = %v; want the later use of a and b", got)
	}
	p.Written(p.Take())
	if p.Len() != 0 {
		t.Fatal("Written left uses pending")
	}
}

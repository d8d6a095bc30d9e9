package memory_test

import (
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/memory"
	"github.com/scimlab/scimlab/reference-server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

func BenchmarkCreate(b *testing.B)              { storetest.BenchCreate(b, memory.New()) }
func BenchmarkGet(b *testing.B)                 { storetest.BenchGet(b, memory.New()) }
func BenchmarkGetParallel(b *testing.B)         { storetest.BenchGetParallel(b, memory.New()) }
func BenchmarkLookupKey(b *testing.B)           { storetest.BenchLookupKey(b, memory.New()) }
func BenchmarkListMatch(b *testing.B)           { storetest.BenchListMatch(b, memory.New()) }
func BenchmarkAddMemberLargeGroup(b *testing.B) { storetest.BenchAddMemberLargeGroup(b, memory.New()) }
func BenchmarkUpdateUser(b *testing.B)          { storetest.BenchUpdateUser(b, memory.New()) }

func TestHeap10kUsers(t *testing.T) {
	if race {
		t.Skip("heap numbers mean nothing under -race")
	}
	m := storetest.HeapAfter(t, memory.New(), 10000)
	t.Logf("10,000 users: HeapAlloc %.1f MiB, HeapInuse %.1f MiB, Sys %.1f MiB",
		float64(m.HeapAlloc)/(1<<20), float64(m.HeapInuse)/(1<<20), float64(m.Sys)/(1<<20))
	if m.HeapAlloc > 64<<20 {
		t.Errorf("live heap %d MiB after 10,000 users, want well under 64 MiB", m.HeapAlloc>>20)
	}
}

package sqlite_test

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reference-server/store"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
	"github.com/scimlab/scimlab/reference-server/store/storetest"
)

func open(t testing.TB, dsn string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestConformanceFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "scimlab.db"))
	})
}

func TestConformanceMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, ":memory:") })
}

var benchDSN = flag.String("dsn", "", `database for benchmarks: a path, or ":memory:" (default: a new file in a temporary directory)`)

// openB opens the benchmark database.
func openB(b *testing.B) *sqlite.Store {
	if *benchDSN != "" {
		return open(b, *benchDSN)
	}
	return open(b, filepath.Join(b.TempDir(), "bench.db"))
}

func BenchmarkCreate(b *testing.B) {
	s := openB(b)
	b.SetParallelism(8) // 8 callers per CPU, as from concurrent HTTP requests
	storetest.BenchCreate(b, s)
	if st := s.Stats(); st.Commits > 0 {
		b.ReportMetric(float64(st.Requests)/float64(st.Commits), "writes/commit")
	}
}

func BenchmarkGet(b *testing.B)         { storetest.BenchGet(b, openB(b)) }
func BenchmarkGetParallel(b *testing.B) { storetest.BenchGetParallel(b, openB(b)) }
func BenchmarkLookupKey(b *testing.B)   { storetest.BenchLookupKey(b, openB(b)) }
func BenchmarkListMatch(b *testing.B)   { storetest.BenchListMatch(b, openB(b)) }
func BenchmarkAddMemberLargeGroup(b *testing.B) {
	storetest.BenchAddMemberLargeGroup(b, openB(b))
}
func BenchmarkUpdateUser(b *testing.B) { storetest.BenchUpdateUser(b, openB(b)) }

// TestHeap10kUsers checks that the Go heap stays small with 10,000 users in
// a file database (SQLite's own page cache lives outside the Go heap).
func TestHeap10kUsers(t *testing.T) {
	if testing.Short() || race {
		t.Skip("creates 10,000 users; skipped with -short and -race")
	}
	s := open(t, filepath.Join(t.TempDir(), "heap.db"))
	m := storetest.HeapAfter(t, s, 10000)
	st := s.Stats()
	t.Logf("10,000 users: HeapAlloc %.1f MiB, HeapInuse %.1f MiB, Sys %.1f MiB, process %s; %d writes in %d commits",
		float64(m.HeapAlloc)/(1<<20), float64(m.HeapInuse)/(1<<20), float64(m.Sys)/(1<<20), rss(), st.Requests, st.Commits)
	if m.HeapAlloc > 64<<20 {
		t.Errorf("live heap %d MiB after 10,000 users, want well under 64 MiB", m.HeapAlloc>>20)
	}
}

// rss returns the process's resident set size as Linux reports it, or "?".
func rss() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return "VmRSS " + strings.TrimSpace(v)
		}
	}
	return "?"
}

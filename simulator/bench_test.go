package simulator

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/simulator/directory"
)

// BenchmarkInitialSync provisions 10,000 users and 1,000 groups the way Okta
// OIN does (lookup and create each user, create each group, add members in
// batches of 100 with a rename after each) into the in-process reference
// server on SQLite in a temporary directory, then reads everything back. It
// keeps what it created: the clean-up is no part of an initial sync.
//
//	go test ./simulator -run '^$' -bench InitialSync -benchtime 1x -cpu 2
func BenchmarkInitialSync(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		l, err := server.StartLocal(context.Background(), server.LocalOptions{Profile: "rfc", Lenient: true, DataDSN: filepath.Join(b.TempDir(), "bench.db")})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		run, err := Run(context.Background(), Config{IdP: "okta-oin", Target: l.BaseURL, Token: l.Token, Users: 10_000, Groups: 1_000, Seed: 1, Scenario: "initial-sync", Concurrency: 8, Keep: true})
		el := time.Since(start)
		b.StopTimer()
		l.Close()
		if err != nil {
			b.Fatal(err)
		}
		if run.Failed() {
			b.Fatalf("initial sync failed: %+v", run.RequiredFailures())
		}
		n := 0
		for _, op := range run.Operations {
			n += op.Count
			b.Logf("%-16s %6d requests  p50 %-10s p95 %-10s p99 %s", op.Operation, op.Count, op.P50, op.P95, op.P99)
		}
		b.ReportMetric(float64(n), "requests")
		b.ReportMetric(float64(n)/el.Seconds(), "requests/s")
		b.ReportMetric(el.Seconds(), "s/sync")
		b.StartTimer()
	}
}

// BenchmarkState100k reports the heap a 100,000-user, 1,000-group run holds
// for the directory and the simulator's record of target ids, after a full
// initial sync would have filled it.
func BenchmarkState100k(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := directory.New(directory.Options{Seed: 1, Users: 100_000, Groups: 1_000})
		st := newState(d)
		for i := 0; i < d.Users(); i++ {
			st.setUserID(i, d.User(i).ObjectID)
		}
		for j := 0; j < d.Groups(); j++ {
			st.setGroupID(j, d.Group(j).ObjectID)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		runtime.KeepAlive(st)
	}
}

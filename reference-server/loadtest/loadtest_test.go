package loadtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	pprofile "github.com/google/pprof/profile"
)

func TestRunSmall(t *testing.T) {
	n := 200
	if v := os.Getenv("SCIMLAB_BENCH_USERS"); v != "" {
		// SCIMLAB_BENCH_USERS=10000 go test -run TestRunSmall -v ./reference-server/loadtest
		n, _ = strconv.Atoi(v)
	}
	conc := 4
	if v := os.Getenv("SCIMLAB_BENCH_CONCURRENCY"); v != "" {
		conc, _ = strconv.Atoi(v)
	}
	profiles := t.TempDir()
	res, err := Run(context.Background(), Config{Users: n, Concurrency: conc, DataDSN: os.Getenv("SCIMLAB_BENCH_DSN"), CPUProfileDir: profiles})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Print(&out, res)
	t.Log("\n" + out.String())
	if res.FirstError != "" {
		t.Fatalf("errors: %s", res.FirstError)
	}
	if !res.InProcess || len(res.Workloads) != 9 || res.Trivial.OpsPerSec <= 0 || res.PagingUsersPerTrivial <= 0 || res.MemberAddVsPatch <= 0 || res.PeakHeapInuse == 0 {
		t.Errorf("incomplete result: %+v", res)
	}
	if runtime.GOOS == "linux" && (res.PeakRSS < 1<<20 || !strings.Contains(out.String(), "peak resident memory")) {
		t.Errorf("peak resident memory %d bytes from the server's /metrics", res.PeakRSS)
	}
	for _, w := range res.Workloads {
		if w.Ops == 0 || w.Errors != 0 {
			t.Errorf("%s: %d ops, %d errors", w.Name, w.Ops, w.Errors)
		}
		// Every workload but the reads wrote to the durable store.
		writes := !strings.HasPrefix(w.Name, "get") && !strings.HasPrefix(w.Name, "lookup") && !strings.HasPrefix(w.Name, "page")
		if writes != (w.WritesPerCommit >= 1) || writes != (w.SyncMean > 0) || writes != (w.WriterBusy > 0) {
			t.Errorf("%s: %.1f writes per commit, fdatasync %s", w.Name, w.WritesPerCommit, w.SyncMean)
		}
	}
	// The durable trivial handler ran on the same disk and is in the table
	// and in the lines of the writes, which are read against it.
	if d := res.Durable; d.Ops != n || d.Errors != 0 || d.Ratio <= 0 || d.WritesPerCommit < 1 || d.SyncMean <= 0 {
		t.Errorf("durable trivial handler: %+v", d)
	}
	if !strings.Contains(out.String(), "durable trivial handler  ") || !strings.Contains(out.String(), "no durable write on this machine and disk goes faster than") ||
		!strings.Contains(out.String(), "of the durable trivial handler\n") {
		t.Errorf("no durable trivial handler in:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "writes per commit, each commit's fdatasync") || !strings.Contains(out.String(), "writer busy") {
		t.Errorf("no group-commit lines in:\n%s", out.String())
	}
	// One CPU profile per workload, the trivial handler's runs left out.
	files, err := filepath.Glob(filepath.Join(profiles, "*.pprof"))
	if err != nil || len(files) != len(res.Workloads) {
		t.Errorf("%d CPU profiles for %d workloads (%v)", len(files), len(res.Workloads), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if _, perr := pprofile.ParseData(b); err != nil || perr != nil {
			t.Errorf("%s: not a CPU profile (%v, %v)", f, err, perr)
		}
	}
	if len(files) > 0 && filepath.Base(files[0]) != "01-create-user-post-users.pprof" {
		t.Errorf("first profile named %s", filepath.Base(files[0]))
	}
	if !strings.Contains(out.String(), "× trivial") {
		t.Errorf("table: %s", out.String())
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080/scim/v2", "https://example.com/scim/v2", "http://192.168.1.5/scim/v2", "ftp://127.0.0.1/", "::"} {
		if _, err := Run(context.Background(), Config{BaseURL: u, Token: "x", Users: 1}); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:1/scim/v2", "http://localhost:1/x", "http://[::1]:1/"} {
		if err := checkLoopback(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
}

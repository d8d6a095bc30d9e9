package server

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/reference-server/store/postgres"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// latencyBuckets are the histogram upper bounds in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// metrics counts requests and their latency by route pattern, method and
// status, and writes them in the Prometheus text exposition format.
type metrics struct {
	mu     sync.Mutex
	series map[seriesKey]*series
}

type seriesKey struct {
	route, method string
	status        int
}

type series struct {
	count   uint64
	sum     float64
	buckets []uint64 // cumulative counts are computed when written
}

func newMetrics() *metrics { return &metrics{series: map[seriesKey]*series{}} }

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE":
	default:
		method = "other"
	}
	sec := d.Seconds()
	k := seriesKey{route, method, status}
	m.mu.Lock()
	s := m.series[k]
	if s == nil {
		s = &series{buckets: make([]uint64, len(latencyBuckets))}
		m.series[k] = s
	}
	s.count++
	s.sum += sec
	for i, b := range latencyBuckets {
		if sec <= b {
			s.buckets[i]++
			break
		}
	}
	m.mu.Unlock()
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	keys := make([]seriesKey, 0, len(m.series))
	snap := make(map[seriesKey]series, len(m.series))
	for k, s := range m.series {
		keys = append(keys, k)
		snap[k] = series{count: s.count, sum: s.sum, buckets: slices.Clone(s.buckets)}
	}
	m.mu.Unlock()
	slices.SortFunc(keys, func(a, b seriesKey) int {
		if c := strings.Compare(a.route, b.route); c != 0 {
			return c
		}
		if c := strings.Compare(a.method, b.method); c != 0 {
			return c
		}
		return a.status - b.status
	})
	var b strings.Builder
	b.WriteString("# HELP scimlab_http_requests_total SCIM requests served, by route pattern, method and status.\n")
	b.WriteString("# TYPE scimlab_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "scimlab_http_requests_total{%s} %d\n", labels(k), snap[k].count)
	}
	b.WriteString("# HELP scimlab_http_request_duration_seconds SCIM request latency, by route pattern, method and status.\n")
	b.WriteString("# TYPE scimlab_http_request_duration_seconds histogram\n")
	for _, k := range keys {
		s := snap[k]
		l := labels(k)
		var cum uint64
		for i, ub := range latencyBuckets {
			cum += s.buckets[i]
			fmt.Fprintf(&b, "scimlab_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", l, strconv.FormatFloat(ub, 'g', -1, 64), cum)
		}
		fmt.Fprintf(&b, "scimlab_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", l, s.count)
		fmt.Fprintf(&b, "scimlab_http_request_duration_seconds_sum{%s} %s\n", l, strconv.FormatFloat(s.sum, 'g', -1, 64))
		fmt.Fprintf(&b, "scimlab_http_request_duration_seconds_count{%s} %d\n", l, s.count)
	}
	io.WriteString(w, b.String())
}

func labels(k seriesKey) string {
	return `route="` + escapeLabel(k.route) + `",method="` + k.method + `",status="` + strconv.Itoa(k.status) + `"`
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// writeProcessMetrics writes the process's resident memory, now and at its
// peak (Linux: VmRSS and VmHWM of /proc/self/status; elsewhere nothing). The
// peak is what `scimlab bench` reports as the server's memory.
func writeProcessMetrics(w io.Writer) {
	rss, peak, ok := residentMemory()
	if !ok {
		return
	}
	fmt.Fprintf(w, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %d\n", rss)
	fmt.Fprintf(w, "# HELP scimlab_process_resident_memory_peak_bytes Largest resident memory size since the process started (VmHWM).\n# TYPE scimlab_process_resident_memory_peak_bytes gauge\nscimlab_process_resident_memory_peak_bytes %d\n", peak)
}

// residentMemory reads VmRSS and VmHWM from /proc/self/status.
func residentMemory() (rss, peak int64, ok bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	rss, peak = -1, -1
	for _, line := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(line, ":")
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak, rss >= 0 && peak >= 0
}

// writeStoreMetrics writes the SQLite store's group-commit counters: writes
// per commit and the mean fdatasync are their ratios, and the flush latency
// is what bounds durable writes at low concurrency.
func writeStoreMetrics(w io.Writer, st sqlite.Stats) {
	var b strings.Builder
	counter := func(name, help string, v string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %s\n", name, help, name, name, v)
	}
	counter("scimlab_store_writes_total", "Write requests the store ran (committed or failed on their own).", strconv.FormatInt(st.Requests, 10))
	counter("scimlab_store_commits_total", "Transactions the store committed for them (writes_total/commits_total: writes per commit).", strconv.FormatInt(st.Commits, 10))
	counter("scimlab_store_wal_syncs_total", "fdatasync calls on the write-ahead log that made commits durable.", strconv.FormatInt(st.Syncs, 10))
	counter("scimlab_store_wal_sync_seconds_total", "Time those calls took, all told.", strconv.FormatFloat(st.SyncWait.Seconds(), 'g', -1, 64))
	counter("scimlab_store_writer_busy_seconds_total", "Time the single write connection spent running writes and committing them (its rate near 1: writes are bound by it).", strconv.FormatFloat(st.Busy.Seconds(), 'g', -1, 64))
	counter("scimlab_store_checkpoints_total", "WAL checkpoints run in the background.", strconv.FormatInt(st.Checkpoints, 10))
	io.WriteString(w, b.String())
}

// writePoolMetrics writes the PostgreSQL store's connection-pool state: a
// replica whose calls often wait for a connection needs a larger
// pool_max_conns (or the database is the bottleneck).
func writePoolMetrics(w io.Writer, st postgres.Stats) {
	var b strings.Builder
	metric := func(kind, name, help, v string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, kind, name, v)
	}
	metric("gauge", "scimlab_store_pool_max_connections", "The PostgreSQL connection pool's size (pool_max_conns).", strconv.Itoa(int(st.MaxConns)))
	fmt.Fprintf(&b, "# HELP scimlab_store_pool_connections PostgreSQL connections open now, by state.\n# TYPE scimlab_store_pool_connections gauge\n")
	fmt.Fprintf(&b, "scimlab_store_pool_connections{state=\"acquired\"} %d\nscimlab_store_pool_connections{state=\"idle\"} %d\n", st.AcquiredConns, st.IdleConns)
	metric("counter", "scimlab_store_pool_acquires_total", "Times a call took a connection from the pool.", strconv.FormatInt(st.Acquires, 10))
	metric("counter", "scimlab_store_pool_empty_acquires_total", "Of those, times no connection was free and the call waited for one (or opened one).", strconv.FormatInt(st.EmptyAcquires, 10))
	metric("counter", "scimlab_store_pool_acquire_seconds_total", "Time calls spent getting a connection, all told.", strconv.FormatFloat(st.AcquireWait.Seconds(), 'g', -1, 64))
	io.WriteString(w, b.String())
}

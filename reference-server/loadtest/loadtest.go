// Package loadtest measures the reference server's speed and memory against
// a trivial Go HTTP handler on the same machine, so that its numbers mean
// something on any hardware: each workload is reported as operations per
// second, p50/p99 latency, and its ratio to the trivial handler's requests
// per second under the same client and concurrency.
//
// It only ever sends traffic to loopback addresses: the trivial handler and,
// unless a loopback base URL is given, a reference server it starts
// in-process (server.StartLocal) on a SQLite file in a temporary directory.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reference-server/scim"
	"github.com/scimlab/scimlab/reference-server/store/sqlite"
)

// Config says what to measure.
type Config struct {
	// BaseURL and Token name a running server (loopback only). Empty: start
	// one in-process on a SQLite file in a temporary directory.
	BaseURL string
	Token   string
	// Profile is the in-process server's profile ("" = rfc).
	Profile string
	// DataDSN is the in-process server's SQLite database ("" = a file in a
	// temporary directory, durable like `scimlab serve`; ":memory:" shows
	// what the disk's fsync costs).
	DataDSN string
	// Concurrency is the number of keep-alive clients (default 16).
	Concurrency int
	// Users is N: users created, and members added to one group (default 10,000).
	Users int
	// MemberOps is how many single-member changes are measured on the full
	// group (default min(Users, 2,000)).
	MemberOps int
	// Progress, when set, receives a line as each workload starts.
	Progress func(string)
	// TrivialURL, when set, names a trivial handler already running on
	// loopback (TrivialServer, run by another process) to measure
	// instead of one in this process. A server in another process should be
	// compared with a handler in another process: one that shares the load
	// generator's process is spared the switches between processes.
	TrivialURL string
	// DurableURL, when set, names the durable trivial handler (durable.go)
	// running in that process, to measure instead of one in this process.
	DurableURL string
	// CPUProfileDir, when set, receives one CPU profile per measured workload
	// (NN-name.pprof, for `go tool pprof`). With the in-process server it
	// shows the server and the load generator together.
	CPUProfileDir string
	// Keep leaves the users and the group the run creates on BaseURL's
	// server. Otherwise, once the workloads are done (or one failed, or ctx
	// was cancelled), the run deletes them (Result.Cleanup), within
	// CleanupTimeout (0 = DefaultCleanupTimeout) of a context of its own.
	Keep           bool
	CleanupTimeout time.Duration
}

// Workload is one measured workload.
type Workload struct {
	Name      string
	Ops       int
	Errors    int
	Elapsed   time.Duration
	OpsPerSec float64
	P50, P99  time.Duration
	// TrivialOpsPerSec is the trivial handler's rate measured just before
	// this workload (the machine's speed can drift during a run).
	TrivialOpsPerSec float64
	// Ratio is OpsPerSec divided by TrivialOpsPerSec.
	Ratio float64
	// Note explains a derived figure (paging: users per second).
	Note string
	// WritesPerCommit and SyncMean describe the in-process SQLite store's
	// group commit during a workload that wrote: write requests per commit
	// and the mean time of the fdatasync that made each commit durable.
	WritesPerCommit float64
	SyncMean        time.Duration
	// WriterBusy is the share of the workload's time the store's single
	// write connection was running writes or committing them (near 1: the
	// writes are bound by it, not by the disk or the CPU).
	WriterBusy float64
}

// Result is what Run measured.
type Result struct {
	Target    string
	InProcess bool
	// TrivialElsewhere: the trivial handler ran in another process (Config.TrivialURL).
	TrivialElsewhere bool
	DataDSN          string // in-process only
	Concurrency      int
	Users            int
	GOMAXPROCS       int
	Trivial          Workload
	// Durable is the durable trivial handler (durable.go): the trivial
	// handler after a group-committed fdatasync of the request's body, the
	// ceiling of any durable write on this machine and disk.
	Durable Workload
	// DurableDir is where its log was synced ("" = the system's temporary
	// directory).
	DurableDir string
	Workloads  []Workload
	// PagingUsersPerTrivial is users returned per second while paging with
	// count=100, divided by the trivial handler's requests per second.
	PagingUsersPerTrivial float64
	// MemberAddVsPatch is the cost of adding one member to the N-member
	// group relative to a user PATCH (their ops/s ratio; 1 = as cheap).
	MemberAddVsPatch float64
	// PeakHeapInuse and PeakSys are the largest runtime.MemStats values
	// sampled during the run (in-process only; the load generator shares
	// the process, so they include its memory too).
	PeakHeapInuse, PeakSys uint64
	// PeakRSS is the server process's peak resident memory, from its
	// /metrics (scimlab_process_resident_memory_peak_bytes); 0 when the
	// target does not publish it. In-process it is this process's, load
	// generator included.
	PeakRSS int64
	// FirstError is the first unexpected response, if any.
	FirstError string
	// Cleanup is what became of the users and group created on a target
	// (nil in-process: the temporary database is removed). Its requests
	// are in no workload's numbers.
	Cleanup *Cleanup
}

// Run measures the trivial handler and then each workload.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Users <= 0 {
		cfg.Users = 10000
	}
	if cfg.MemberOps <= 0 {
		cfg.MemberOps = min(cfg.Users, 2000)
	}
	cfg.MemberOps = min(cfg.MemberOps, cfg.Users)
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	res := &Result{Concurrency: cfg.Concurrency, Users: cfg.Users, GOMAXPROCS: runtime.GOMAXPROCS(0)}

	base, token := cfg.BaseURL, cfg.Token
	var storeStats func() sqlite.Stats // the in-process store's writer counters
	if base == "" {
		dir, err := os.MkdirTemp("", "scimlab-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		dsn := cfg.DataDSN
		if dsn == "" {
			dsn = dir + "/bench.db"
		}
		l, err := server.StartLocal(ctx, server.LocalOptions{Profile: cfg.Profile, DataDSN: dsn})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		if st, ok := l.Store.(interface{ Stats() sqlite.Stats }); ok {
			storeStats = st.Stats
		}
		base, token = l.BaseURL, l.Token
		res.InProcess = true
		res.DataDSN = dsn
	} else if err := checkLoopback(base); err != nil {
		return nil, err
	}
	base = strings.TrimRight(base, "/")
	res.Target = base

	var stopSampling func()
	if res.InProcess {
		stopSampling = sampleMemory(res)
		defer stopSampling()
	}

	c := &client{
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        cfg.Concurrency * 2,
			MaxIdleConnsPerHost: cfg.Concurrency * 2,
			MaxConnsPerHost:     cfg.Concurrency * 2,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}, Timeout: 60 * time.Second},
		token:      token,
		conc:       cfg.Concurrency,
		profileDir: cfg.CPUProfileDir,
	}
	defer c.http.CloseIdleConnections()

	// The trivial handler: a fixed small JSON body.
	progress("trivial handler")
	trivURL := cfg.TrivialURL
	res.TrivialElsewhere = trivURL != ""
	if trivURL == "" {
		triv, err := startTrivial()
		if err != nil {
			return nil, err
		}
		defer triv.Close()
		trivURL = "http://" + triv.Addr().String() + "/"
	} else if err := checkLoopback(trivURL); err != nil {
		return nil, err
	}
	res.Trivial = c.run(ctx, "trivial handler", cfg.Users, func(i int) (time.Duration, error) {
		return c.do(ctx, "GET", trivURL, nil, 200, nil)
	})
	if res.Trivial.Errors > 0 {
		return nil, fmt.Errorf("loadtest: the trivial handler failed: %s", c.firstErr())
	}
	trivialRPS := res.Trivial.OpsPerSec
	// Each workload is compared with a trivial burst run just before it, so
	// that a machine whose speed drifts (other work, thermal limits) still
	// yields meaningful ratios.
	var before sqlite.Stats // the store's counters as the next workload starts
	calibrate := func() {
		w := c.run(ctx, "trivial handler", min(cfg.Users, 3000), func(i int) (time.Duration, error) {
			return c.do(ctx, "GET", trivURL, nil, 200, nil)
		})
		if w.OpsPerSec > 0 {
			trivialRPS = w.OpsPerSec
		}
		if storeStats != nil {
			before = storeStats()
		}
	}
	add := func(w Workload) {
		w.TrivialOpsPerSec = trivialRPS
		if trivialRPS > 0 {
			w.Ratio = w.OpsPerSec / trivialRPS
		}
		res.Workloads = append(res.Workloads, w)
	}
	// addWrites adds a workload that writes, with what the store's group
	// commit did meanwhile (reads leave it out: the server's own token-use
	// writes would show there).
	addWrites := func(w Workload) {
		if storeStats != nil {
			after := storeStats()
			if commits := after.Commits - before.Commits; commits > 0 {
				w.WritesPerCommit = float64(after.Requests-before.Requests) / float64(commits)
			}
			if syncs := after.Syncs - before.Syncs; syncs > 0 {
				w.SyncMean = (after.SyncWait - before.SyncWait) / time.Duration(syncs)
			}
			if w.Elapsed > 0 {
				w.WriterBusy = float64(after.Busy-before.Busy) / float64(w.Elapsed)
			}
		}
		add(w)
	}

	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	ids := make([]string, cfg.Users)
	names := make([]string, cfg.Users)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%s-%d@example.test", run, i)
	}
	userBody := func(i int) []byte {
		return fmt.Appendf(nil, `{"schemas":["%s"],"userName":%q,"name":{"givenName":"Bench","familyName":"User %d"},"emails":[{"value":%q,"type":"work","primary":true}],"active":true,"externalId":"ext-%s-%d"}`,
			scim.UserSchema, names[i], i, names[i], run, i)
	}

	// The durable trivial handler, sent the bodies the create workload sends.
	progress("durable trivial handler")
	durURL, durLog, stopDurable := cfg.DurableURL, (*groupLog)(nil), func() {}
	if durURL == "" {
		res.DurableDir = durableDir(res.DataDSN)
		var err error
		durURL, durLog, stopDurable, err = startDurable(res.DurableDir)
		if err != nil {
			return nil, fmt.Errorf("loadtest: the durable trivial handler: %w", err)
		}
	} else if err := checkLoopback(durURL); err != nil {
		return nil, err
	}
	calibrate()
	res.Durable = c.run(ctx, "durable trivial handler", cfg.Users, func(i int) (time.Duration, error) {
		return c.do(ctx, "POST", durURL, userBody(i), 201, nil)
	})
	stopDurable()
	if res.Durable.Errors > 0 {
		return nil, fmt.Errorf("loadtest: the durable trivial handler failed: %s", c.firstErr())
	}
	res.Durable.TrivialOpsPerSec = trivialRPS
	if trivialRPS > 0 {
		res.Durable.Ratio = res.Durable.OpsPerSec / trivialRPS
	}
	if durLog != nil {
		res.Durable.WritesPerCommit, res.Durable.SyncMean = durLog.stats()
	}

	// What the run creates on a target is deleted when it ends, however it
	// ends (Config.Keep: left).
	mine := &made{userNames: names, users: make([]created, cfg.Users), userIDs: ids,
		groupName: "bench-" + run, pattern: "bench-" + run + "-*@example.test"}
	if !res.InProcess {
		defer func() {
			if cfg.Keep {
				res.Cleanup = mine.kept()
				return
			}
			progress("clean-up")
			res.Cleanup = c.cleanup(ctx, base, mine, cfg.CleanupTimeout)
		}()
	}

	// Create N users.
	progress(fmt.Sprintf("create %d users", cfg.Users))
	calibrate()
	addWrites(c.run(ctx, "create user (POST /Users)", cfg.Users, func(i int) (time.Duration, error) {
		var out struct {
			ID string `json:"id"`
		}
		mine.users[i] = maybeCreated
		st, d, err := c.send(ctx, "POST", base+"/Users", userBody(i), 201, &out)
		ids[i] = out.ID
		if mine.users[i] = creation(st, out.ID); mine.users[i] == createdNoID && err == nil {
			err = fmt.Errorf("POST %s/Users: 201 without an id", base)
		}
		return d, err
	}))
	if c.errors.Load() > 0 {
		return res, fmt.Errorf("loadtest: creating users failed: %s", c.firstErr())
	}

	progress("get by id")
	calibrate()
	add(c.run(ctx, "get by id (GET /Users/{id})", cfg.Users, func(i int) (time.Duration, error) {
		return c.do(ctx, "GET", base+"/Users/"+ids[(i*7919)%len(ids)], nil, 200, nil)
	}))

	progress("userName lookup")
	calibrate()
	add(c.run(ctx, "lookup (filter userName eq)", cfg.Users, func(i int) (time.Duration, error) {
		f := url.QueryEscape(`userName eq "` + names[(i*7919)%len(names)] + `"`)
		return c.do(ctx, "GET", base+"/Users?filter="+f+"&startIndex=1&count=100", nil, 200, nil)
	}))

	progress("paging")
	pages := (cfg.Users + 99) / 100
	// One sequential page first. The SQLite store prepares a statement the
	// first time it sees its shape, and (as of this writing) does so on a
	// second pool connection while List holds one for its read transaction:
	// 16 first-time Lists at once can exhaust the pool and wait until their
	// deadline. A warm-up request keeps that store bug out of the numbers.
	if _, err := c.do(ctx, "GET", base+"/Users?startIndex=1&count=100", nil, 200, nil); err != nil {
		return res, fmt.Errorf("loadtest: paging: %w", err)
	}
	passes := max(1, min(20, 2000/pages))
	var returned atomic.Int64
	calibrate()
	pw := c.run(ctx, "page through users (count=100)", pages*passes, func(i int) (time.Duration, error) {
		start := (i%pages)*100 + 1
		var lr struct {
			Resources []json.RawMessage `json:"Resources"`
		}
		d, err := c.do(ctx, "GET", base+"/Users?startIndex="+strconv.Itoa(start)+"&count=100", nil, 200, &lr)
		returned.Add(int64(len(lr.Resources)))
		return d, err
	})
	usersPerSec := float64(returned.Load()) / pw.Elapsed.Seconds()
	pw.TrivialOpsPerSec = trivialRPS
	if trivialRPS > 0 {
		res.PagingUsersPerTrivial = usersPerSec / trivialRPS
	}
	pw.Note = fmt.Sprintf("%.0f users/s = %.2f users per trivial request", usersPerSec, res.PagingUsersPerTrivial)
	add(pw)

	progress("PATCH active")
	calibrate()
	patchW := c.run(ctx, "PATCH user active", cfg.Users, func(i int) (time.Duration, error) {
		body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"replace","path":"active","value":%t}]}`, scim.PatchOpSchema, i%2 == 1)
		return c.do(ctx, "PATCH", base+"/Users/"+ids[i], []byte(body), 200, nil)
	})
	addWrites(patchW)

	progress(fmt.Sprintf("fill one group to %d members", cfg.Users))
	var g struct {
		ID string `json:"id"`
	}
	mine.group = maybeCreated
	st, _, err := c.send(ctx, "POST", base+"/Groups", []byte(fmt.Sprintf(`{"schemas":["%s"],"displayName":%q,"members":[]}`, scim.GroupSchema, mine.groupName)), 201, &g)
	mine.group, mine.groupID = creation(st, g.ID), g.ID
	if err == nil && g.ID == "" {
		err = errors.New("201 without an id")
	}
	if err != nil {
		return res, fmt.Errorf("loadtest: creating the group: %w", err)
	}
	gURL := base + "/Groups/" + g.ID + "?excludedAttributes=members"
	addBody := func(id string) []byte {
		return []byte(fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"add","path":"members","value":[{"value":%q}]}]}`, scim.PatchOpSchema, id))
	}
	calibrate()
	addWrites(c.run(ctx, "add member (group growing to N)", cfg.Users, func(i int) (time.Duration, error) {
		return c.do(ctx, "PATCH", gURL, addBody(ids[i]), 200, nil)
	}))

	progress("single-member changes on the full group")
	m := cfg.MemberOps
	calibrate()
	addWrites(c.run(ctx, fmt.Sprintf("remove 1 member (%d-member group)", cfg.Users), m, func(i int) (time.Duration, error) {
		path, _ := json.Marshal(`members[value eq "` + ids[i] + `"]`)
		body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"remove","path":%s}]}`, scim.PatchOpSchema, path)
		return c.do(ctx, "PATCH", gURL, []byte(body), 200, nil)
	}))
	calibrate()
	addW := c.run(ctx, fmt.Sprintf("add 1 member (%d-member group)", cfg.Users), m, func(i int) (time.Duration, error) {
		return c.do(ctx, "PATCH", gURL, addBody(ids[i]), 200, nil)
	})
	addWrites(addW)
	progress("user PATCH for comparison")
	calibrate()
	cmpW := c.run(ctx, "PATCH user (comparison)", m, func(i int) (time.Duration, error) {
		body := fmt.Sprintf(`{"schemas":["%s"],"Operations":[{"op":"replace","path":"active","value":%t}]}`, scim.PatchOpSchema, i%2 == 0)
		return c.do(ctx, "PATCH", base+"/Users/"+ids[i], []byte(body), 200, nil)
	})
	addWrites(cmpW)
	if addW.OpsPerSec > 0 {
		res.MemberAddVsPatch = cmpW.OpsPerSec / addW.OpsPerSec
	}
	res.FirstError = c.firstErr()
	if stopSampling != nil {
		stopSampling()
	}
	res.PeakRSS = c.peakRSS(ctx, base)
	return res, nil
}

// peakRSS reads the server's peak resident memory from /metrics at the
// root of its base URL; 0 when it has none.
func (c *client) peakRSS(ctx context.Context, base string) int64 {
	u, err := url.Parse(base)
	if err != nil {
		return 0
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u.Scheme+"://"+u.Host+"/metrics", nil)
	if err != nil {
		return 0
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil || res.StatusCode != http.StatusOK {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "scimlab_process_resident_memory_peak_bytes "); ok {
			n, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(n)
		}
	}
	return 0
}

// Print writes the result as a table.
func Print(w io.Writer, r *Result) {
	where := "external server"
	if r.InProcess {
		where = "in-process server, SQLite " + r.DataDSN
	}
	triv := "in this process"
	if r.TrivialElsewhere {
		triv = "in a process of its own"
	}
	fmt.Fprintf(w, "scimlab bench: %s (%s), %d users, %d concurrent keep-alive clients, GOMAXPROCS=%d, trivial handler %s\n\n", r.Target, where, r.Users, r.Concurrency, r.GOMAXPROCS, triv)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tops\terrors\tops/s\tp50\tp99\ttrivial ops/s\t× trivial\t")
	row := func(x Workload) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%.0f\t%.2f\t\n", x.Name, x.Ops, x.Errors, x.OpsPerSec, round(x.P50), round(x.P99), x.TrivialOpsPerSec, x.Ratio)
	}
	t := r.Trivial
	t.Ratio = 1
	t.TrivialOpsPerSec = t.OpsPerSec
	row(t)
	if r.Durable.Ops > 0 {
		row(r.Durable)
	}
	for _, x := range r.Workloads {
		row(x)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, x := range r.Workloads {
		if x.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", x.Name, x.Note)
		}
	}
	if d := r.Durable; d.Ops > 0 {
		dir := r.DurableDir
		if dir == "" {
			dir = os.TempDir()
		}
		how := "in " + dir
		if d.WritesPerCommit > 0 {
			how = fmt.Sprintf("%.1f writes per sync, each %s, in %s", d.WritesPerCommit, round(d.SyncMean), dir)
		}
		fmt.Fprintf(w, "durable trivial handler: the trivial handler after a group-committed fdatasync of the request's body (%s): no durable write on this machine and disk goes faster than %.2f× trivial\n",
			how, d.Ratio)
	}
	for _, x := range r.Workloads {
		if x.WritesPerCommit > 0 {
			fmt.Fprintf(w, "%s: %.1f writes per commit", x.Name, x.WritesPerCommit)
			if x.SyncMean > 0 {
				fmt.Fprintf(w, ", each commit's fdatasync %s", round(x.SyncMean))
			}
			if x.WriterBusy > 0 {
				fmt.Fprintf(w, ", writer busy %.0f%% of the time", 100*x.WriterBusy)
			}
			if r.Durable.Ratio > 0 && x.SyncMean > 0 {
				fmt.Fprintf(w, ", %.2f of the durable trivial handler", x.Ratio/r.Durable.Ratio)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "one member added to the %d-member group costs %.2f× a user PATCH\n", r.Users, r.MemberAddVsPatch)
	const mib = 1 << 20
	switch {
	case r.InProcess:
		if r.PeakRSS > 0 {
			fmt.Fprintf(w, "peak resident memory %.1f MiB, ", float64(r.PeakRSS)/mib)
		}
		fmt.Fprintf(w, "peak heap in use %.1f MiB, peak Sys %.1f MiB (server, load generator and trivial handler share the process; `scimlab serve` alone: run it and pass --target)\n",
			float64(r.PeakHeapInuse)/mib, float64(r.PeakSys)/mib)
	case r.PeakRSS > 0:
		fmt.Fprintf(w, "server peak resident memory %.1f MiB (its /metrics)\n", float64(r.PeakRSS)/mib)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	PrintCleanup(w, r)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d > 100*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// CheckLoopback refuses a base URL whose host is not a loopback address:
// the load command loads nothing else.
func CheckLoopback(base string) error { return checkLoopback(base) }

// checkLoopback refuses base URLs whose host is not a loopback address.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("loadtest: %q is not an http(s) base URL", base)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadtest: refusing to load %s: only loopback targets (127.0.0.0/8, ::1, localhost) may be loaded", host)
	}
	return nil
}

// startTrivial runs TrivialServer on loopback.
func startTrivial() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go TrivialServer().Serve(ln)
	return ln, nil
}

// TrivialServer serves the trivial handler every ratio is measured
// against: a fixed small JSON body (an empty SCIM ListResponse).
func TrivialServer() *http.Server {
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	return &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", scim.MediaType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
}

// sampleMemory records peak MemStats until the returned function is called.
func sampleMemory(res *Result) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	var once sync.Once
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		res.PeakHeapInuse = max(res.PeakHeapInuse, ms.HeapInuse)
		res.PeakSys = max(res.PeakSys, ms.Sys)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() {
		once.Do(func() {
			close(stop)
			<-done
		})
	}
}

// client runs requests with a fixed number of concurrent workers.
type client struct {
	http   *http.Client
	token  string
	conc   int
	errors atomic.Int64
	errMu  sync.Mutex
	first  string
	// profileDir receives a CPU profile of each workload but the trivial
	// handler's; profiled counts them.
	profileDir string
	profiled   int
}

// fail counts an error and keeps the first.
func (c *client) fail(err error) {
	c.errors.Add(1)
	c.errMu.Lock()
	if c.first == "" {
		c.first = err.Error()
	}
	c.errMu.Unlock()
}

// startProfile starts the CPU profile of the named workload.
func (c *client) startProfile(name string) (stop func(), err error) {
	c.profiled++
	slug := strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, name), "-")
	for strings.Contains(slug, "--") {
		slug = strings.ReplaceAll(slug, "--", "-")
	}
	f, err := os.Create(filepath.Join(c.profileDir, fmt.Sprintf("%02d-%s.pprof", c.profiled, slug)))
	if err != nil {
		return nil, fmt.Errorf("loadtest: CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("loadtest: CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func (c *client) firstErr() string {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.first
}

// do sends one request, checks the status and decodes the body into out.
func (c *client) do(ctx context.Context, method, u string, body []byte, want int, out any) (time.Duration, error) {
	_, d, err := c.send(ctx, method, u, body, want, out)
	return d, err
}

// send is do that also returns the response's status (0: no response).
func (c *client) send(ctx context.Context, method, u string, body []byte, want int, out any) (int, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", scim.MediaType)
	if body != nil {
		req.Header.Set("Content-Type", scim.MediaType)
	}
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return 0, time.Since(start), err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err != nil {
		return res.StatusCode, d, err
	}
	if res.StatusCode != want {
		return res.StatusCode, d, fmt.Errorf("%s %s: status %d, want %d: %.300s", method, redactURL(u), res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, d, fmt.Errorf("%s %s: %w", method, redactURL(u), err)
		}
	}
	return res.StatusCode, d, nil
}

func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// run executes n operations with c.conc workers and measures them.
func (c *client) run(ctx context.Context, name string, n int, fn func(i int) (time.Duration, error)) Workload {
	var next atomic.Int64
	lat := make([][]time.Duration, c.conc)
	var errs atomic.Int64
	var wg sync.WaitGroup
	if c.profileDir != "" && !strings.HasSuffix(name, "trivial handler") {
		stop, err := c.startProfile(name)
		if err != nil {
			c.fail(err)
		} else {
			defer stop()
		}
	}
	start := time.Now()
	for w := range c.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/c.conc+1)
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					break
				}
				d, err := fn(i)
				if err != nil {
					errs.Add(1)
					c.fail(err)
					if errors.Is(err, context.Canceled) {
						break
					}
				}
				mine = append(mine, d)
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	w := Workload{Name: name, Ops: len(all), Errors: int(errs.Load()), Elapsed: elapsed}
	if elapsed > 0 {
		w.OpsPerSec = float64(len(all)) / elapsed.Seconds()
	}
	if len(all) > 0 {
		w.P50 = all[len(all)/2]
		w.P99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return w
}

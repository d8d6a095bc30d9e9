package loadtest

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimlab/scimlab/internal/fsync"
	"github.com/scimlab/scimlab/reference-server/scim"
)

// The durable trivial handler is the trivial handler that first makes the
// request's body durable: it appends the body to a log file and answers 201
// only once an fdatasync has covered it. Requests that arrive while a sync
// runs share the next one (group commit), and the log is preallocated and
// overwritten in place, as the SQLite store's write-ahead log is once it has
// reached its size, so that a sync writes data and no file metadata.
//
// It is what any durable server costs on this machine with nothing else to
// do: no parsing, no index, no SQL. Its rate is therefore the ceiling of a
// durable write here, and a write workload's ratio is read against it
// rather than only against the in-memory trivial handler. On a virtual
// disk an fdatasync that takes 0.2 ms on an idle machine can take 1 ms once
// the CPU is busy serving requests, and a closed loop of clients waits for
// it on every write.
//
// One sync at a time was measured to be the fastest: with two or more in
// flight each syncs fewer writes and the disk serializes the flushes
// (2026-11, 2 cores: 11,400 writes/s with one, 4,000-5,300 with two to four).

// durableLogSize is the preallocated log, overwritten from its start when
// full (what a request wrote is durable once answered; nobody reads it back).
const durableLogSize = 8 << 20

// maxDurableBody is the most of a request body the log keeps.
const maxDurableBody = 64 << 10

// groupLog appends request bodies to a file and syncs them in groups.
type groupLog struct {
	f *os.File

	mu      sync.Mutex
	cond    *sync.Cond
	pending []byte // appended since the last sync started
	spare   []byte
	filling uint64 // the group being filled: its sync is filling+1
	synced  uint64 // the last group known durable
	syncing bool
	off     int64
	err     error // a failed write or sync; every later request fails

	// Counters for the report, read once the run is over.
	syncs    int64
	writes   int64
	syncTime time.Duration
}

// openGroupLog creates the log in dir, preallocated and synced.
func openGroupLog(dir string) (*groupLog, error) {
	f, err := os.CreateTemp(dir, "scimlab-bench-durable-*.log")
	if err != nil {
		return nil, err
	}
	// Remove the name at once: the open file is all the handler needs, and
	// nothing is left behind however the run ends.
	_ = os.Remove(f.Name())
	zero := make([]byte, 1<<20)
	for off := int64(0); off < durableLogSize; off += int64(len(zero)) {
		if _, err := f.WriteAt(zero, off); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := fsync.Data(f); err != nil {
		f.Close()
		return nil, err
	}
	g := &groupLog{f: f}
	g.cond = sync.NewCond(&g.mu)
	return g, nil
}

// commit appends body and returns once a sync has covered it.
func (g *groupLog) commit(body []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return g.err
	}
	g.pending = append(g.pending, body...)
	g.writes++
	mine := g.filling + 1
	for g.synced < mine && g.err == nil {
		if g.syncing {
			g.cond.Wait()
			continue
		}
		// Nobody is syncing: this caller syncs every pending body, its
		// own and those that arrived during the previous sync.
		g.syncing = true
		buf := g.pending
		g.pending, g.spare = g.spare[:0], nil
		g.filling++
		group := g.filling
		off := g.off
		if off+int64(len(buf)) > durableLogSize {
			off = 0
		}
		g.off = off + int64(len(buf))
		g.mu.Unlock()

		start := time.Now()
		_, err := g.f.WriteAt(buf, off)
		if err == nil {
			err = fsync.Data(g.f)
		}
		d := time.Since(start)

		g.mu.Lock()
		g.syncing = false
		g.syncs++
		g.syncTime += d
		g.spare = buf
		if err != nil {
			g.err = err
		} else {
			g.synced = group
		}
		g.cond.Broadcast()
	}
	return g.err
}

// stats returns the writes per sync and the mean time of a sync (write
// and fdatasync) so far.
func (g *groupLog) stats() (writesPerSync float64, syncMean time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.syncs == 0 {
		return 0, 0
	}
	return float64(g.writes) / float64(g.syncs), g.syncTime / time.Duration(g.syncs)
}

func (g *groupLog) close() error { return g.f.Close() }

// durableHandler answers POST bodies committed to the log with 201 and a
// fixed small JSON body.
func durableHandler(g *groupLog) http.Handler {
	body := []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxDurableBody))
		if err == nil {
			if len(b) == 0 {
				b = []byte{'\n'} // a write is a write, even of nothing
			}
			err = g.commit(b)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", scim.MediaType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	})
}

// startDurable runs the durable trivial handler on loopback with its log in
// dir ("" = the system's temporary directory).
func startDurable(dir string) (url string, g *groupLog, stop func(), err error) {
	g, err = openGroupLog(dir)
	if err != nil {
		return "", nil, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.close()
		return "", nil, nil, err
	}
	srv := &http.Server{Handler: durableHandler(g), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", g, func() {
		_ = srv.Close()
		_ = g.close()
	}, nil
}

// HandlersServer serves, for a load generator in another process, the
// trivial handler at / and the durable trivial handler at /durable (POST),
// its log in the system's temporary directory. Close the returned function
// once the server has stopped.
func HandlersServer() (*http.Server, func(), error) {
	g, err := openGroupLog("")
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", TrivialServer().Handler)
	mux.Handle("POST /durable", durableHandler(g))
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, func() { _ = g.close() }, nil
}

// durableDir is where the durable trivial handler keeps its log: beside the
// in-process store's database file when it has one, so that both sync the
// same disk, else the system's temporary directory (where the bench's own
// database goes by default).
func durableDir(dsn string) string {
	if dsn == "" || dsn == ":memory:" {
		return ""
	}
	for _, p := range []string{"postgres://", "postgresql://", "file:"} {
		if strings.HasPrefix(dsn, p) {
			return ""
		}
	}
	dir := filepath.Dir(dsn)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

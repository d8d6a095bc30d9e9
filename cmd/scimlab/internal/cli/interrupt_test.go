package cli

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	server "github.com/scimlab/scimlab/reference-server"
	"github.com/scimlab/scimlab/reports"
)

// markerWriter keeps what is written to it and closes seen once it holds
// marker: a child's stdout, watched for a line.
type markerWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
	closed bool
}

func newMarkerWriter(marker string) *markerWriter {
	return &markerWriter{marker: marker, seen: make(chan struct{})}
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.closed && strings.Contains(w.buf.String(), w.marker) {
		w.closed = true
		close(w.seen)
	}
	return n, err
}

func (w *markerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// firstInterrupt is what Ginkgo prints (with --verbose) once it has stopped
// the running node on the first interrupt, after cancelling its context.
const firstInterrupt = "First interrupt received"

// leftOnTarget lists the users and groups the reference server l holds.
func leftOnTarget(t *testing.T, l *server.Local) []string {
	t.Helper()
	var names []string
	for _, endpoint := range []string{"/Users", "/Groups"} {
		var list struct {
			Resources []struct{ UserName, DisplayName string }
		}
		getJSON(t, l, endpoint+"?count=1000", &list)
		for _, r := range list.Resources {
			names = append(names, endpoint+" "+r.UserName+r.DisplayName)
		}
	}
	return names
}

// interrupter sends SIGINT to a child process, from a target's handler.
type interrupter struct {
	mu sync.Mutex
	p  *os.Process
}

func (i *interrupter) interrupt() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.p != nil {
		_ = i.p.Signal(os.Interrupt)
	}
}

// interruptedRunCleansUp runs `scimlab test --verbose` in a child process
// against a lenient reference server behind a proxy whose hook (made by
// hook, given the server, what interrupts the child and a channel closed
// once Ginkgo says it stopped the running node) interrupts the run; it checks that the
// run exits 1 and leaves nothing on the server and no orphan.
func interruptedRunCleansUp(t *testing.T, hook func(l *server.Local, in *interrupter, stopped <-chan struct{}) func(int64, http.ResponseWriter, *http.Request) bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs scimlab in a child process")
	}
	l := startReference(t, server.LocalOptions{Lenient: true})
	stdout := newMarkerWriter(firstInterrupt)
	var in interrupter
	target := proxyFor(t, l, hook(l, &in, stdout.seen))
	dir := t.TempDir()
	c, _, errb := childCommand(t, nil, "test", "--verbose", "--target", target, "--token", "t0ken", "--label-filter", "users && MUST", "--report-dir", dir)
	c.Stdout = stdout
	in.mu.Lock()
	err := c.Start()
	in.p = c.Process
	in.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	code := exitCode(t, c.Wait())
	run, err := reports.Load(filepath.Join(dir, "report.json"))
	if err != nil || code != ExitFailures {
		t.Fatalf("exit %d, want 1 and a report (%v)\n%s", code, err, errb.String())
	}
	left := leftOnTarget(t, l)
	if len(left) != 0 || len(run.OrphanDetails) != 0 {
		t.Errorf("the target still holds %v; orphans reported: %+v", left, run.OrphanDetails)
	}
}

// TestFirstInterruptStillCleansUp: Ctrl-C while a clean-up is deleting
// what a check created does not cut that clean-up short; the resource is
// removed and is no orphan. The target holds the DELETE until Ginkgo says
// it has stopped the clean-up node on the interrupt.
func TestFirstInterruptStillCleansUp(t *testing.T) {
	interruptedRunCleansUp(t, func(_ *server.Local, in *interrupter, stopped <-chan struct{}) func(int64, http.ResponseWriter, *http.Request) bool {
		var once sync.Once
		return func(_ int64, _ http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/Users/") {
				once.Do(func() {
					in.interrupt()
					select {
					case <-stopped:
					case <-r.Context().Done(): // the clean-up gave up: the bug
					}
				})
			}
			return false
		}
	})
}

// TestInterruptedCreateIsFoundByName: Ctrl-C while a create is in flight
// loses its answer, but not the resource the target made: the clean-up
// finds it by the name the run gave it and removes it.
func TestInterruptedCreateIsFoundByName(t *testing.T) {
	var mu sync.Mutex
	held := false
	interruptedRunCleansUp(t, func(l *server.Local, in *interrupter, _ <-chan struct{}) func(int64, http.ResponseWriter, *http.Request) bool {
		return func(_ int64, w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			if held || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Users") {
				return false
			}
			// Create the user on the target, and let the answer get lost.
			req, err := http.NewRequest(http.MethodPost, l.BaseURL+"/Users", r.Body)
			if err != nil {
				t.Error(err)
				return false
			}
			req.Header.Set("Authorization", "Bearer "+l.Token)
			req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return false
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
				w.WriteHeader(resp.StatusCode)
				_, _ = w.Write(answer)
				return true
			}
			held = true
			in.interrupt()
			<-r.Context().Done() // the interrupt stopped the check that sent it
			return true
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if !held {
		t.Error("no create reached the target")
	}
}

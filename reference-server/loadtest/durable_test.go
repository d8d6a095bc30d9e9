package loadtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Every body a 201 answered is in the log, whole, and requests that wait
// together share a sync.
func TestGroupLogKeepsEveryAnsweredBody(t *testing.T) {
	dir := t.TempDir()
	url, g, stop, err := startDurable(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("the log keeps a name in %s: %v", dir, left)
	}
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(url, "application/scim+json", strings.NewReader(fmt.Sprintf(`{"userName":"u%04d"}`, i)))
			if err != nil {
				errs <- err
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated || res.Header.Get("Content-Type") != "application/scim+json" {
				errs <- fmt.Errorf("status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	perSync, mean := g.stats()
	if perSync < 1 || mean <= 0 {
		t.Errorf("%.2f writes per sync, mean %s", perSync, mean)
	}
	g.mu.Lock()
	writes, syncs := g.writes, g.syncs
	g.mu.Unlock()
	if writes != n || syncs < 1 || syncs > n {
		t.Errorf("%d writes in %d syncs", writes, syncs)
	}
	buf := make([]byte, 64<<10)
	if _, err := g.f.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if want := fmt.Sprintf(`{"userName":"u%04d"}`, i); !bytes.Contains(buf, []byte(want)) {
			t.Errorf("%s answered 201 but is not in the log", want)
		}
	}
}

// The log wraps to its start when full, and a failed sync fails that
// request and every later one rather than answering 201.
func TestGroupLogWrapsAndFails(t *testing.T) {
	g, err := openGroupLog(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), maxDurableBody)
	for range durableLogSize/maxDurableBody + 3 {
		if err := g.commit(big); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := g.f.Stat(); err != nil || st.Size() != durableLogSize {
		t.Errorf("log grew to %v (%v), want %d bytes", st.Size(), err, durableLogSize)
	}
	g.close()
	if err := g.commit([]byte("after close")); err == nil {
		t.Fatal("a write to a closed log succeeded")
	}
	if err := g.commit([]byte("again")); err == nil || !strings.Contains(err.Error(), os.ErrClosed.Error()) {
		t.Errorf("later write: %v", err)
	}
}

func TestDurableDir(t *testing.T) {
	dir := t.TempDir()
	for dsn, want := range map[string]string{
		"":                                  "",
		":memory:":                          "",
		"file:x.db?mode=memory":             "",
		"postgres://u:p@127.0.0.1/db":       "",
		filepath.Join(dir, "bench.db"):      dir,
		filepath.Join(dir, "nodir", "b.db"): "",
	} {
		if got := durableDir(dsn); got != want {
			t.Errorf("durableDir(%q) = %q, want %q", dsn, got, want)
		}
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRecordChecksTheHARPathAtStart: a --har that cannot be written is exit
// 2 before the proxy listens, not after a whole session; a good one is
// created at start and holds HAR 1.2 when recording stops.
func TestRecordChecksTheHARPathAtStart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "session.jsonl")
	stopped, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C at once: record stops as soon as it listens
	record := func(args ...string) (ExitCode, string) {
		var stdout, stderr bytes.Buffer
		code := run(stopped, append([]string{"record", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1/scim/v2", "--out", out}, args...), &stdout, &stderr)
		return code, stderr.String()
	}

	for _, bad := range []string{filepath.Join(dir, "no-such-dir", "x.har"), out} {
		code, errs := record("--har", bad)
		if code != ExitUsage || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "proxying") {
			t.Errorf("--har %s: exit %d, want 2 and one line before the proxy starts: %q", bad, code, errs)
		}
	}

	har := filepath.Join(dir, "session.har")
	if code, errs := record("--har", har); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(har)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Log struct {
			Version string `json:"version"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &doc); err != nil || doc.Log.Version != "1.2" {
		t.Fatalf("HAR %s: %v", b, err)
	}
}

// TestRecordAnswersItsOwnHealthz: the walkthrough polls /healthz on the
// record proxy; the recorder answers it (200) without forwarding it or
// writing it to the transcript.
func TestRecordAnswersItsOwnHealthz(t *testing.T) {
	var upstreamHits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upstreamHits.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer up.Close()
	out := filepath.Join(t.TempDir(), "session.jsonl")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan ExitCode, 1)
	const listen = "127.0.0.1:18361"
	go func() {
		code := run(ctx, []string{"record", "--listen", listen, "--upstream", up.URL + "/scim/v2", "--out", out}, io.Discard, io.Discard)
		done <- code
	}()
	var status int
	for range 200 {
		resp, err := http.Get("http://" + listen + "/healthz")
		if err == nil {
			status = resp.StatusCode
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			t.Fatalf("record ended with %d before it answered", code)
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if code := <-done; code != ExitOK {
		t.Fatalf("record: exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusOK || upstreamHits.Load() != 0 || len(b) != 0 {
		t.Errorf("/healthz answered %d; the upstream saw %d requests; the transcript holds %q", status, upstreamHits.Load(), b)
	}
}

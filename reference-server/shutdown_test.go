package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimlab/scimlab/internal/syncbuf"
	"github.com/scimlab/scimlab/reference-server/auth"
	"github.com/scimlab/scimlab/reference-server/profile"
	"github.com/scimlab/scimlab/reference-server/store/memory"
)

// slowServer serves a server whose every request takes latency, and
// returns its base URL, a token, its logs, the cancel that shuts it down
// and the channel serveListener's result arrives on.
func slowServer(t *testing.T, latency, grace time.Duration) (base, token string, logs *syncbuf.Buffer, cancel func(), done chan error) {
	t.Helper()
	p, err := profile.Get("rfc")
	if err != nil {
		t.Fatal(err)
	}
	p.Faults.Latency = profile.Duration(latency)
	st := memory.New()
	logs = &syncbuf.Buffer{}
	srv, err := New(Config{Store: st, Profile: p, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.grace = grace
	token, _, err = auth.Create(context.Background(), st, "test", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancelCtx := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- srv.serveListener(ctx, ln) }()
	return "http://" + ln.Addr().String(), token, logs, cancelCtx, done
}

// A request in flight when the server is told to stop is answered; the
// server waits for as long as the slowest request it accepts can take.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	base, token, _, cancel, done := slowServer(t, 700*time.Millisecond, 0)
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+BasePath+"/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		got <- res.StatusCode
	}()
	time.Sleep(200 * time.Millisecond) // the request is in its added latency
	cancel()
	if status := <-got; status != http.StatusOK {
		t.Errorf("the in-flight request got %d, want 200", status)
	}
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}

	p, _ := profile.Get("rfc")
	p.Faults.Latency = profile.Duration(12 * time.Second)
	srv, err := New(Config{Store: memory.New(), Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	if g := srv.shutdownGrace(); g < readHeaderTimeout+bodyReadTimeout+12*time.Second {
		t.Errorf("grace %s does not cover a request with a full body time and 12 s of latency", g)
	}
}

// A request slower than the grace has its connection closed; the shutdown
// still succeeds (exit 0 for serve) and says so in a JSON log line.
func TestShutdownGraceEnds(t *testing.T) {
	base, token, logs, cancel, done := slowServer(t, 3*time.Second, 100*time.Millisecond)
	got := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+BasePath+"/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		got <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := <-got; err == nil {
		t.Error("the request outliving the grace got an answer")
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "shutdown grace ended") {
			line = l
		}
	}
	if !strings.HasPrefix(line, "{") || !strings.Contains(line, `"level":"WARN"`) {
		t.Errorf("no JSON warning about the closed requests in:\n%s", logs.String())
	}
}

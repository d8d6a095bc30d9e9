package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeBlocks returns the shell blocks of README.md that follow a
// "<!-- readme-test -->" line.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur []string
	marked, in := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "<!-- readme-test -->":
			marked = true
		case marked && !in && strings.HasPrefix(line, "```sh"):
			in, cur = true, nil
		case in && strings.HasPrefix(line, "```"):
			blocks = append(blocks, strings.Join(cur, "\n"))
			in, marked = false, false
		case in:
			cur = append(cur, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// TestReadmeBlocksRunAsWritten builds scimlab, puts it first on PATH and
// runs every README block marked for testing, as written, in a fresh
// directory: what the README tells a new user to type must work.
func TestReadmeBlocksRunAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the README walkthrough")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the README blocks need %s", tool)
		}
	}
	blocks := readmeBlocks(t)
	if len(blocks) == 0 {
		t.Fatal("README.md has no block marked <!-- readme-test -->")
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "scimlab"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The blocks use the README's own loopback ports; one held by another
	// process would answer in place of the block's server.
	for _, addr := range []string{"127.0.0.1:8080", "127.0.0.1:9000"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the README blocks listen on %s, which is in use (another scimlab, or a README test running at the same time?): %v", addr, err)
		}
		l.Close()
	}
	for i, b := range blocks {
		dir := t.TempDir()
		// Job control on, so that the blocks' %1/%2 name their background
		// jobs. The EXIT trap ends every job however the block ends (a failed
		// step would otherwise leave a server holding the README's port):
		// its process group where job control made one, else the process.
		script := "trap 'for p in $(jobs -p); do kill -- -$p 2>/dev/null || kill $p 2>/dev/null || true; done' EXIT\n" + b
		cmd := exec.Command("bash", "-m", "-e", "-u", "-o", "pipefail", "-c", script)
		cmd.Dir = dir
		cmd.WaitDelay = 10 * time.Second
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "NO_COLOR=1")
		done := make(chan struct{})
		timer := time.AfterFunc(5*time.Minute, func() {
			select {
			case <-done:
			default:
				_ = cmd.Process.Kill()
			}
		})
		out, err := cmd.CombinedOutput()
		close(done)
		timer.Stop()
		if err != nil {
			t.Fatalf("README block %d failed: %v\n--- block\n%s\n--- output\n%s", i+1, err, b, out)
		}
		t.Logf("README block %d ran:\n%s", i+1, out)
	}
}

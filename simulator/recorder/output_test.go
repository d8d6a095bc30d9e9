package recorder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestClaimChangesNothingUntilBegin: a claim leaves an existing file as it
// was; Release after a failed start leaves it too, and removes a file the
// claim created; Begin empties it.
func TestClaimChangesNothingUntilBegin(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(old, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := Claim(old)
	if err != nil {
		t.Fatal(err)
	}
	o.Release()
	if b, err := os.ReadFile(old); err != nil || string(b) != "previous\n" {
		t.Errorf("claimed and released: %q, %v", b, err)
	}

	fresh := filepath.Join(dir, "fresh.jsonl")
	o, err = Claim(fresh)
	if err != nil {
		t.Fatal(err)
	}
	o.Release()
	if _, err := os.Stat(fresh); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a released claim left the file it created: %v", err)
	}

	o, err = Claim(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.File().WriteString("new\n"); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(old); string(b) != "new\n" {
		t.Errorf("after Begin and a write: %q", b)
	}
}

// TestASecondClaimIsBusy: while one claim holds a file, another is refused
// with ErrBusy and does not remove it; once the first is closed the file can
// be claimed again. A device such as /dev/null is not locked.
func TestASecondClaimIsBusy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	first, err := Claim(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Claim(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("second claim: %v, want ErrBusy", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the refused claim removed the file: %v", err)
	}
	first.Close()
	again, err := Claim(path)
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	again.Close()

	a, err := Claim(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Claim(os.DevNull)
	if err != nil {
		t.Fatalf("a second claim of %s: %v", os.DevNull, err)
	}
	if err := b.Begin(); err != nil {
		t.Errorf("Begin on %s: %v", os.DevNull, err)
	}
	b.Close()
}

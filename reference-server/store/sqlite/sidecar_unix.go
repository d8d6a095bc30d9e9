//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The sidecar is a small file beside the database, NAME.lock, that every
// process opening the database shares:
//
//   - bytes 0–7: the auth epoch, a counter that a process adds one to after
//     it commits a change to tokens or settings (a revocation, an account
//     deactivation, a rotation). A server maps the file into memory and
//     compares the counter, at the cost of one memory read, with the one it
//     saw when it cached a verified token, so a `scimlab token revoke` in
//     another process takes effect on the server's next request.
//   - an flock on the file, and the holder's pid from byte 8: the claim of
//     the one process that serves the file (ServeAlone).
const (
	sidecarSize = 4096
	pidOffset   = 8
)

// sidecar is the mapped NAME.lock file of a database file.
type sidecar struct {
	f     *os.File
	mem   []byte
	epoch *atomic.Uint64 // in mem
}

// openSidecar opens (creating) and maps the sidecar of the database file
// at path.
func openSidecar(path string) (*sidecar, error) {
	// One database, one name. SQLite names the write-ahead log after the
	// path, and the sidecar (the serving claim, the auth epoch) is named
	// after it too: through a second hard link a second server would start
	// beside the first, each with its own WAL over the same pages, which
	// can corrupt the database (https://sqlite.org/howtocorrupt.html §2.4),
	// and token changes made through one name would reach a server of the
	// other late.
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
			return nil, fmt.Errorf("%s has %d hard links: SQLite keeps its write-ahead log by file name, so two names for one database can corrupt it; open it by one name only (remove the other links)", path, sys.Nlink)
		}
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*sidecar, error) {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if st.Size() < sidecarSize {
		// Growing is safe however many processes do it at once: the new
		// bytes are zeros, and a counter is never shortened.
		if err := f.Truncate(sidecarSize); err != nil {
			return fail(err)
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, sidecarSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return fail(err)
	}
	// A shared mapping is page-aligned, so the counter is 8-byte aligned
	// and atomic operations on it are atomic across processes.
	return &sidecar{f: f, mem: mem, epoch: (*atomic.Uint64)(unsafe.Pointer(&mem[0]))}, nil
}

func (c *sidecar) close() error {
	if c == nil {
		return nil
	}
	return errors.Join(syscall.Munmap(c.mem), c.f.Close()) // closing drops a serving claim
}

// ServeAlone claims the database file for one serving process until Close.
// A server on SQLite caches what it reads because it is the only writer; a
// second server on the same file would show the first one's changes late
// and each would hold the other's writers off. So a second claim, from any
// process, fails with an error that names the holder's pid. The claim is an
// flock on the sidecar, which the kernel drops when the process ends,
// however it ends. Token commands do not claim the file: they may run while
// the server does. A ":memory:" store is private to its process and needs
// no claim.
func (s *Store) ServeAlone() error {
	c := s.side
	if c == nil || s.serving {
		return nil
	}
	var err error
	for {
		err = syscall.Flock(int(c.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := ""
			pid, _, _ := strings.Cut(string(c.mem[pidOffset:pidOffset+20]), "\n")
			if n, perr := strconv.Atoi(strings.TrimSpace(pid)); perr == nil {
				holder = fmt.Sprintf(" (pid %d)", n)
			}
			return fmt.Errorf("store/sqlite: %s: another scimlab serve%s is using this database; stop it first, or share a postgres:// database between several servers", s.name, holder)
		}
		return fmt.Errorf("store/sqlite: %s: claim the database for serving: %w", s.name, err)
	}
	rec := strconv.Itoa(os.Getpid()) + "\n"
	copy(c.mem[pidOffset:pidOffset+20], rec+strings.Repeat(" ", 20-len(rec)))
	s.serving = true
	return nil
}

// AuthEpoch implements store.AuthEpoch: the sidecar's counter, which every
// process bumps after it changes tokens or settings.
func (s *Store) AuthEpoch() uint64 {
	if s.side == nil {
		return s.memEpoch.Load()
	}
	return s.side.epoch.Load()
}

// authChanged bumps the auth epoch after a committed change of tokens or
// settings.
func (s *Store) authChanged() {
	if s.side == nil {
		s.memEpoch.Add(1)
		return
	}
	s.side.epoch.Add(1)
}

//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ServeAlone claims the database file for one serving process until Close.
// A server on SQLite caches what it reads because it is the only writer; a
// second server on the same file would show the first one's changes late
// and each would hold the other's writers off. So a second claim, from any
// process, fails with an error that names the holder's pid. The claim is an
// flock on a file beside the database (NAME.serve-lock), which the kernel
// drops when the process ends, however it ends. Token commands do not claim
// the file: they may run while the server does. A ":memory:" store is
// private to its process and needs no claim.
func (s *Store) ServeAlone() error {
	if s.file == "" || s.serveLock != nil {
		return nil
	}
	path := s.file + ".serve-lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store/sqlite: %s: claim the database for serving: %w", s.name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		holder := ""
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf(" (pid %d)", pid)
			}
		}
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("store/sqlite: %s: another scimlab serve%s is using this database; stop it first, or share a postgres:// database between several servers", s.name, holder)
		}
		return fmt.Errorf("store/sqlite: %s: claim the database for serving: %w", s.name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	s.serveLock = f
	return nil
}

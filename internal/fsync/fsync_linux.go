// Package fsync makes a file's written data durable the way SQLite does on
// each platform, for the SQLite store's own WAL sync and for the load
// command's durable trivial handler, which must cost exactly the same.
package fsync

import (
	"os"
	"syscall"
)

// Data flushes the file's data (and the metadata needed to read it back,
// such as its size) with fdatasync, as SQLite does on Linux.
func Data(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

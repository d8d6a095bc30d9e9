package sqlite

import (
	"os"
	"syscall"
)

// fdatasync flushes the file's data (and the metadata needed to read it
// back, such as its size), as SQLite does on Linux.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

//go:build !linux

package sqlite

import "os"

// fdatasync flushes the file (os.File.Sync: fsync, F_FULLFSYNC on macOS).
func fdatasync(f *os.File) error { return f.Sync() }

//go:build !linux

// Package fsync makes a file's written data durable the way SQLite does on
// each platform, for the SQLite store's own WAL sync and for the load
// command's durable trivial handler, which must cost exactly the same.
package fsync

import "os"

// Data flushes the file (os.File.Sync: fsync, F_FULLFSYNC on macOS).
func Data(f *os.File) error { return f.Sync() }

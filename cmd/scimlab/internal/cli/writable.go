package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// checkReportDir makes sure the reports can be written to dir before a run
// spends minutes on the target: it creates dir (as writing them would) and a
// file in it, which it removes. An empty dir means no reports.
func checkReportDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usagef("--report-dir %s: %v", dir, err)
	}
	if err := probeWrite(dir); err != nil {
		return usagef("--report-dir %s: %v", dir, err)
	}
	return nil
}

// checkWritableFile makes sure a file can be written at path later, without
// creating or truncating it now: path is not a directory, and its directory
// takes a new file.
func checkWritableFile(flag, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return usagef("%s %s is a directory", flag, path)
	}
	if err := probeWrite(filepath.Dir(path)); err != nil {
		return usagef("%s %s: %v", flag, path, err)
	}
	return nil
}

// probeWrite creates a file in dir and removes it.
func probeWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".scimlab-write-check-*")
	if err != nil {
		return fmt.Errorf("cannot write there: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

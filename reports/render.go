package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Formats lists the formats Render accepts.
func Formats() []string { return []string{"json", "junit", "md", "html", "text"} }

// formatAliases maps other spellings onto the names in Formats.
var formatAliases = map[string]string{
	"xml": "junit", "markdown": "md", "htm": "html", "txt": "text", "terminal": "text",
}

// Render writes r, redacted, to w in format: "json", "junit", "md", "html"
// or "text". The text summary is coloured when w is a colour terminal (see
// UseColor).
func Render(w io.Writer, r *Run, format string) error {
	f := strings.ToLower(strings.TrimSpace(format))
	if alias, ok := formatAliases[f]; ok {
		f = alias
	}
	switch f {
	case "json":
		return WriteJSON(w, r)
	case "junit":
		return WriteJUnit(w, r)
	case "md":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	case "text":
		return WriteText(w, r, UseColor(w))
	}
	return fmt.Errorf("unknown report format %q: use one of %s", format, strings.Join(Formats(), ", "))
}

// reportFiles names the files WriteAll writes, by format.
var reportFiles = []struct{ format, name string }{
	{"json", "report.json"},
	{"junit", "junit.xml"},
	{"md", "report.md"},
	{"html", "report.html"},
}

// WriteAll writes report.json, junit.xml, report.md and report.html into
// dir, creating it if needed, and returns their absolute paths keyed by
// format ("json", "junit", "md", "html"). Each file is written whole or not
// at all: it is rendered first, then put in place by a rename.
func WriteAll(dir string, r *Run) (map[string]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("report directory %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create report directory: %w", err)
	}
	paths := make(map[string]string, len(reportFiles))
	for _, rf := range reportFiles {
		var buf bytes.Buffer
		if err := Render(&buf, r, rf.format); err != nil {
			return paths, err
		}
		path := filepath.Join(abs, rf.name)
		if err := writeFileAtomic(path, buf.Bytes()); err != nil {
			return paths, err
		}
		paths[rf.format] = path
	}
	return paths, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames it
// into place, so a reader never sees half a report.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

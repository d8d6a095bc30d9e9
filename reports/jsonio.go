package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxReportSize bounds what ReadJSON accepts, so a wrong file fails fast.
const maxReportSize = 512 << 20

// WriteJSON writes r, redacted, as indented JSON in the versioned form that
// README.md documents, followed by a newline.
func WriteJSON(w io.Writer, r *Run) error {
	out := r.forOutput()
	out.SchemaVersion = SchemaVersion
	if out.Checks == nil {
		out.Checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// ReadJSON reads a run written by WriteJSON. It refuses a document whose
// schemaVersion is missing or is not SchemaVersion, and one that breaks the
// model (a check with no id, an unknown verdict), saying what to do.
func ReadJSON(rd io.Reader) (*Run, error) {
	data, err := io.ReadAll(io.LimitReader(rd, maxReportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if len(data) > maxReportSize {
		return nil, fmt.Errorf("report is larger than %d MiB: is this a scimlab report.json?", maxReportSize>>20)
	}
	var probe struct {
		SchemaVersion *int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("report is not valid JSON (%v): pass the report.json that scimlab wrote", describeJSONError(data, err))
	}
	if probe.SchemaVersion == nil {
		return nil, errors.New(`report has no "schemaVersion": pass the report.json that scimlab wrote`)
	}
	if v := *probe.SchemaVersion; v != SchemaVersion {
		if v > SchemaVersion {
			return nil, fmt.Errorf("report has schemaVersion %d, but this scimlab reads only version %d: upgrade scimlab to read it", v, SchemaVersion)
		}
		return nil, fmt.Errorf("report has schemaVersion %d, but this scimlab reads only version %d: regenerate the report with this scimlab", v, SchemaVersion)
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("report does not match schemaVersion %d (%v): regenerate it with this scimlab", SchemaVersion, describeJSONError(data, err))
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// describeJSONError adds the line of a syntax or type error.
func describeJSONError(data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// Validate reports the first way r breaks the model: a check with no id or
// an unknown verdict.
func (r *Run) Validate() error {
	for i, c := range r.Checks {
		if c.ID == "" {
			return fmt.Errorf("report check %d (%q) has no id: every check needs a stable id", i+1, c.Title)
		}
		if !c.Verdict.Valid() {
			return fmt.Errorf("report check %s has verdict %q; known verdicts are pass, fail, error, unsupported-but-works, waived and skipped: upgrade scimlab if a newer one wrote it", c.ID, c.Verdict)
		}
	}
	return nil
}

// Load reads the JSON report at path (see ReadJSON).
func Load(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	defer f.Close()
	r, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

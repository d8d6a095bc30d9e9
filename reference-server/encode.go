package server

import (
	"bytes"

	"github.com/scimlab/scimlab/reference-server/jsondoc"
)

// marshal encodes v as JSON without HTML escaping (SCIM values such as
// "R&D" stay readable), through jsondoc.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeTo(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeTo appends the JSON encoding of v to buf.
func encodeTo(buf *bytes.Buffer, v any) error {
	b, err := jsondoc.Append(buf.AvailableBuffer(), v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

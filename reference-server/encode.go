package server

import (
	"bytes"
	"sync"

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

// bufs lends buffers for response bodies, which are copied out or written
// before the buffer goes back.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf is the largest buffer put back; one that grew beyond it (a
// large page or group) is left to the collector.
const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		bufs.Put(b)
	}
}

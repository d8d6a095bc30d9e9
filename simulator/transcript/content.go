package transcript

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// MaxBody caps how many bytes of one body a transcript keeps, before and
// after content decoding.
const MaxBody = 8 << 20

// Base64 is the BodyCoding.Encoding of a body kept as base64 of its bytes.
const Base64 = "base64"

// BodyCoding says how a recorded body relates to the bytes on the wire, when
// it is anything but those bytes as UTF-8 text. The recorded headers are
// always the ones sent, Content-Encoding and Content-Length included.
type BodyCoding struct {
	// Encoding is "base64" when the body is base64 of its bytes, because
	// they are not UTF-8 text (HAR 1.2 content.encoding).
	Encoding string `json:"encoding,omitempty"`
	// Decoded lists the content codings the recorder removed, as the
	// Content-Encoding header named them ("gzip"): the body is what they
	// decode to (RFC 9110 §8.4).
	Decoded string `json:"decoded,omitempty"`
	// WireSize is the size of the body on the wire, in bytes, when it
	// differs from the size of the body kept.
	WireSize int `json:"wireSize,omitempty"`
	// Note says why the body is kept as it is: a content coding with no
	// decoder here, a body that does not decode, a body cut at MaxBody.
	Note string `json:"note,omitempty"`
}

// isBase64 reports whether c marks a base64 body.
func (c *BodyCoding) isBase64() bool { return c != nil && c.Encoding == Base64 }

// RecordBody turns a body as it crossed the wire, with the headers of its
// message, into transcript form: decoded from the content codings gzip and
// deflate (x-gzip too), kept as text when it is UTF-8 and as base64
// otherwise. A coding with no decoder here (br, zstd, compress) leaves the
// body as received, base64, with a note. wireSize is the body's full size
// on the wire, which may exceed len(raw) when raw was cut at MaxBody.
func RecordBody(h http.Header, raw []byte, wireSize int) (string, *BodyCoding) {
	c := &BodyCoding{}
	body := raw
	cut := wireSize > len(raw)
	if codings := contentCodings(h); len(codings) > 0 {
		dec, err := decodeContent(codings, raw)
		switch {
		case errors.Is(err, errNoDecoder):
			c.Note = fmt.Sprintf("Content-Encoding %s: %v; the body is kept as received", strings.Join(codings, ", "), err)
		case err != nil && (!cut || len(dec) == 0):
			c.Note = fmt.Sprintf("Content-Encoding %s, but the body does not decode (%v); it is kept as received", strings.Join(codings, ", "), err)
		default:
			// A body cut at MaxBody decodes as far as it goes.
			body, c.Decoded = dec, strings.Join(codings, ", ")
		}
	}
	if len(body) > MaxBody {
		body, cut = body[:MaxBody], true
	}
	if cut {
		c.Note = joinNote(c.Note, fmt.Sprintf("the body is longer than the %d MiB a transcript keeps; this is its start", MaxBody>>20))
	}
	if wireSize != len(body) {
		c.WireSize = wireSize
	}
	text := string(body)
	if !utf8.Valid(body) {
		text, c.Encoding = base64.StdEncoding.EncodeToString(body), Base64
	}
	if *c == (BodyCoding{}) {
		return text, nil
	}
	return text, c
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// contentCodings returns the content codings of a message in the order they
// were applied, leaving out identity (RFC 9110 §8.4).
func contentCodings(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				out = append(out, c)
			}
		}
	}
	return out
}

// errNoDecoder marks a content coding this build cannot decode.
var errNoDecoder = errors.New("no decoder for it in scimlab")

// decodeContent removes codings (in the order applied) from b, last first.
func decodeContent(codings []string, b []byte) ([]byte, error) {
	for _, c := range codings {
		if c != "gzip" && c != "x-gzip" && c != "deflate" {
			return nil, fmt.Errorf("%s: %w", c, errNoDecoder)
		}
	}
	var err error
	for i := len(codings) - 1; i >= 0; i-- {
		if b, err = decodeOne(codings[i], b); err != nil {
			return b, err
		}
	}
	return b, nil
}

// decodeOne removes one coding; a body cut short yields what decodes and
// the error. The output is capped at MaxBody+1 bytes, so that a small body
// cannot unpack into gigabytes.
func decodeOne(coding string, b []byte) ([]byte, error) {
	if coding == "gzip" || coding == "x-gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(zr, MaxBody+1))
	}
	// deflate: zlib (RFC 9110 §8.4.1.2), though some servers send raw DEFLATE.
	var zout []byte
	var zerr error
	if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
		if zout, zerr = io.ReadAll(io.LimitReader(zr, MaxBody+1)); zerr == nil {
			return zout, nil
		}
	}
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), MaxBody+1))
	if err != nil && len(zout) > 0 {
		return zout, zerr // zlib cut short
	}
	return out, err
}

// encodeContent applies the codings a recorder removed, in order, to send
// a body as it was sent.
func encodeContent(decoded string, b []byte) ([]byte, error) {
	for _, c := range strings.Split(decoded, ",") {
		var buf bytes.Buffer
		var w io.WriteCloser
		switch c = strings.TrimSpace(c); c {
		case "gzip", "x-gzip":
			w = gzip.NewWriter(&buf)
		case "deflate":
			w = zlib.NewWriter(&buf)
		default:
			return nil, fmt.Errorf("content coding %q: %w", c, errNoDecoder)
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		b = buf.Bytes()
	}
	return b, nil
}

// check reports what is wrong with a body's coding, if anything.
func (c *BodyCoding) check(body string) error {
	if c == nil {
		return nil
	}
	switch c.Encoding {
	case "":
	case Base64:
		if _, err := base64.StdEncoding.DecodeString(body); err != nil {
			return fmt.Errorf("the body is marked base64 but is not: %v", err)
		}
	default:
		return fmt.Errorf("unknown body encoding %q (want base64 or none)", c.Encoding)
	}
	if c.Decoded != "" {
		if _, err := encodeContent(c.Decoded, nil); err != nil {
			return err
		}
	}
	return nil
}

// bodyBytes returns the bytes a transcript body stands for, decoded content.
func bodyBytes(body string, c *BodyCoding) ([]byte, error) {
	if c.isBase64() {
		return base64.StdEncoding.DecodeString(body)
	}
	return []byte(body), nil
}

// ResponseBytes returns the recorded response body as bytes (decoded from
// base64 when it was kept so; content codings already removed, if
// ResponseBodyCoding.Decoded says so).
func (x Exchange) ResponseBytes() ([]byte, error) {
	return bodyBytes(x.ResponseBody, x.ResponseBodyCoding)
}

// WireRequestBody returns the request body as the IdP sent it on the wire:
// base64 undone, and the content codings the recorder removed applied again,
// so that it matches the recorded Content-Encoding header.
func (x Exchange) WireRequestBody() ([]byte, error) {
	b, err := bodyBytes(x.RequestBody, x.RequestBodyCoding)
	if err != nil || x.RequestBodyCoding == nil || x.RequestBodyCoding.Decoded == "" {
		return b, err
	}
	return encodeContent(x.RequestBodyCoding.Decoded, b)
}

// RequestText reports whether the request body is text a replay may rewrite
// (ids), rather than base64 of bytes.
func (x Exchange) RequestText() bool { return !x.RequestBodyCoding.isBase64() }

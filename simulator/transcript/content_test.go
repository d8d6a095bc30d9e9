package transcript

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const doc = `{"id":"2819c223","userName":"Zoë O'Brien"}`

// squeeze compresses s with the writer newWriter returns.
func squeeze(s []byte, newWriter func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	w := newWriter(&buf)
	w.Write(s)
	w.Close()
	return buf.Bytes()
}

func gzipped(_ *testing.T, s []byte) []byte {
	return squeeze(s, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
}

func zlibbed(s []byte) []byte {
	return squeeze(s, func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })
}

func rawDeflated(s []byte) []byte {
	return squeeze(s, func(w io.Writer) io.WriteCloser {
		fw, _ := flate.NewWriter(w, flate.DefaultCompression)
		return fw
	})
}

// TestRecordBody: a body is recorded as the text it decodes to, with the
// coding it had named; bytes that are not UTF-8, or that no decoder here
// reads (br), are recorded losslessly as base64 with a note.
func TestRecordBody(t *testing.T) {
	binary := []byte{0x1f, 0x8b, 0xff, 0x00, 0xfe, 'x'}
	gz := gzipped(t, []byte(doc))
	tests := []struct {
		name     string
		encoding string
		raw      []byte
		wantText string // the body as the transcript holds it
		want     *BodyCoding
	}{
		{"plain text", "", []byte(doc), doc, nil},
		{"identity", "identity", []byte(doc), doc, nil},
		{"gzip", "gzip", gz, doc, &BodyCoding{Decoded: "gzip", WireSize: len(gz)}},
		{"x-gzip", "x-gzip", gz, doc, &BodyCoding{Decoded: "x-gzip", WireSize: len(gz)}},
		{"deflate as zlib", "deflate", zlibbed([]byte(doc)), doc, &BodyCoding{Decoded: "deflate", WireSize: len(zlibbed([]byte(doc)))}},
		{"deflate raw", "deflate", rawDeflated([]byte(doc)), doc, &BodyCoding{Decoded: "deflate", WireSize: len(rawDeflated([]byte(doc)))}},
		{"two codings", "deflate, gzip", gzipped(t, zlibbed([]byte(doc))), doc, &BodyCoding{Decoded: "deflate, gzip", WireSize: len(gzipped(t, zlibbed([]byte(doc))))}},
		{"binary", "", binary, base64.StdEncoding.EncodeToString(binary), &BodyCoding{Encoding: Base64}},
		{"gzip of binary", "gzip", gzipped(t, binary), base64.StdEncoding.EncodeToString(binary), &BodyCoding{Encoding: Base64, Decoded: "gzip", WireSize: len(gzipped(t, binary))}},
		{"br", "br", []byte{0x0b, 0x02, 0x80, 0xff}, base64.StdEncoding.EncodeToString([]byte{0x0b, 0x02, 0x80, 0xff}), &BodyCoding{Encoding: Base64, Note: "Content-Encoding br: br: no decoder for it in scimlab; the body is kept as received"}},
		{"gzip that is not", "gzip", []byte(doc), doc, &BodyCoding{Note: "Content-Encoding gzip, but the body does not decode (gzip: invalid header); it is kept as received"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.encoding != "" {
				h.Set("Content-Encoding", tc.encoding)
			}
			text, c := RecordBody(h, tc.raw, len(tc.raw))
			if text != tc.wantText {
				t.Errorf("text = %q, want %q", text, tc.wantText)
			}
			got, _ := json.Marshal(c)
			want, _ := json.Marshal(tc.want)
			if string(got) != string(want) {
				t.Errorf("coding = %s, want %s", got, want)
			}
		})
	}
}

// TestRecordBodyCut: a body cut at MaxBody decodes as far as it goes and
// says so; a small body that unpacks past MaxBody is cut there.
func TestRecordBodyCut(t *testing.T) {
	big := bytes.Repeat([]byte("a"), MaxBody+10)
	gz := gzipped(t, big)
	text, c := RecordBody(http.Header{"Content-Encoding": {"gzip"}}, gz, len(gz))
	if len(text) != MaxBody || c == nil || c.Decoded != "gzip" || !strings.Contains(c.Note, "longer than the 8 MiB") {
		t.Errorf("bomb: %d bytes kept, coding %+v", len(text), c)
	}
	text, c = RecordBody(http.Header{"Content-Encoding": {"gzip"}}, gz[:len(gz)/2], len(gz))
	if len(text) == 0 || !strings.HasPrefix(string(big), text) || c.Decoded != "gzip" || c.WireSize != len(gz) || !strings.Contains(c.Note, "its start") {
		t.Errorf("cut gzip: %d bytes kept, coding %+v", len(text), c)
	}
}

// TestCodedBodiesRoundTrip: a transcript line keeps the coding, Read
// refuses a body marked base64 that is not, and the request body is sent
// again exactly as the IdP sent it on the wire.
func TestCodedBodiesRoundTrip(t *testing.T) {
	binary := []byte{0xff, 0xfe, 0, 1, 2}
	gz := gzipped(t, []byte(doc))
	x := Exchange{Seq: 1, Method: "POST", Path: "/Users", Status: 201,
		RequestHeaders:  map[string][]string{"Content-Encoding": {"gzip"}},
		ResponseHeaders: map[string][]string{"Content-Type": {"application/octet-stream"}}}
	x.RequestBody, x.RequestBodyCoding = RecordBody(x.RequestHeaders, gz, len(gz))
	x.ResponseBody, x.ResponseBodyCoding = RecordBody(x.ResponseHeaders, binary, len(binary))
	var buf bytes.Buffer
	if err := NewWriter(&buf).Write(x); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if !strings.Contains(line, `"requestBodyCoding":{"decoded":"gzip"`) || !strings.Contains(line, `"responseBodyCoding":{"encoding":"base64"}`) {
		t.Errorf("line = %s", line)
	}
	xs, err := Read(&buf)
	if err != nil || len(xs) != 1 {
		t.Fatalf("Read: %v", err)
	}
	got := xs[0]
	if got.RequestBody != doc {
		t.Errorf("request body = %q", got.RequestBody)
	}
	if b, err := got.ResponseBytes(); err != nil || !bytes.Equal(b, binary) {
		t.Errorf("response bytes = %v, %v", b, err)
	}
	wire, err := got.WireRequestBody()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(wire))
	if err != nil {
		t.Fatalf("the replayed body is not gzip: %v", err)
	}
	var back bytes.Buffer
	back.ReadFrom(zr)
	if back.String() != doc {
		t.Errorf("the replayed body decodes to %q", back.String())
	}

	for _, bad := range []string{
		`{"method":"GET","path":"/Users","responseBody":"%%%","responseBodyCoding":{"encoding":"base64"}}`,
		`{"method":"GET","path":"/Users","responseBodyCoding":{"encoding":"hex"}}`,
		`{"method":"POST","path":"/Users","requestBody":"{}","requestBodyCoding":{"decoded":"br"}}`,
	} {
		if _, err := Read(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Read(%s) = %v, want an error naming line 1", bad, err)
		}
	}
}

// TestHARFollowsContentSemantics: HAR 1.2 content.text is the decoded body,
// content.size its length, response.bodySize what crossed the wire,
// content.compression the difference; content.encoding is base64 only for
// bytes that are not text.
func TestHARFollowsContentSemantics(t *testing.T) {
	gz := gzipped(t, []byte(doc))
	binary := []byte{0xff, 0xfe, 0, 1, 2}
	xs := []Exchange{
		{Seq: 1, Method: "GET", Path: "/Users/1", Status: 200, ResponseHeaders: map[string][]string{"Content-Encoding": {"gzip"}, "Content-Type": {"application/scim+json"}}},
		{Seq: 2, Method: "GET", Path: "/logo", Status: 200, ResponseHeaders: map[string][]string{"Content-Type": {"image/png"}}},
	}
	xs[0].ResponseBody, xs[0].ResponseBodyCoding = RecordBody(xs[0].ResponseHeaders, gz, len(gz))
	xs[1].ResponseBody, xs[1].ResponseBodyCoding = RecordBody(xs[1].ResponseHeaders, binary, len(binary))
	var buf bytes.Buffer
	if err := WriteHAR(&buf, "http://t.example/scim/v2", "test", xs); err != nil {
		t.Fatal(err)
	}
	var h struct {
		Log struct {
			Entries []struct {
				Response struct {
					Headers  []harNV
					BodySize int
					Content  struct {
						Size        int
						Compression int
						Text        string
						Encoding    *string
					}
				}
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &h); err != nil {
		t.Fatal(err)
	}
	r := h.Log.Entries[0].Response
	if r.Content.Text != doc || r.Content.Encoding != nil || r.Content.Size != len(doc) || r.BodySize != len(gz) || r.Content.Compression != len(doc)-len(gz) {
		t.Errorf("gzip entry = %+v", r)
	}
	if !strings.Contains(buf.String(), `"name": "Content-Encoding",`) {
		t.Error("the HAR lost the Content-Encoding header")
	}
	r = h.Log.Entries[1].Response
	if r.Content.Encoding == nil || *r.Content.Encoding != "base64" || r.Content.Size != len(binary) || r.BodySize != len(binary) {
		t.Errorf("binary entry = %+v", r)
	}
	if b, err := base64.StdEncoding.DecodeString(r.Content.Text); err != nil || !bytes.Equal(b, binary) {
		t.Errorf("binary text = %q", r.Content.Text)
	}
}

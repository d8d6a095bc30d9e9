package transcript

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/scimlab/scimlab/reports"
)

func TestWriteReadRoundTripRedacts(t *testing.T) {
	x := Exchange{Seq: 7, Method: "PATCH", Path: "/Groups/g1", Query: "access_token=scimlab_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		RequestHeaders: map[string][]string{"Authorization": {"Bearer abc.def.ghi-very-secret-token"}, "User-Agent": {"Okta SCIM Client 1.0.0"}},
		RequestBody:    `{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"}]}]}`,
		Status:         204, LatencyMs: 1.5}
	var buf bytes.Buffer
	if err := NewWriter(&buf).Write(x); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "very-secret") || strings.Contains(buf.String(), "scimlab_abcdef") {
		t.Fatalf("secret written: %s", buf.String())
	}
	xs, err := Read(&buf)
	if err != nil || len(xs) != 1 {
		t.Fatalf("Read: %v %d", err, len(xs))
	}
	got := xs[0]
	if got.Seq != 7 || got.Path != "/Groups/g1" || got.RequestBody != x.RequestBody || got.Status != 204 || got.Title() != "PATCH /Groups/g1?"+got.Query {
		t.Errorf("round trip = %+v", got)
	}
}

func TestReadReportsTheBadLine(t *testing.T) {
	_, err := Read(strings.NewReader("{\"method\":\"GET\",\"path\":\"/Users\"}\n\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err = %v, want it to name line 3", err)
	}
	_, err = Read(strings.NewReader(`{"method":"GET","path":"Users"}`))
	if err == nil {
		t.Error("a path without a leading slash should be refused")
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"seq":1,"method":"GET","path":"/Users","status":200}` + "\n"))
	f.Add([]byte("{}\n[]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		xs, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, x := range xs {
			if err := w.Write(x); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Read(&buf); err != nil {
			t.Fatalf("re-read of written transcript: %v", err)
		}
	})
}

// TestHARRedactsTheBaseURL: the base URL's userinfo (a password the
// upstream was given in) is redacted in every entry's URL.
func TestHARRedactsTheBaseURL(t *testing.T) {
	var buf bytes.Buffer
	xs := []Exchange{{Seq: 1, Method: "GET", Path: "/Users", Query: "count=1", Status: 200}}
	if err := WriteHAR(&buf, "http://svc:Sup3rSecret@t.example/scim/v2/", "test", xs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "Sup3rSecret") || !strings.Contains(buf.String(), `"url": "http://REDACTED@t.example/scim/v2/Users?count=1"`) {
		t.Errorf("HAR:\n%s", buf.String())
	}
}

// A body that is not UTF-8 is kept as base64 of its bytes; its secrets are
// redacted all the same, and every other byte is kept.
func TestRedactedBase64Body(t *testing.T) {
	// Windows-1252 JSON: "Jos\xe9" is not UTF-8.
	raw := []byte("{\"userName\":\"Jos\xe9\",\"password\":\"hunter2-S3cret\"}")
	body, coding := RecordBody(http.Header{"Content-Type": {"application/scim+json; charset=windows-1252"}}, raw, len(raw))
	if !coding.isBase64() {
		t.Fatalf("coding = %+v, want base64", coding)
	}
	x := Exchange{Method: "POST", Path: "/Users", RequestBody: body, RequestBodyCoding: coding, Status: 201,
		ResponseBody: body, ResponseBodyCoding: coding}
	got := x.Redacted()
	for _, b := range []string{got.RequestBody, got.ResponseBody} {
		dec, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			t.Fatalf("redacted body is not base64: %v", err)
		}
		want := "{\"userName\":\"Jos\xe9\",\"password\":\"" + reports.Mask + "\"}"
		if string(dec) != want {
			t.Errorf("redacted body = %q, want %q", dec, want)
		}
	}

	// Nothing to redact: the body is kept exactly.
	clean := base64.StdEncoding.EncodeToString([]byte("{\"userName\":\"Jos\xe9\"}"))
	x = Exchange{Method: "POST", Path: "/Users", RequestBody: clean, RequestBodyCoding: &BodyCoding{Encoding: Base64}}
	if got := x.Redacted(); got.RequestBody != clean {
		t.Errorf("clean body changed: %q", got.RequestBody)
	}
}

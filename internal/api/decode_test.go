package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/windsock/windsock/internal/windsock"
)

// fuzzBody has the field types request bodies use.
type fuzzBody struct {
	Name    *string           `json:"name"`
	Count   int               `json:"count"`
	Ratio   float64           `json:"ratio"`
	On      *bool             `json:"on"`
	Tags    []string          `json:"tags"`
	Conf    map[string]any    `json:"conf"`
	Actions *[]actionResource `json:"actions"`
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body, want string
	}{
		{`{"name": "x", "count": 2, "tags": ["a"], "conf": {"k": [1, {"z": null}]}}`, ""},
		{"  \n", "request body is required"},
		{`{"nmae": "x"}`, `unknown field "nmae"`},
		{`{"count": "2"}`, `field "count": expected integer, got string`},
		{`{"count": 2.5}`, `field "count": expected integer, got number 2.5`},
		{`{"on": "yes"}`, `field "on": expected boolean, got string`},
		{`{"tags": "a"}`, `field "tags": expected array, got string`},
		{`{"actions": [{"action": {"name": 1}}]}`, `field "actions.action.name": expected string, got number`},
		{`"text"`, "request body: expected object, got string"},
		{`{"name": "x"`, "malformed JSON at offset 12: unexpected end of input"},
		{`{"name" "x"}`, "malformed JSON at offset 9"},
		{`{"name": "x"}}`, "unexpected data after the value"},
		{"\xff", "malformed JSON at offset 0: invalid UTF-8"},
		{"null", "expected object, got null"},
		{" null\n", "expected object, got null"},
		{"{\"name\": \"a\xffb\"}", "malformed JSON at offset 11: invalid UTF-8"},
		{"{\"conf\": {\"k\xc3\": 1}}", "malformed JSON at offset 12: invalid UTF-8"},
	} {
		var dst fuzzBody
		err := DecodeJSON([]byte(tc.body), &dst)
		if tc.want == "" {
			if err != nil {
				t.Errorf("DecodeJSON(%q) = %v", tc.body, err)
			}
			continue
		}
		if windsock.ErrorCode(err) != windsock.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeJSON(%q) = %v, want EINVALID containing %q", tc.body, err, tc.want)
		}
	}
}

// FuzzDecodeJSON checks that no body makes the decoder panic or fail
// with anything but a 400, and that what it accepts survives a round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name": "x", "count": 1, "ratio": 0.5, "on": true, "tags": ["a"], "conf": {"a": [1, null]}}`,
		`{"actions": [{"action": {"name": "can_read"}, "resource": {"name": "DAGs"}}]}`,
		`{"nmae": 1}`, `{"count": "1"}`, `[`, `{}`, ``, `null`, `{"conf": {"a": {"b": {"c": []}}}}`, "{\"name\": \"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzBody
		err := DecodeJSON(body, &dst)
		if err != nil {
			var e *windsock.Error
			if !errors.As(err, &e) || e.Code != windsock.EINVALID || e.Message == "" {
				t.Fatalf("DecodeJSON(%q) = %#v, want an EINVALID error with a message", body, err)
			}
			if statusOf(err) != 400 {
				t.Fatalf("DecodeJSON(%q) maps to %d", body, statusOf(err))
			}
			return
		}
		if !utf8.Valid(body) || string(bytes.TrimSpace(body)) == "null" {
			t.Fatalf("DecodeJSON(%q) accepted a null body or invalid UTF-8", body)
		}
		again, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", dst, err)
		}
		var dst2 fuzzBody
		if err := DecodeJSON(again, &dst2); err != nil {
			t.Fatalf("decode of re-encoded %s: %v", again, err)
		}
		if !reflect.DeepEqual(normalize(t, dst), normalize(t, dst2)) {
			t.Fatalf("round trip changed %s: %+v != %+v", body, dst, dst2)
		}
	})
}

// normalize compares decoded bodies through JSON: numbers in conf decode
// as float64 either way.
func normalize(t *testing.T, v fuzzBody) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

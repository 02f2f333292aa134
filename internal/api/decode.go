package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/windsock/windsock/internal/windsock"
)

// maxBodyBytes bounds request bodies: Airflow's largest (a DAG run's conf,
// a variable) are far below it.
const maxBodyBytes = 1 << 20

// readBody returns the request body, or a 413 when it is over
// maxBodyBytes. The body is read once and kept, so the audit log and the
// decoder can both see it.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, tooLarge()
	}
	if b, ok := r.Context().Value(bodyKey{}).([]byte); ok {
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "read request body: %v", err)
	}
	if len(b) > maxBodyBytes {
		return nil, tooLarge()
	}
	return b, nil
}

type bodyKey struct{}

func tooLarge() error {
	return &httpError{status: http.StatusRequestEntityTooLarge,
		detail: fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes)}
}

// decodeJSON reads the request body into dst strictly: the body is
// required, must be one JSON value of dst's shape, and may not carry
// fields dst does not have.
func decodeJSON(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return DecodeJSON(body, dst)
}

// DecodeJSON decodes body into dst as decodeJSON does. Every error is
// EINVALID with a message that names what is wrong: the unknown field,
// the field with the wrong type and the type expected, or the offset of
// malformed JSON.
func DecodeJSON(body []byte, dst any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return windsock.Errorf(windsock.EINVALID, "request body is required")
	}
	// encoding/json takes a top-level null as "leave dst as it is", which
	// would make a null body act as {}; Airflow's schema validation
	// refuses it.
	if string(trimmed) == "null" {
		return windsock.Errorf(windsock.EINVALID, "request body: expected object, got null")
	}
	// encoding/json replaces invalid UTF-8 in strings with U+FFFD, which
	// would store something other than what was sent; Airflow refuses
	// such a body.
	if !utf8.Valid(body) {
		return windsock.Errorf(windsock.EINVALID, "malformed JSON at offset %d: invalid UTF-8", invalidUTF8Offset(body))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber() // numbers in conf and values keep Python's int/float types
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, body)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return windsock.Errorf(windsock.EINVALID, "malformed JSON: unexpected data after the value at offset %d", dec.InputOffset())
	}
	windsock.NormalizeNumbers(reflect.ValueOf(dst))
	return nil
}

// invalidUTF8Offset returns the offset of the first byte of body that is
// not part of a valid UTF-8 sequence.
func invalidUTF8Offset(body []byte) int {
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRune(body[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(body)
}

func decodeError(err error, body []byte) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return windsock.Errorf(windsock.EINVALID, "malformed JSON at offset %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return windsock.Errorf(windsock.EINVALID, "malformed JSON at offset %d: unexpected end of input", len(body))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return windsock.Errorf(windsock.EINVALID, "request body: expected %s, got %s", jsonType(typ.Type), typ.Value)
		}
		return windsock.Errorf(windsock.EINVALID, "field %q: expected %s, got %s", typ.Field, jsonType(typ.Type), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return windsock.Errorf(windsock.EINVALID, "unknown field %s", name)
	}
	var ie *windsock.Error
	if errors.As(err, &ie) {
		// A field type's UnmarshalJSON rejected its value.
		return err
	}
	return windsock.Errorf(windsock.EINVALID, "invalid request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		if t.String() == "time.Time" {
			return "string (ISO 8601 date-time)"
		}
		return "object"
	}
	return t.String()
}

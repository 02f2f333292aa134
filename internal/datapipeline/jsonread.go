package datapipeline

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jvalue is one JSON value as the lenient reader saw it. Objects keep
// their keys in file order so the conversion (and its report) is
// deterministic; numbers keep their text, since Data Pipeline treats every
// scalar as a string anyway.
type jvalue struct {
	kind   jkind
	text   string // string value, number text, "true"/"false"
	items  []*jvalue
	fields []jfield
	line   int
}

type jfield struct {
	key string
	val *jvalue
}

type jkind int

const (
	jNull jkind = iota
	jString
	jNumber
	jBool
	jArray
	jObject
)

// get returns the value of key in an object, nil when absent (the last
// one wins when a key repeats, as Python's json module does).
func (v *jvalue) get(key string) *jvalue {
	var out *jvalue
	for _, f := range v.fields {
		if f.key == key {
			out = f.val
		}
	}
	return out
}

// scalar returns a scalar's text and whether v is a scalar.
func (v *jvalue) scalar() (string, bool) {
	switch v.kind {
	case jString, jNumber, jBool:
		return v.text, true
	case jNull:
		return "", true
	}
	return "", false
}

// SyntaxError is a definition that is not JSON even read leniently.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// jsonReader is a small recursive-descent JSON reader that accepts what
// the Data Pipeline CLI accepts in practice and strict JSON does not:
// trailing commas before } and ], and raw control characters (newlines,
// tabs) inside strings. Each repair is recorded, so the report can say
// what was fixed where.
type jsonReader struct {
	src     []byte
	pos     int
	line    int
	lineAt  int // offset of the current line's first byte
	depth   int
	repairs []string
}

// maxDepth bounds nesting: a definition is three levels deep, so anything
// far deeper is not a definition and must not exhaust the stack.
const maxDepth = 64

func readJSON(src []byte) (*jvalue, []string, error) {
	r := &jsonReader{src: src, line: 1}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		r.pos = 3
		r.lineAt = 3
	}
	r.space()
	v, err := r.value()
	if err != nil {
		return nil, nil, err
	}
	r.space()
	if r.pos < len(r.src) {
		return nil, nil, r.fail("unexpected %s after the end of the document", r.what())
	}
	return v, r.repairs, nil
}

func (r *jsonReader) fail(format string, args ...any) error {
	col := utf8.RuneCount(r.src[r.lineAt:min(r.pos, len(r.src))]) + 1
	return &SyntaxError{Line: r.line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func (r *jsonReader) what() string {
	if r.pos >= len(r.src) {
		return "end of file"
	}
	c, _ := utf8.DecodeRune(r.src[r.pos:])
	return strconv.QuoteRune(c)
}

func (r *jsonReader) space() {
	for r.pos < len(r.src) {
		switch r.src[r.pos] {
		case '\n':
			r.pos++
			r.line++
			r.lineAt = r.pos
		case ' ', '\t', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) value() (*jvalue, error) {
	if r.pos >= len(r.src) {
		return nil, r.fail("unexpected end of file: expected a value")
	}
	line := r.line
	switch c := r.src[r.pos]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s, err := r.str()
		return &jvalue{kind: jString, text: s, line: line}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	case r.word("true"):
		return &jvalue{kind: jBool, text: "true", line: line}, nil
	case r.word("false"):
		return &jvalue{kind: jBool, text: "false", line: line}, nil
	case r.word("null"):
		return &jvalue{kind: jNull, line: line}, nil
	}
	return nil, r.fail("expected a value, found %s", r.what())
}

func (r *jsonReader) word(w string) bool {
	if strings.HasPrefix(string(r.src[r.pos:min(len(r.src), r.pos+len(w))]), w) {
		r.pos += len(w)
		return true
	}
	return false
}

func (r *jsonReader) number() (*jvalue, error) {
	start := r.pos
	for r.pos < len(r.src) && strings.IndexByte("+-0123456789.eE", r.src[r.pos]) >= 0 {
		r.pos++
	}
	text := string(r.src[start:r.pos])
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		r.pos = start
		return nil, r.fail("bad number %q", text)
	}
	return &jvalue{kind: jNumber, text: text, line: r.line}, nil
}

func (r *jsonReader) enter() error {
	r.depth++
	if r.depth > maxDepth {
		return r.fail("nested more than %d levels deep", maxDepth)
	}
	return nil
}

func (r *jsonReader) object() (*jvalue, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	v := &jvalue{kind: jObject, line: r.line}
	r.pos++ // {
	for {
		r.space()
		if r.pos < len(r.src) && r.src[r.pos] == '}' {
			r.pos++
			return v, nil
		}
		if r.pos >= len(r.src) || r.src[r.pos] != '"' {
			return nil, r.fail("expected a quoted key or '}', found %s", r.what())
		}
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		r.space()
		if r.pos >= len(r.src) || r.src[r.pos] != ':' {
			return nil, r.fail("expected ':' after key %q, found %s", key, r.what())
		}
		r.pos++
		r.space()
		val, err := r.value()
		if err != nil {
			return nil, err
		}
		v.fields = append(v.fields, jfield{key: key, val: val})
		if done, err := r.separator('}'); done || err != nil {
			return v, err
		}
	}
}

func (r *jsonReader) array() (*jvalue, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	v := &jvalue{kind: jArray, line: r.line}
	r.pos++ // [
	r.space()
	if r.pos < len(r.src) && r.src[r.pos] == ']' {
		r.pos++
		return v, nil
	}
	for {
		r.space()
		item, err := r.value()
		if err != nil {
			return nil, err
		}
		v.items = append(v.items, item)
		if done, err := r.separator(']'); done || err != nil {
			return v, err
		}
	}
}

// separator reads the ',' or the closing bracket after a member; a comma
// followed by the closing bracket is a trailing comma, repaired.
func (r *jsonReader) separator(end byte) (done bool, err error) {
	r.space()
	if r.pos >= len(r.src) {
		return true, r.fail("unexpected end of file: expected ',' or '%c'", end)
	}
	switch r.src[r.pos] {
	case end:
		r.pos++
		return true, nil
	case ',':
		line := r.line
		r.pos++
		r.space()
		if r.pos < len(r.src) && r.src[r.pos] == end {
			r.repairs = append(r.repairs, fmt.Sprintf("line %d: removed a trailing comma", line))
			r.pos++
			return true, nil
		}
		return false, nil
	}
	return true, r.fail("expected ',' or '%c', found %s", end, r.what())
}

func (r *jsonReader) str() (string, error) {
	r.pos++ // opening quote
	var b strings.Builder
	repaired := false
	startLine := r.line
	for {
		if r.pos >= len(r.src) {
			return "", r.fail("unterminated string that starts on line %d", startLine)
		}
		c := r.src[r.pos]
		switch {
		case c == '"':
			r.pos++
			if repaired {
				r.repairs = append(r.repairs, fmt.Sprintf("line %d: kept raw control characters inside a string", startLine))
			}
			return b.String(), nil
		case c == '\\':
			if err := r.escape(&b); err != nil {
				return "", err
			}
		case c < 0x20:
			repaired = true
			b.WriteByte(c)
			r.pos++
			if c == '\n' {
				r.line++
				r.lineAt = r.pos
			}
		default:
			b.WriteByte(c)
			r.pos++
		}
	}
}

func (r *jsonReader) escape(b *strings.Builder) error {
	if r.pos+1 >= len(r.src) {
		return r.fail("unterminated escape sequence")
	}
	c := r.src[r.pos+1]
	r.pos += 2
	switch c {
	case '"', '\\', '/':
		b.WriteByte(c)
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'u':
		if r.pos+4 > len(r.src) {
			return r.fail("short \\u escape")
		}
		n, err := strconv.ParseUint(string(r.src[r.pos:r.pos+4]), 16, 32)
		if err != nil {
			return r.fail("bad \\u escape %q", r.src[r.pos:r.pos+4])
		}
		r.pos += 4
		rn := rune(n)
		if utf16Surrogate(rn) && r.pos+6 <= len(r.src) && r.src[r.pos] == '\\' && r.src[r.pos+1] == 'u' {
			if lo, err := strconv.ParseUint(string(r.src[r.pos+2:r.pos+6]), 16, 32); err == nil {
				rn = (rn-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
				r.pos += 6
			}
		}
		b.WriteRune(rn)
	default:
		r.pos -= 2
		return r.fail("bad escape sequence \\%c", c)
	}
	return nil
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xDC00 }

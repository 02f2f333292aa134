package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonPath is a parsed response_filter: a chain of object keys (string
// steps) and array indexes (int steps).
type jsonPath []any

// parseJSONPath reads the subset of JSONPath a response filter needs: an
// optional "$", then ".key", "[index]" (negative counts from the end) or
// "['key']" / "[\"key\"]" steps; the first key may omit its dot.
func parseJSONPath(expr string) (jsonPath, error) {
	s := strings.TrimSpace(expr)
	s = strings.TrimPrefix(s, "$")
	path := jsonPath{}
	first := true
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
			key, rest := splitKey(s)
			if key == "" {
				return nil, fmt.Errorf("empty key in %q", expr)
			}
			path, s = append(path, key), rest
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", expr)
			}
			if len(s) > 1 && (s[1] == '\'' || s[1] == '"') {
				// A quoted key may hold "]": look for the closing quote
				// followed by "]" rather than the first "]".
				closing := strings.Index(s[2:], string(s[1])+"]")
				if closing < 0 {
					return nil, fmt.Errorf("unclosed quote in %q", expr)
				}
				path = append(path, s[2:2+closing])
				s = s[2+closing+2:]
				break
			}
			inner := strings.TrimSpace(s[1:end])
			n, err := strconv.Atoi(inner)
			if err != nil {
				return nil, fmt.Errorf("bad index [%s] in %q: use a number or a quoted key", inner, expr)
			}
			path, s = append(path, n), s[end+1:]
		case first:
			key, rest := splitKey(s)
			path, s = append(path, key), rest
		default:
			return nil, fmt.Errorf("unexpected %q in %q", s, expr)
		}
		first = false
	}
	return path, nil
}

// splitKey splits a bare key off the front of s: it runs to the next "."
// or "[".
func splitKey(s string) (string, string) {
	i := strings.IndexAny(s, ".[")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// apply walks doc along the path.
func (p jsonPath) apply(doc any) (any, error) {
	cur := doc
	for i, step := range p {
		switch k := step.(type) {
		case string:
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s is %s, not an object", p.prefix(i), kind(cur))
			}
			v, ok := obj[k]
			if !ok {
				return nil, fmt.Errorf("%s has no key %q", p.prefix(i), k)
			}
			cur = v
		case int:
			arr, ok := cur.([]any)
			if !ok {
				return nil, fmt.Errorf("%s is %s, not an array", p.prefix(i), kind(cur))
			}
			idx := k
			if idx < 0 {
				idx += len(arr)
			}
			if idx < 0 || idx >= len(arr) {
				return nil, fmt.Errorf("%s has %d items, index %d is out of range", p.prefix(i), len(arr), k)
			}
			cur = arr[idx]
		}
	}
	return cur, nil
}

// prefix renders the first n steps, for error messages.
func (p jsonPath) prefix(n int) string {
	var b strings.Builder
	b.WriteByte('$')
	for _, step := range p[:n] {
		switch k := step.(type) {
		case string:
			b.WriteString("." + k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

// decodeJSON decodes a body keeping integers exact: they become int64
// (float64 only when they have a fraction or do not fit).
func decodeJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return normalizeNumbers(v), nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		// Out of float64's range: keep the digits rather than lose them.
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

package windsock

import (
	"encoding/json"
	"errors"
	"fmt"
)

// The instances of a task mapped over a list of n elements each need one
// element; splitting the whole list with encoding/json for each of them
// cost half a millisecond per instance over 1,000 short strings. These
// scan the JSON text instead, allocating nothing but the element returned:
// the text comes from the DAG file parser or from a stored XCom, both
// valid JSON, and anything malformed is still an error.

var errBadJSON = errors.New("malformed JSON in a mapped value")

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at i.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errBadJSON
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errBadJSON
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != ']' && b[i] != '}' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	if i == start {
		return 0, errBadJSON
	}
	return i, nil
}

// skipString returns the index just past the string starting at i.
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errBadJSON
}

// scanItems walks a JSON list (or object) up to entry want: it returns
// that entry's value (and, in an object, its quoted key) with found set,
// or, when want is negative or past the end, the number of entries. each,
// when not nil, is called with every entry walked.
func scanItems(raw []byte, want int, each func(key, val []byte)) (n int, key, val []byte, found bool, err error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || (raw[i] != '[' && raw[i] != '{') {
		return 0, nil, nil, false, fmt.Errorf("unmappable return type %s", pyQuote(jsonTypeName(raw)))
	}
	object := raw[i] == '{'
	closer := byte(']')
	if object {
		closer = '}'
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == closer {
		return 0, nil, nil, false, nil
	}
	for {
		if object {
			if i >= len(raw) || raw[i] != '"' {
				return 0, nil, nil, false, errBadJSON
			}
			end, err := skipString(raw, i)
			if err != nil {
				return 0, nil, nil, false, err
			}
			key = raw[i:end]
			i = skipSpace(raw, end)
			if i >= len(raw) || raw[i] != ':' {
				return 0, nil, nil, false, errBadJSON
			}
			i = skipSpace(raw, i+1)
		}
		end, err := skipValue(raw, i)
		if err != nil {
			return 0, nil, nil, false, err
		}
		if n == want {
			return n + 1, key, raw[i:end], true, nil
		}
		if each != nil {
			each(key, raw[i:end])
		}
		n++
		i = skipSpace(raw, end)
		switch {
		case i >= len(raw):
			return 0, nil, nil, false, errBadJSON
		case raw[i] == closer:
			return n, nil, nil, false, nil
		case raw[i] != ',':
			return 0, nil, nil, false, errBadJSON
		}
		i = skipSpace(raw, i+1)
	}
}

// itemCount returns the number of entries of a JSON list or object.
func itemCount(raw []byte) (int, error) {
	n, _, _, _, err := scanItems(raw, -1, nil)
	return n, err
}

// itemAt returns entry i of a JSON list, or the [key, value] pair of entry
// i of a JSON object; ok is false past the end.
func itemAt(raw []byte, i int) (item json.RawMessage, ok bool, err error) {
	_, key, val, ok, err := scanItems(raw, i, nil)
	if !ok || err != nil || key == nil {
		return val, ok, err
	}
	return pair(key, val), true, nil
}

// pair writes an object entry as the JSON list [key, value].
func pair(key, val []byte) json.RawMessage {
	item := make([]byte, 0, len(key)+len(val)+3)
	return append(append(append(append(append(item, '['), key...), ','), val...), ']')
}

// jsonItems returns every entry of a JSON list, or the [key, value] pairs
// of a JSON object, in order, in one pass.
func jsonItems(raw []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	_, _, _, _, err := scanItems(raw, -1, func(key, val []byte) {
		if key == nil {
			out = append(out, val)
			return
		}
		out = append(out, pair(key, val))
	})
	return out, err
}

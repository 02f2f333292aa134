package metaport

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// pythonReprToJSON turns the Python repr of plain data (what the CSV tools
// wrote for json columns: single quotes, None, True, tuples) into JSON.
// JSON text is returned as it is.
func pythonReprToJSON(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || json.Valid([]byte(s)) {
		return s, nil
	}
	p := &reprParser{s: s}
	v, err := p.value()
	if err != nil {
		return "", err
	}
	p.space()
	if p.i != len(p.s) {
		return "", fmt.Errorf("unexpected %q after a Python value", p.s[p.i:])
	}
	b, err := json.Marshal(v)
	return string(b), err
}

type reprParser struct {
	s string
	i int
}

func (p *reprParser) space() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\r\n", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *reprParser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("a Python value ends early")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.dict()
	case c == '[' || c == '(':
		return p.list(map[byte]byte{'[': ']', '(': ')'}[c])
	case c == '\'' || c == '"':
		return p.str()
	}
	for word, v := range map[string]any{"None": nil, "True": true, "False": false} {
		if strings.HasPrefix(p.s[p.i:], word) {
			p.i += len(word)
			return v, nil
		}
	}
	start := p.i
	for p.i < len(p.s) && strings.ContainsRune("+-0123456789.eE", rune(p.s[p.i])) {
		p.i++
	}
	tok := p.s[start:p.i]
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil {
		return f, nil
	}
	return nil, fmt.Errorf("not plain Python data at %q", p.s[start:])
}

func (p *reprParser) list(end byte) (any, error) {
	p.i++
	out := []any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		if err := p.sep(end); err != nil {
			return nil, err
		}
	}
}

func (p *reprParser) sep(end byte) error {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == end {
		return nil
	}
	return fmt.Errorf("expected ',' or %q at %d", end, p.i)
}

func (p *reprParser) dict() (any, error) {
	p.i++
	out := map[string]any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("dict key %v is not a string", k)
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("expected ':' at %d", p.i)
		}
		p.i++
		if out[key], err = p.value(); err != nil {
			return nil, err
		}
		if err := p.sep('}'); err != nil {
			return nil, err
		}
	}
}

// str reads a Python string literal; its escapes are Go's, but for \'.
func (p *reprParser) str() (any, error) {
	q := p.s[p.i]
	var sb strings.Builder
	for j := p.i + 1; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case c == '\\' && j+1 < len(p.s):
			sb.WriteByte(c)
			sb.WriteByte(p.s[j+1])
			j++
		case c == q:
			body := strings.ReplaceAll(sb.String(), `\'`, `'`)
			body = strings.ReplaceAll(body, `"`, `\"`)
			body = strings.ReplaceAll(body, `\\"`, `\"`)
			u, err := strconv.Unquote(`"` + body + `"`)
			if err != nil {
				return nil, fmt.Errorf("string %s: %w", p.s[p.i:j+1], err)
			}
			p.i = j + 1
			return u, nil
		default:
			sb.WriteByte(c)
		}
	}
	return nil, fmt.Errorf("unterminated string")
}

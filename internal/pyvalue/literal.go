package pyvalue

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// LiteralEval is Python's ast.literal_eval(ast.parse(s, mode="eval")) for
// the literals JSON can carry: None, True, False, ints (decimal, 0x, 0o,
// 0b, with underscores), floats, strings (with prefixes r and u, adjacent
// strings joined, triple quotes), lists, tuples (as lists) and dicts (keys
// made strings with Str), with a unary sign on numbers. It reports false
// for anything else (sets, bytes, complex numbers, expressions), and for
// text that starts with a space or tab, which Python rejects as an
// unexpected indent: Jinja's native rendering then keeps the string.
func LiteralEval(s string) (any, bool) {
	if s == "" || s[0] == ' ' || s[0] == '\t' {
		return nil, false
	}
	p := &literalParser{src: s}
	p.skipSpace()
	v, ok := p.tupleOrValue(true)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	return v, p.pos == len(p.src)
}

type literalParser struct {
	src   string
	pos   int
	depth int
}

// maxDepth bounds nesting, as Python's parser does, so that hostile text
// cannot exhaust the stack.
const maxDepth = 200

// skipSpace skips whitespace and comments; inside brackets newlines are
// whitespace too, and at the top level eval mode accepts them at the end.
func (p *literalParser) skipSpace() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			p.pos++
		case c == '\\' && strings.HasPrefix(p.src[p.pos:], "\\\n"):
			p.pos += 2
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *literalParser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

// tupleOrValue reads a value, or a bare tuple ("1, 2") where one is
// allowed (the top level and inside parentheses).
func (p *literalParser) tupleOrValue(bare bool) (any, bool) {
	first, ok := p.value()
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if !bare || p.peek() != ',' {
		return first, true
	}
	items := []any{first}
	for p.peek() == ',' {
		p.pos++
		p.skipSpace()
		if c := p.peek(); c == 0 || c == ')' {
			break
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		items = append(items, v)
		p.skipSpace()
	}
	return items, true
}

func (p *literalParser) value() (any, bool) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, false
	}
	p.skipSpace()
	c := p.peek()
	switch {
	case c == '[':
		p.pos++
		return p.sequence(']')
	case c == '(':
		p.pos++
		p.skipSpace()
		if p.peek() == ')' {
			p.pos++
			return []any{}, true
		}
		v, ok := p.tupleOrValue(true)
		p.skipSpace()
		if !ok || p.peek() != ')' {
			return nil, false
		}
		p.pos++
		return v, true
	case c == '{':
		p.pos++
		return p.dict()
	case c == '-' || c == '+':
		p.pos++
		p.skipSpace()
		n, ok := p.number()
		if !ok {
			return nil, false
		}
		if c == '+' {
			return n, true
		}
		return negate(n), true
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case c == '\'' || c == '"':
		return p.strings()
	}
	word := p.word()
	switch word {
	case "None":
		return nil, true
	case "True":
		return true, true
	case "False":
		return false, true
	}
	lw := strings.ToLower(word)
	if (lw == "r" || lw == "u") && (p.peek() == '\'' || p.peek() == '"') {
		p.pos -= len(word)
		return p.strings()
	}
	return nil, false
}

func (p *literalParser) word() string {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			break
		}
		p.pos++
	}
	return p.src[start:p.pos]
}

func (p *literalParser) sequence(end byte) (any, bool) {
	items := []any{}
	for {
		p.skipSpace()
		if p.peek() == end {
			p.pos++
			return items, true
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		items = append(items, v)
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case end:
		default:
			return nil, false
		}
	}
}

func (p *literalParser) dict() (any, bool) {
	out := map[string]any{}
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.pos++
			return out, true
		}
		k, ok := p.value()
		if !ok {
			return nil, false
		}
		if _, isList := k.([]any); isList {
			return nil, false // unhashable, or a tuple key JSON cannot hold
		}
		p.skipSpace()
		if p.peek() != ':' {
			return nil, false // a set, or junk
		}
		p.pos++
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		out[Str(k)] = v
		p.skipSpace()
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
		default:
			return nil, false
		}
	}
}

// number reads an int or a float literal.
func (p *literalParser) number() (any, bool) {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		isExpSign := (c == '+' || c == '-') && p.pos > start && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E') && !isPrefixed(p.src[start:p.pos])
		if !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' && !isExpSign {
			break
		}
		p.pos++
	}
	lit := p.src[start:p.pos]
	if lit == "" || strings.HasPrefix(lit, "_") || strings.HasSuffix(lit, "_") || strings.Contains(lit, "__") {
		return nil, false
	}
	clean := strings.ReplaceAll(lit, "_", "")
	if isPrefixed(clean) {
		n, ok := new(big.Int).SetString(clean, 0)
		if !ok {
			return nil, false
		}
		return fromBig(n), true
	}
	if strings.ContainsAny(clean, ".eE") {
		if strings.ContainsAny(clean, "xXjJ") {
			return nil, false
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil && !isRangeErr(err) {
			return nil, false
		}
		return f, true
	}
	for _, c := range clean {
		if c < '0' || c > '9' {
			return nil, false
		}
	}
	if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return nil, false // Python 3 has no leading-zero decimal ints
	}
	n, _ := new(big.Int).SetString(clean, 10)
	return fromBig(n), true
}

func isPrefixed(s string) bool {
	if len(s) < 2 || s[0] != '0' {
		return false
	}
	switch s[1] {
	case 'x', 'X', 'o', 'O', 'b', 'B':
		return true
	}
	return false
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// fromBig is n as an int where it fits.
func fromBig(n *big.Int) any {
	if n.IsInt64() && strconv.IntSize == 64 {
		return int(n.Int64())
	}
	return n
}

func negate(n any) any {
	switch x := n.(type) {
	case int:
		if x == -x && x != 0 { // the smallest int
			return new(big.Int).Neg(big.NewInt(int64(x)))
		}
		return -x
	case *big.Int:
		return fromBig(new(big.Int).Neg(x))
	case float64:
		return -x
	}
	return n
}

// strings reads one or more adjacent string literals and joins them.
func (p *literalParser) strings() (any, bool) {
	var b strings.Builder
	read := false
	for {
		p.skipSpace()
		start := p.pos
		raw := false
		for p.pos < len(p.src) && p.pos-start < 2 {
			c := p.src[p.pos] | 0x20
			if c == 'r' {
				raw = true
			} else if c != 'u' {
				break
			}
			p.pos++
		}
		if q := p.peek(); q != '\'' && q != '"' {
			p.pos = start
			return b.String(), read
		}
		if !p.stringLiteral(&b, raw) {
			return nil, false
		}
		read = true
	}
}

// stringLiteral reads one quoted literal at p.pos into b.
func (p *literalParser) stringLiteral(b *strings.Builder, raw bool) bool {
	q := p.src[p.pos]
	triple := strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(q), 3))
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q && (!triple || strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(q), 3))):
			if triple {
				p.pos += 3
			} else {
				p.pos++
			}
			return true
		case c == '\n' && !triple:
			return false
		case c == '\\':
			if p.pos+1 >= len(p.src) {
				return false
			}
			if raw {
				b.WriteString(p.src[p.pos : p.pos+2])
				p.pos += 2
				continue
			}
			if !p.escape(b) {
				return false
			}
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return false
}

// escape reads one backslash escape at p.pos into b.
func (p *literalParser) escape(b *strings.Builder) bool {
	c := p.src[p.pos+1]
	p.pos += 2
	simple := map[byte]string{'\n': "", '\\': "\\", '\'': "'", '"': "\"", 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v"}
	if s, ok := simple[c]; ok {
		b.WriteString(s)
		return true
	}
	hex := map[byte]int{'x': 2, 'u': 4, 'U': 8}
	if n, ok := hex[c]; ok {
		if p.pos+n > len(p.src) {
			return false
		}
		r, err := strconv.ParseUint(p.src[p.pos:p.pos+n], 16, 32)
		if err != nil || (c != 'x' && !utf8.ValidRune(rune(r))) {
			return false
		}
		p.pos += n
		b.WriteRune(rune(r))
		return true
	}
	if c >= '0' && c <= '7' {
		end := p.pos - 1
		for end < len(p.src) && end < p.pos+2 && p.src[end] >= '0' && p.src[end] <= '7' {
			end++
		}
		r, _ := strconv.ParseUint(p.src[p.pos-1:end], 8, 32)
		p.pos = end
		b.WriteRune(rune(r))
		return true
	}
	if c == 'N' {
		return false // named characters are not supported
	}
	// Python keeps unknown escapes as they are.
	b.WriteByte('\\')
	b.WriteByte(c)
	return true
}

package datapipeline

import (
	"fmt"
	"strings"
)

// The expression language of #{...}: identifiers (with @ or * prefixes),
// dotted references (input.directoryPath, node.@scheduledStartTime),
// numbers, quoted strings, calls (format(x, 'YYYY')), method calls
// (@scheduledStartTime.format('...')), + - * / ^ and parentheses.

type exprKind int

const (
	eNum exprKind = iota
	eStr
	eRef  // dotted reference: parts
	eCall // name(args), a method call puts the receiver first
	eBin  // op, args[0] op args[1]
	eNeg
)

type expr struct {
	kind  exprKind
	text  string // number text, string value, function name, operator
	parts []string
	args  []*expr
}

type token struct {
	kind byte // 'i' ident, 'n' number, 's' string, or the operator/punctuation itself
	text string
}

func lexExpr(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string")
			}
			out = append(out, token{'s', s[i+1 : i+1+j]})
			i += j + 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, token{'n', s[i:j]})
			i = j
		case c == '@' || c == '*' && prevAllowsPrefix(out) && isIdentStart(s[i+1:]) || isLetter(c) || c == '_':
			j := i + 1
			for j < len(s) && (isLetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '_') {
				j++
			}
			if j == i+1 && (c == '@' || c == '*') {
				return nil, fmt.Errorf("%q must be followed by a name", c)
			}
			out = append(out, token{'i', s[i:j]})
			i = j
		case strings.IndexByte("+-*/^(),.", c) >= 0:
			out = append(out, token{c, string(c)})
			i++
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdentStart(s string) bool { return s != "" && (isLetter(s[0]) || s[0] == '_') }

// prevAllowsPrefix says a '*' starts an encrypted name (*myPassword)
// rather than multiplying: it does at the start and after an operator.
func prevAllowsPrefix(prev []token) bool {
	if len(prev) == 0 {
		return true
	}
	switch prev[len(prev)-1].kind {
	case 'i', 'n', 's', ')':
		return false
	}
	return true
}

type exprParser struct {
	toks []token
	pos  int
}

func parseExpr(s string) (*expr, error) {
	toks, err := lexExpr(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	p := &exprParser{toks: toks}
	e, err := p.sum()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return e, nil
}

func (p *exprParser) peek() byte {
	if p.pos < len(p.toks) {
		return p.toks[p.pos].kind
	}
	return 0
}

func (p *exprParser) sum() (*expr, error) {
	l, err := p.product()
	for err == nil && (p.peek() == '+' || p.peek() == '-') {
		op := p.toks[p.pos].text
		p.pos++
		var r *expr
		if r, err = p.product(); err == nil {
			l = &expr{kind: eBin, text: op, args: []*expr{l, r}}
		}
	}
	return l, err
}

func (p *exprParser) product() (*expr, error) {
	l, err := p.power()
	for err == nil && (p.peek() == '*' || p.peek() == '/') {
		op := p.toks[p.pos].text
		p.pos++
		var r *expr
		if r, err = p.power(); err == nil {
			l = &expr{kind: eBin, text: op, args: []*expr{l, r}}
		}
	}
	return l, err
}

func (p *exprParser) power() (*expr, error) {
	l, err := p.unary()
	if err == nil && p.peek() == '^' {
		p.pos++
		var r *expr
		if r, err = p.power(); err == nil {
			l = &expr{kind: eBin, text: "^", args: []*expr{l, r}}
		}
	}
	return l, err
}

func (p *exprParser) unary() (*expr, error) {
	if p.peek() == '-' {
		p.pos++
		e, err := p.unary()
		return &expr{kind: eNeg, args: []*expr{e}}, err
	}
	return p.postfix()
}

func (p *exprParser) postfix() (*expr, error) {
	e, err := p.primary()
	for err == nil && p.peek() == '.' {
		p.pos++
		if p.peek() != 'i' {
			return nil, fmt.Errorf("expected a name after '.'")
		}
		name := p.toks[p.pos].text
		p.pos++
		if p.peek() == '(' {
			args, aerr := p.args()
			if aerr != nil {
				return nil, aerr
			}
			e = &expr{kind: eCall, text: name, args: append([]*expr{e}, args...)}
			continue
		}
		if e.kind != eRef {
			return nil, fmt.Errorf("only references have fields: .%s", name)
		}
		e.parts = append(e.parts, name)
	}
	return e, err
}

func (p *exprParser) args() ([]*expr, error) {
	p.pos++ // (
	var out []*expr
	if p.peek() == ')' {
		p.pos++
		return out, nil
	}
	for {
		a, err := p.sum()
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return out, nil
		default:
			return nil, fmt.Errorf("expected ',' or ')' in an argument list")
		}
	}
}

func (p *exprParser) primary() (*expr, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	t := p.toks[p.pos]
	p.pos++
	switch t.kind {
	case 'n':
		return &expr{kind: eNum, text: t.text}, nil
	case 's':
		return &expr{kind: eStr, text: t.text}, nil
	case 'i':
		if p.peek() == '(' {
			args, err := p.args()
			return &expr{kind: eCall, text: t.text, args: args}, err
		}
		if p.peek() == 'i' {
			return nil, fmt.Errorf("unexpected name %q after %q (names cannot contain spaces)", p.toks[p.pos].text, t.text)
		}
		return &expr{kind: eRef, parts: []string{t.text}}, nil
	case '(':
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("missing ')'")
		}
		p.pos++
		return e, nil
	}
	return nil, fmt.Errorf("unexpected %q", t.text)
}

// segment is a piece of a field value: literal text or an expression.
type segment struct {
	lit  string
	expr string // the source inside #{...}
	isEx bool
}

// splitExpressions cuts s at its #{...} expressions. ${...} and $1 are not
// Data Pipeline expressions and stay literal text.
func splitExpressions(s string) ([]segment, error) {
	var out []segment
	for {
		i := strings.Index(s, "#{")
		if i < 0 {
			if s != "" {
				out = append(out, segment{lit: s})
			}
			return out, nil
		}
		if i > 0 {
			out = append(out, segment{lit: s[:i]})
		}
		depth, j := 0, i+2
		for ; j < len(s); j++ {
			if s[j] == '{' {
				depth++
			} else if s[j] == '}' {
				if depth == 0 {
					break
				}
				depth--
			}
		}
		if j >= len(s) {
			return nil, fmt.Errorf("unterminated expression %q", s[i:])
		}
		out = append(out, segment{expr: s[i+2 : j], isEx: true})
		s = s[j+1:]
	}
}

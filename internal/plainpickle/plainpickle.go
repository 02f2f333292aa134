// Package plainpickle decodes Python pickles that hold only plain data
// (None, booleans, integers, floats, strings, lists, tuples and dicts with
// string keys) into Go values that encode as JSON. Airflow's metadata
// databases hold such pickles in dag_run.conf, in 1.10's xcom.value and in
// task_instance.executor_config; an importer has to read them without ever
// running the code a pickle can name. So this decoder is an interpreter of
// the data opcodes only: any opcode that names a class or calls something
// (GLOBAL, STACK_GLOBAL, REDUCE, BUILD, INST, OBJ, NEWOBJ, persistent ids,
// extensions) makes Decode fail with ErrNotPlain, and the caller keeps the
// original bytes.
package plainpickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrNotPlain means the pickle holds something other than plain data (an
// object of some class, bytes, a set), so it is not decoded.
var ErrNotPlain = errors.New("pickle holds more than plain data")

// ErrMalformed means the bytes are not a well-formed pickle.
var ErrMalformed = errors.New("malformed pickle")

// maxItems bounds what a hostile pickle can make the decoder allocate.
const maxItems = 1 << 22

// IsPickle reports whether b looks like a pickle of protocol 2 or later
// (the PROTO opcode first), the form Python 3 writes by default.
func IsPickle(b []byte) bool {
	return len(b) >= 3 && b[0] == 0x80 && b[1] <= 5 && b[len(b)-1] == '.'
}

type mark struct{}

// Decode returns the plain value a pickle holds: nil, bool, int64 (or
// *big.Int beyond 64 bits), float64, string, []any or map[string]any.
// Tuples become lists. A dict whose keys are not all strings is not plain.
func Decode(b []byte) (any, error) {
	d := &decoder{buf: b, memo: map[int]any{}}
	v, err := d.run()
	if err != nil {
		return nil, err
	}
	return v, nil
}

type decoder struct {
	buf   []byte
	pos   int
	stack []any
	memo  map[int]any
	items int
}

func (d *decoder) read(n int) ([]byte, error) {
	if n < 0 || d.pos+n > len(d.buf) {
		return nil, fmt.Errorf("%w: truncated at byte %d", ErrMalformed, d.pos)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) readLine() (string, error) {
	i := strings.IndexByte(string(d.buf[d.pos:]), '\n')
	if i < 0 {
		return "", fmt.Errorf("%w: unterminated line at byte %d", ErrMalformed, d.pos)
	}
	s := string(d.buf[d.pos : d.pos+i])
	d.pos += i + 1
	return s, nil
}

func (d *decoder) uint(n int) (uint64, error) {
	b, err := d.read(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (d *decoder) push(v any) error {
	d.items++
	if d.items > maxItems {
		return fmt.Errorf("%w: more than %d items", ErrMalformed, maxItems)
	}
	d.stack = append(d.stack, v)
	return nil
}

func (d *decoder) pop() (any, error) {
	if len(d.stack) == 0 {
		return nil, fmt.Errorf("%w: stack underflow at byte %d", ErrMalformed, d.pos)
	}
	v := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	if _, ok := v.(mark); ok {
		return nil, fmt.Errorf("%w: unexpected mark at byte %d", ErrMalformed, d.pos)
	}
	return v, nil
}

func (d *decoder) top() (any, error) {
	if len(d.stack) == 0 {
		return nil, fmt.Errorf("%w: stack underflow at byte %d", ErrMalformed, d.pos)
	}
	return d.stack[len(d.stack)-1], nil
}

// popMark returns the items above the topmost mark and removes them with
// the mark.
func (d *decoder) popMark() ([]any, error) {
	for i := len(d.stack) - 1; i >= 0; i-- {
		if _, ok := d.stack[i].(mark); ok {
			items := append([]any(nil), d.stack[i+1:]...)
			d.stack = d.stack[:i]
			return items, nil
		}
	}
	return nil, fmt.Errorf("%w: no mark at byte %d", ErrMalformed, d.pos)
}

// list is a Python list under construction: a pointer, so that the memo
// and the stack share it while APPENDS fill it.
type list struct{ items []any }

func notPlain(op byte, what string) error {
	return fmt.Errorf("%w: opcode %q (%s)", ErrNotPlain, op, what)
}

func (d *decoder) run() (any, error) {
	for {
		opb, err := d.read(1)
		if err != nil {
			return nil, err
		}
		op := opb[0]
		switch op {
		case 0x80: // PROTO
			if _, err := d.read(1); err != nil {
				return nil, err
			}
		case 0x95: // FRAME: a length hint, the opcodes follow inline
			if _, err := d.read(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := d.pop()
			if err != nil {
				return nil, err
			}
			f := &finisher{}
			return f.finish(v, 0)
		case '(': // MARK
			d.stack = append(d.stack, mark{})
		case '0': // POP
			if len(d.stack) == 0 {
				return nil, fmt.Errorf("%w: stack underflow", ErrMalformed)
			}
			d.stack = d.stack[:len(d.stack)-1]
		case '1': // POP_MARK
			if _, err := d.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := d.top()
			if err != nil {
				return nil, err
			}
			if err := d.push(v); err != nil {
				return nil, err
			}
		case 'N':
			err = d.push(nil)
		case 0x88: // NEWTRUE
			err = d.push(true)
		case 0x89: // NEWFALSE
			err = d.push(false)
		case 'I': // INT (protocol 0), also 00/01 for booleans
			err = d.textInt()
		case 'L': // LONG (protocol 0)
			err = d.textLong()
		case 'J': // BININT
			var v uint64
			if v, err = d.uint(4); err == nil {
				err = d.push(int64(int32(uint32(v))))
			}
		case 'K': // BININT1
			var v uint64
			if v, err = d.uint(1); err == nil {
				err = d.push(int64(v))
			}
		case 'M': // BININT2
			var v uint64
			if v, err = d.uint(2); err == nil {
				err = d.push(int64(v))
			}
		case 0x8a: // LONG1
			var n uint64
			if n, err = d.uint(1); err == nil {
				err = d.binLong(int(n))
			}
		case 0x8b: // LONG4
			var n uint64
			if n, err = d.uint(4); err == nil {
				err = d.binLong(int(int32(uint32(n))))
			}
		case 'F': // FLOAT (text)
			var s string
			if s, err = d.readLine(); err == nil {
				var f float64
				if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
					err = fmt.Errorf("%w: float %q", ErrMalformed, s)
				} else {
					err = d.push(f)
				}
			}
		case 'G': // BINFLOAT, big-endian
			var b []byte
			if b, err = d.read(8); err == nil {
				err = d.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
			}
		case 'V': // UNICODE (raw-unicode-escape, protocol 0)
			var s string
			if s, err = d.readLine(); err == nil {
				err = d.push(unescapeRawUnicode(s))
			}
		case 'S': // STRING (Python 2 str, quoted repr)
			var s string
			if s, err = d.readLine(); err == nil {
				var u string
				if u, err = unquotePy2(s); err == nil {
					err = d.push(u)
				}
			}
		case 'T', 'U', 0x8c, 'X', 0x8d: // BINSTRING, SHORT_BINSTRING, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8
			err = d.binString(op)
		case 'B', 'C', 0x8e, 0x96, 0x97, 0x98: // bytes, bytearray, buffers
			return nil, notPlain(op, "bytes")
		case ']': // EMPTY_LIST
			err = d.push(&list{})
		case ')': // EMPTY_TUPLE
			err = d.push([]any{})
		case '}': // EMPTY_DICT
			err = d.push(map[string]any{})
		case 'l': // LIST
			var items []any
			if items, err = d.popMark(); err == nil {
				err = d.push(&list{items: items})
			}
		case 't': // TUPLE
			var items []any
			if items, err = d.popMark(); err == nil {
				err = d.push(items)
			}
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			err = d.tupleN(int(op-0x85) + 1)
		case 'd': // DICT
			var items []any
			if items, err = d.popMark(); err == nil {
				m := map[string]any{}
				if err = setItems(m, items); err == nil {
					err = d.push(m)
				}
			}
		case 'a': // APPEND
			var v any
			if v, err = d.pop(); err == nil {
				err = d.appendTo([]any{v})
			}
		case 'e': // APPENDS
			var items []any
			if items, err = d.popMark(); err == nil {
				err = d.appendTo(items)
			}
		case 's': // SETITEM
			var v, k any
			if v, err = d.pop(); err == nil {
				if k, err = d.pop(); err == nil {
					err = d.setInto([]any{k, v})
				}
			}
		case 'u': // SETITEMS
			var items []any
			if items, err = d.popMark(); err == nil {
				err = d.setInto(items)
			}
		case 'p': // PUT
			var s string
			if s, err = d.readLine(); err == nil {
				var i int
				if i, err = strconv.Atoi(s); err == nil {
					err = d.put(i)
				}
			}
		case 'q': // BINPUT
			var i uint64
			if i, err = d.uint(1); err == nil {
				err = d.put(int(i))
			}
		case 'r': // LONG_BINPUT
			var i uint64
			if i, err = d.uint(4); err == nil {
				err = d.put(int(i))
			}
		case 0x94: // MEMOIZE
			err = d.put(len(d.memo))
		case 'g': // GET
			var s string
			if s, err = d.readLine(); err == nil {
				var i int
				if i, err = strconv.Atoi(s); err == nil {
					err = d.get(i)
				}
			}
		case 'h': // BINGET
			var i uint64
			if i, err = d.uint(1); err == nil {
				err = d.get(int(i))
			}
		case 'j': // LONG_BINGET
			var i uint64
			if i, err = d.uint(4); err == nil {
				err = d.get(int(i))
			}
		case 'c', 0x93, 'R', 'b', 'i', 'o', 0x81, 0x92, 'P', 'Q', 0x82, 0x83, 0x84:
			return nil, notPlain(op, "class or call")
		case 0x8f, 0x90, 0x91: // EMPTY_SET, ADDITEMS, FROZENSET
			return nil, notPlain(op, "set")
		default:
			return nil, fmt.Errorf("%w: unknown opcode 0x%02x at byte %d", ErrMalformed, op, d.pos-1)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (d *decoder) put(i int) error {
	v, err := d.top()
	if err != nil {
		return err
	}
	d.memo[i] = v
	return nil
}

func (d *decoder) get(i int) error {
	v, ok := d.memo[i]
	if !ok {
		return fmt.Errorf("%w: memo %d not set", ErrMalformed, i)
	}
	return d.push(v)
}

func (d *decoder) tupleN(n int) error {
	if len(d.stack) < n {
		return fmt.Errorf("%w: stack underflow", ErrMalformed)
	}
	items := append([]any(nil), d.stack[len(d.stack)-n:]...)
	for _, it := range items {
		if _, ok := it.(mark); ok {
			return fmt.Errorf("%w: unexpected mark", ErrMalformed)
		}
	}
	d.stack = d.stack[:len(d.stack)-n]
	return d.push(items)
}

func (d *decoder) appendTo(items []any) error {
	t, err := d.top()
	if err != nil {
		return err
	}
	l, ok := t.(*list)
	if !ok {
		return fmt.Errorf("%w: append to a %T", ErrNotPlain, t)
	}
	d.items += len(items)
	l.items = append(l.items, items...)
	return nil
}

func (d *decoder) setInto(items []any) error {
	t, err := d.top()
	if err != nil {
		return err
	}
	m, ok := t.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: setitem on a %T", ErrNotPlain, t)
	}
	return setItems(m, items)
}

func setItems(m map[string]any, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("%w: odd number of dict items", ErrMalformed)
	}
	for i := 0; i < len(items); i += 2 {
		k, ok := items[i].(string)
		if !ok {
			// JSON objects only have string keys; a dict keyed by
			// numbers or tuples would not come back the same.
			return fmt.Errorf("%w: dict key of type %T", ErrNotPlain, items[i])
		}
		m[k] = items[i+1]
	}
	return nil
}

func (d *decoder) textInt() error {
	s, err := d.readLine()
	if err != nil {
		return err
	}
	switch s {
	case "00":
		return d.push(false)
	case "01":
		return d.push(true)
	}
	return d.pushBig(strings.TrimSpace(s))
}

func (d *decoder) textLong() error {
	s, err := d.readLine()
	if err != nil {
		return err
	}
	return d.pushBig(strings.TrimSuffix(strings.TrimSpace(s), "L"))
}

func (d *decoder) pushBig(s string) error {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return fmt.Errorf("%w: integer %q", ErrMalformed, s)
	}
	if n.IsInt64() {
		return d.push(n.Int64())
	}
	return d.push(n)
}

// binLong reads a little-endian two's-complement integer of n bytes.
func (d *decoder) binLong(n int) error {
	if n > 1<<16 {
		return fmt.Errorf("%w: integer of %d bytes", ErrMalformed, n)
	}
	b, err := d.read(n)
	if err != nil {
		return err
	}
	if n == 0 {
		return d.push(int64(0))
	}
	be := make([]byte, n)
	for i := range b {
		be[n-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[n-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	if v.IsInt64() {
		return d.push(v.Int64())
	}
	return d.push(v)
}

func (d *decoder) binString(op byte) error {
	var n uint64
	var err error
	switch op {
	case 'U', 0x8c:
		n, err = d.uint(1)
	case 'T', 'X':
		n, err = d.uint(4)
	case 0x8d:
		n, err = d.uint(8)
	}
	if err != nil {
		return err
	}
	if n > uint64(len(d.buf)) {
		return fmt.Errorf("%w: string of %d bytes", ErrMalformed, n)
	}
	b, err := d.read(int(n))
	if err != nil {
		return err
	}
	if (op == 'T' || op == 'U') && !utf8.Valid(b) {
		// A Python 2 byte string that is not text.
		return notPlain(op, "byte string")
	}
	return d.push(string(b))
}

// finisher turns the lists under construction into plain slices. The
// memo lets a pickle share one container in several places, or put a
// container inside itself: depth and node limits stop both from growing
// without bound.
type finisher struct{ nodes int }

const maxDepth = 500

func (f *finisher) finish(v any, depth int) (any, error) {
	f.nodes++
	if depth > maxDepth || f.nodes > maxItems {
		return nil, fmt.Errorf("%w: nested too deep or self-referencing", ErrNotPlain)
	}
	var err error
	switch t := v.(type) {
	case *list:
		return f.slice(t.items, depth)
	case []any:
		return f.slice(t, depth)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, it := range t {
			if out[k], err = f.finish(it, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case mark:
		return nil, fmt.Errorf("%w: mark left on the stack", ErrMalformed)
	}
	return v, nil
}

func (f *finisher) slice(items []any, depth int) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		v, err := f.finish(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// unescapeRawUnicode decodes Python's raw-unicode-escape: bytes are
// Latin-1 characters, and only \uXXXX and \UXXXXXXXX are escapes.
func unescapeRawUnicode(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n <= len(s) {
				if r, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					sb.WriteRune(rune(r))
					i += 1 + n
					continue
				}
			}
		}
		sb.WriteRune(rune(s[i]))
	}
	return sb.String()
}

// unquotePy2 reads protocol 0's STRING argument: a Python 2 repr in
// single or double quotes.
func unquotePy2(s string) (string, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", fmt.Errorf("%w: string %q", ErrMalformed, s)
	}
	body := s[1 : len(s)-1]
	if s[0] == '\'' {
		body = strings.ReplaceAll(body, `"`, `\"`)
		body = strings.ReplaceAll(body, `\'`, `'`)
	}
	u, err := strconv.Unquote(`"` + body + `"`)
	if err != nil {
		return "", fmt.Errorf("%w: string %q", ErrMalformed, s)
	}
	if !utf8.ValidString(u) {
		return "", notPlain('S', "byte string")
	}
	return u, nil
}

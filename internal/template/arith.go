package template

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// gonja computes +, - and the ordering comparisons on numbers and strings
// only, so `logical_date - macros.timedelta(days=1)` would silently become
// a number. After parsing, rewrite replaces those operators with
// calls to the functions below, which do date arithmetic as Python does and
// leave every other operand to gonja's own rules (reimplemented here, as
// the evaluator cannot be called on values). Operators it cannot reach
// (in control structures with unexported fields, such as {% set %}) make
// date operands fail loudly instead: see DateTime.Int.

// binaryFuncs maps operator tokens to the global functions that replace them.
var binaryFuncs = map[tokens.Type]string{
	tokens.Addition:           "__windsock_add__",
	tokens.Subtraction:        "__windsock_sub__",
	tokens.LowerThan:          "__windsock_lt__",
	tokens.LowerThanOrEqual:   "__windsock_le__",
	tokens.GreaterThan:        "__windsock_gt__",
	tokens.GreaterThanOrEqual: "__windsock_ge__",
	tokens.Multiply:           "__windsock_mul__",
	tokens.Power:              "__windsock_pow__",
}

// rewriteTriggers are the characters of the operators above: a template
// without any of them needs no rewriting of operators.
const rewriteTriggers = "+-<>*"

// arithmeticGlobals are the functions binaryFuncs names.
func arithmeticGlobals() map[string]any {
	cmp := func(keep func(int) bool) func(va *exec.VarArgs) (any, error) {
		return func(va *exec.VarArgs) (any, error) {
			c, err := compare(va.Args[0], va.Args[1])
			if err != nil {
				return nil, err
			}
			return keep(c), nil
		}
	}
	return map[string]any{
		"__windsock_add__": func(va *exec.VarArgs) (any, error) { return add(va.Args[0], va.Args[1]) },
		"__windsock_sub__": func(va *exec.VarArgs) (any, error) { return sub(va.Args[0], va.Args[1]) },
		"__windsock_lt__":  cmp(func(c int) bool { return c < 0 }),
		"__windsock_le__":  cmp(func(c int) bool { return c <= 0 }),
		"__windsock_gt__":  cmp(func(c int) bool { return c > 0 }),
		"__windsock_ge__":  cmp(func(c int) bool { return c >= 0 }),
		"__windsock_mul__": func(va *exec.VarArgs) (any, error) { return mul(va.Args[0], va.Args[1]) },
		"__windsock_pow__": func(va *exec.VarArgs) (any, error) { return pow(va.Args[0], va.Args[1]) },
	}
}

func add(l, r *exec.Value) (any, error) {
	ld, lIsDate := l.Interface().(DateTime)
	rd, rIsDate := r.Interface().(DateTime)
	lt, lIsDelta := l.Interface().(timedelta)
	rt, rIsDelta := r.Interface().(timedelta)
	switch {
	case lIsDate && rIsDelta:
		return ld.plus(time.Duration(rt.d)), nil
	case lIsDelta && rIsDate:
		return rd.plus(time.Duration(lt.d)), nil
	case lIsDelta && rIsDelta:
		return timedelta{lt.d + rt.d}, nil
	case lIsDate || rIsDate || lIsDelta || rIsDelta:
		return nil, unsupported("+", l, r)
	case l.IsList() && r.IsList():
		out := make([]any, 0, l.Len()+r.Len())
		for _, v := range []*exec.Value{l, r} {
			for i := 0; i < v.Len(); i++ {
				out = append(out, v.Index(i).Interface())
			}
		}
		return out, nil
	case l.IsList() || r.IsList():
		return nil, unsupported("+", l, r)
	case isInt(l) && isInt(r):
		return intOp(l, r, (*big.Int).Add), nil
	case l.IsFloat() || r.IsFloat():
		return l.Float() + r.Float(), nil
	case l.IsString() || r.IsString():
		return l.String() + r.String(), nil
	}
	return l.Integer() + r.Integer(), nil
}

func sub(l, r *exec.Value) (any, error) {
	ld, lIsDate := l.Interface().(DateTime)
	rd, rIsDate := r.Interface().(DateTime)
	lt, lIsDelta := l.Interface().(timedelta)
	rt, rIsDelta := r.Interface().(timedelta)
	switch {
	case lIsDate && rIsDelta:
		return ld.plus(-rt.d), nil
	case lIsDate && rIsDate:
		return timedelta{ld.t.Sub(rd.t)}, nil
	case lIsDelta && rIsDelta:
		return timedelta{lt.d - rt.d}, nil
	case lIsDate || rIsDate || lIsDelta || rIsDelta:
		return nil, unsupported("-", l, r)
	case isInt(l) && isInt(r):
		return intOp(l, r, (*big.Int).Sub), nil
	case l.IsFloat() || r.IsFloat():
		return l.Float() - r.Float(), nil
	}
	return l.Integer() - r.Integer(), nil
}

// compare orders two values: dates by instant, timedeltas by length, the
// rest as gonja does.
func compare(l, r *exec.Value) (int, error) {
	ld, lIsDate := l.Interface().(DateTime)
	rd, rIsDate := r.Interface().(DateTime)
	lt, lIsDelta := l.Interface().(timedelta)
	rt, rIsDelta := r.Interface().(timedelta)
	switch {
	case lIsDate && rIsDate:
		return ld.t.Compare(rd.t), nil
	case lIsDelta && rIsDelta:
		return cmpOrdered(lt.d, rt.d), nil
	case lIsDate || rIsDate || lIsDelta || rIsDelta:
		return 0, unsupported("<", l, r)
	case isInt(l) && isInt(r):
		return bigOf(l).Cmp(bigOf(r)), nil
	case l.IsFloat() || r.IsFloat():
		return cmpOrdered(l.Float(), r.Float()), nil
	case l.IsString() || r.IsString():
		return cmpOrdered(l.String(), r.String()), nil
	}
	return cmpOrdered(l.Integer(), r.Integer()), nil
}

// Python's ints have no size limit: integer +, -, * and ** are computed
// exactly (gonja's wrap around int64, and its ** is a float), and results
// that fit an int are ints again.

// isInt reports whether v is an integer, big ones included.
func isInt(v *exec.Value) bool {
	if v.IsInteger() {
		return true
	}
	_, ok := v.Interface().(*big.Int)
	return ok
}

func bigOf(v *exec.Value) *big.Int {
	if b, ok := v.Interface().(*big.Int); ok {
		return b
	}
	if v.IsInteger() {
		return big.NewInt(int64(v.Integer()))
	}
	return new(big.Int)
}

// smallInt is n as an int where it fits.
func smallInt(n *big.Int) any {
	if n.IsInt64() && strconv.IntSize == 64 {
		return int(n.Int64())
	}
	return n
}

func intOp(l, r *exec.Value, op func(z, x, y *big.Int) *big.Int) any {
	return smallInt(op(new(big.Int), bigOf(l), bigOf(r)))
}

// maxPowBits bounds the size of an integer power, so that a template
// cannot make the worker compute 10 ** 10 ** 9.
const maxPowBits = 1 << 16

func mul(l, r *exec.Value) (any, error) {
	switch {
	case isInt(l) && isInt(r):
		return intOp(l, r, (*big.Int).Mul), nil
	case l.IsFloat() || r.IsFloat():
		return l.Float() * r.Float(), nil
	case l.IsString() && r.IsInteger():
		return repeat(l.String(), r.Integer())
	case l.IsInteger() && r.IsString():
		return repeat(r.String(), l.Integer())
	}
	return nil, unsupported("*", l, r)
}

func repeat(s string, n int) (any, error) {
	if n <= 0 {
		return "", nil
	}
	if len(s)*n > maxRepeat || len(s)*n/n != len(s) {
		return nil, fmt.Errorf("string repetition too long: the limit is %d characters", maxRepeat)
	}
	return strings.Repeat(s, n), nil
}

// maxRepeat bounds "x" * n for the same reason as maxPowBits.
const maxRepeat = 1 << 24

func pow(l, r *exec.Value) (any, error) {
	if isInt(l) && isInt(r) && bigOf(r).Sign() >= 0 {
		base, exp := bigOf(l), bigOf(r)
		if base.BitLen() > 1 && (!exp.IsInt64() || int64(base.BitLen())*exp.Int64() > maxPowBits) {
			return nil, fmt.Errorf("integer power too big: the limit is %d bits", maxPowBits)
		}
		return smallInt(new(big.Int).Exp(base, exp, nil)), nil
	}
	if (l.IsNumber() || isInt(l)) && (r.IsNumber() || isInt(r)) {
		return math.Pow(l.Float(), r.Float()), nil
	}
	return nil, unsupported("**", l, r)
}

func cmpOrdered[T int | float64 | string | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func unsupported(op string, l, r *exec.Value) error {
	return fmt.Errorf("unsupported operand types for %s: %s and %s", op, typeName(l), typeName(r))
}

func typeName(v *exec.Value) string {
	switch v.Interface().(type) {
	case DateTime:
		return "datetime"
	case timedelta:
		return "timedelta"
	}
	switch {
	case v.IsNil():
		return "None"
	case v.IsString():
		return "str"
	case v.IsInteger():
		return "int"
	case v.IsFloat():
		return "float"
	case v.IsList():
		return "list"
	case v.IsDict():
		return "dict"
	}
	return "object"
}

// errDateArithmetic is raised (as a panic Render recovers) when gonja
// itself does arithmetic on a date, which it would otherwise turn into 0.
var errDateArithmetic = errors.New("date arithmetic is not supported here; use .add(days=...) / .subtract(...) or a {{ }} expression")

// Int stops gonja from treating a date as the number 0: gonja asks
// values it does not know for Int() before falling back to 0.
func (DateTime) Int() int { panic(errDateArithmetic) }

// Float64 is Int for gonja's float arithmetic.
func (DateTime) Float64() float64 { panic(errDateArithmetic) }

// Int stops gonja from treating a timedelta as a number; see DateTime.Int.
func (timedelta) Int() int { panic(errDateArithmetic) }

// Float64 is Int for gonja's float arithmetic.
func (timedelta) Float64() float64 { panic(errDateArithmetic) }

// rewrite prepares a parsed template: it wraps every {{ }} expression in
// a call to outputFunc and, when arith is set, replaces the binary
// operators of binaryFuncs with calls to the functions of the same name.
// It walks exported fields only, which cover outputs, if, for, filters and
// calls.
func rewrite(root *nodes.Template, arith bool) {
	w := rewriter{arith: arith, seen: map[uintptr]bool{}, calls: map[*nodes.BinaryExpression]*nodes.Call{}}
	w.walk(reflect.ValueOf(root))
}

type rewriter struct {
	arith bool
	seen  map[uintptr]bool
	// calls holds the replacement of each expression: the parser shares a
	// method call's receiver between Call.Parent and Call.Func.
	calls map[*nodes.BinaryExpression]*nodes.Call
}

var (
	typeNode  = reflect.TypeFor[nodes.Node]()
	typeCall  = reflect.TypeFor[*nodes.Call]()
	typeToken = reflect.TypeFor[*tokens.Token]()
)

func (w *rewriter) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		elem := v.Elem()
		w.walk(elem)
		if be, ok := elem.Interface().(*nodes.BinaryExpression); ok && w.arith && v.CanSet() && typeCall.Implements(v.Type()) {
			if call := w.replacement(be); call != nil {
				v.Set(reflect.ValueOf(call))
			}
		}
	case reflect.Pointer:
		if v.IsNil() || v.Type() == typeToken || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem())
		if out, ok := v.Interface().(*nodes.Output); ok {
			out.Expression = wrapOutput(out.Expression)
			if out.Alternative != nil {
				out.Alternative = wrapOutput(out.Alternative)
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				w.walk(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			w.walk(v.Index(i))
		}
	case reflect.Map:
		if !v.Type().Elem().Implements(typeNode) && v.Type().Elem().Kind() != reflect.Pointer {
			return
		}
		for _, k := range v.MapKeys() {
			// Map values are not addressable: copy, walk, store back.
			slot := reflect.New(v.Type().Elem()).Elem()
			slot.Set(v.MapIndex(k))
			w.walk(slot)
			v.SetMapIndex(k, slot)
		}
	}
}

// wrapOutput makes expr the argument of a call to outputFunc. gonja
// evaluates None and an undefined name to the same nil, which Jinja prints
// as "None" and "" respectively; so that None prints as Jinja does, the
// call also gets what tells them apart where that is cheap: a marker for
// the None literal and for a call (a function returns a value, never an
// undefined: ti.xcom_pull of nothing, params.get of a missing key are
// None), and for a look-up in params or dag_run (plain data, safe to
// evaluate again) the container and the key, to see whether the key is
// there with a null value.
func wrapOutput(expr nodes.Expression) nodes.Expression {
	args := []nodes.Expression{expr}
	switch n := expr.(type) {
	case *nodes.None:
		args = append(args, &nodes.Bool{Location: n.Location, Val: true})
	case *nodes.Call:
		args = append(args, &nodes.Bool{Location: n.Location, Val: true})
	case *nodes.GetAttribute:
		if n.Attribute != "" && dataChain(n.Node) {
			args = append(args, n.Node, &nodes.String{Location: n.Location, Val: n.Attribute})
		}
	case *nodes.GetItem:
		switch key := n.Arg.(type) {
		case *nodes.String, *nodes.Integer:
			if dataChain(n.Node) {
				args = append(args, n.Node, key)
			}
		}
	}
	tok := *expr.Position()
	tok.Val = outputFunc
	return &nodes.Call{
		Location: expr.Position(),
		Func:     &nodes.Name{Name: &tok},
		Args:     args,
		Kwargs:   map[string]nodes.Expression{},
	}
}

// dataChain reports whether n is params or dag_run followed by attribute
// or constant-key look-ups only: no calls, nothing that reads the store.
func dataChain(n nodes.Node) bool {
	switch x := n.(type) {
	case *nodes.Name:
		return x.Name.Val == "params" || x.Name.Val == "dag_run"
	case *nodes.GetAttribute:
		return x.Attribute != "" && dataChain(x.Node)
	case *nodes.GetItem:
		switch x.Arg.(type) {
		case *nodes.String, *nodes.Integer:
			return dataChain(x.Node)
		}
	}
	return false
}

func (w *rewriter) replacement(be *nodes.BinaryExpression) *nodes.Call {
	if c, ok := w.calls[be]; ok {
		return c
	}
	name, ok := binaryFuncs[be.Operator.Token.Type]
	if !ok {
		return nil
	}
	tok := *be.Operator.Token
	tok.Val = name
	c := &nodes.Call{
		Location: be.Operator.Token,
		Func:     &nodes.Name{Name: &tok},
		Args:     []nodes.Expression{be.Left, be.Right},
		Kwargs:   map[string]nodes.Expression{},
	}
	w.calls[be] = c
	return c
}

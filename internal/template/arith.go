package template

import (
	"errors"
	"fmt"
	"reflect"
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
}

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
	case l.IsFloat() || r.IsFloat():
		return cmpOrdered(l.Float(), r.Float()), nil
	case l.IsString() || r.IsString():
		return cmpOrdered(l.String(), r.String()), nil
	}
	return cmpOrdered(l.Integer(), r.Integer()), nil
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

// wrapOutput makes expr the argument of a call to outputFunc.
func wrapOutput(expr nodes.Expression) nodes.Expression {
	tok := *expr.Position()
	tok.Val = outputFunc
	return &nodes.Call{
		Location: expr.Position(),
		Func:     &nodes.Name{Name: &tok},
		Args:     []nodes.Expression{expr},
		Kwargs:   map[string]nodes.Expression{},
	}
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

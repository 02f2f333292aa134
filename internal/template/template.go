// Package template renders Airflow templated fields: Jinja templates
// (through gonja, a Go Jinja2 implementation) with Airflow 2.10's template
// context (ds, ts, params, dag_run, ti.xcom_pull, var, conn, macros, ...)
// and Airflow's filters (ds, ds_nodash, ts, ts_nodash, ts_nodash_with_tz).
//
// Templates cannot read files: include, import and extends fail. Undefined
// names render as empty strings, as with Jinja's default Undefined, while a
// missing Variable or Connection is an error naming it, as in Airflow.
package template

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/windsock"
)

// Render renders every string inside v (strings, and strings nested in
// []any and map[string]any) and returns a new value; other values pass
// through unchanged. Map keys are not rendered, as in Airflow.
func Render(ctx context.Context, v any, tc Context) (any, error) {
	r := newRenderer(ctx, tc)
	return r.value(v)
}

// RenderFields renders the templated fields of a task (the arguments spec
// marks Templated) present in args. It returns a copy of args with those
// fields rendered, and the rendered fields alone (name -> value), which is
// what rendered_task_instance_fields keeps. Errors name the field.
func RenderFields(ctx context.Context, spec *operator.Spec, args map[string]any, tc Context) (map[string]any, map[string]any, error) {
	return renderFields(newRenderer(ctx, tc), spec, args)
}

// RenderFieldsNative is RenderFields for a DAG with
// render_template_as_native_obj: each string renders to a native value as
// with Jinja's NativeEnvironment (see renderer.native), so that
// "{{ params }}" hands the operator a dict, not its text.
func RenderFieldsNative(ctx context.Context, spec *operator.Spec, args map[string]any, tc Context) (map[string]any, map[string]any, error) {
	r := newRenderer(ctx, tc)
	r.native = true
	return renderFields(r, spec, args)
}

func renderFields(r *renderer, spec *operator.Spec, args map[string]any) (map[string]any, map[string]any, error) {
	out := make(map[string]any, len(args))
	maps.Copy(out, args)
	rendered := map[string]any{}
	for _, a := range spec.Args {
		v, ok := args[a.Name]
		if !a.Templated || !ok {
			continue
		}
		rv, err := r.value(v)
		if err != nil {
			return nil, nil, fmt.Errorf("render %s.%s: %w", spec.Class, a.Name, err)
		}
		out[a.Name] = rv
		rendered[a.Name] = rv
	}
	return out, rendered, nil
}

// renderer renders strings with one gonja context built from a Context.
type renderer struct {
	scope *scope
	data  map[string]any
	// native makes value return native values for strings.
	native bool
	// outputs and printed record, for native rendering, the value of each
	// {{ }} of the string being rendered and the text it printed.
	outputs []any
	printed string
}

func newRenderer(ctx context.Context, tc Context) *renderer {
	s := &scope{ctx: ctx}
	data := make(map[string]any, len(tc)+1)
	for k, v := range tc {
		if b, ok := v.(binder); ok {
			v = b.bind(s)
		}
		data[k] = v
	}
	r := &renderer{scope: s, data: data}
	data[outputFunc] = r.output
	return r
}

// outputFunc is the function every {{ }} is wrapped in (see
// rewriteOutputs): Jinja prints str(value), which gonja does not do for
// dicts, lists, None or big integers.
const outputFunc = "__windsock_output__"

// output prints one {{ }} value as Python's str() does, and records it for
// native rendering. A nil value is an undefined name, printed "", unless
// the extra arguments of wrapOutput show it is None.
func (r *renderer) output(va *exec.VarArgs) (any, error) {
	v := va.Args[0]
	if v.IsNil() {
		if isNone(va.Args) {
			r.record(nil, "None")
			return "None", nil
		}
		r.record(nil, "")
		return "", nil
	}
	if v.IsString() {
		r.record(v.String(), v.String())
		return v.String(), nil
	}
	g := goValue(v)
	s := pyvalue.Str(g)
	r.record(g, s)
	return s, nil
}

// isNone reads wrapOutput's extra arguments: the None literal's marker, or
// a container that holds the key looked up.
func isNone(args []*exec.Value) bool {
	switch len(args) {
	case 2:
		return args[1].IsBool() && args[1].Bool()
	case 3:
		switch c := args[1].Interface().(type) {
		case map[string]any:
			_, has := c[args[2].String()]
			return has
		case []any:
			i := args[2].Integer()
			if i < 0 {
				i += len(c)
			}
			return args[2].IsInteger() && i >= 0 && i < len(c)
		}
	}
	return false
}

func (r *renderer) record(v any, printed string) {
	if r.native {
		r.outputs = append(r.outputs, v)
		r.printed = printed
	}
}

// goValue turns a gonja value into plain Go values (gonja's own lists and
// dicts hold *exec.Value items).
func goValue(v *exec.Value) any {
	if !v.IsList() && !v.IsDict() {
		x := v.Interface()
		if inner, ok := x.(*exec.Value); ok {
			return goValue(inner)
		}
		return x
	}
	x := v.ToGoSimpleType(false)
	if _, isErr := x.(error); isErr {
		return v.Interface()
	}
	return x
}

func (r *renderer) value(v any) (any, error) {
	switch x := v.(type) {
	case string:
		if r.native {
			return r.nativeString(x)
		}
		return r.string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.value(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = rv
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.value(e)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", k, err)
			}
			out[k] = rv
		}
		return out, nil
	}
	return v, nil
}

// nativeString renders one template as Jinja's NativeEnvironment does:
// a template that is one {{ }} and nothing else gives that expression's
// value itself; otherwise the text it renders is read as a Python literal
// (ast.literal_eval), and stays text when it is not one. So "{{ params }}"
// gives a dict, "{{ a }}{{ b }}" with 1 and 2 gives 12, "[1, 2]" a list
// and "x={{ n }}" a string.
func (r *renderer) nativeString(src string) (any, error) {
	r.outputs, r.printed = r.outputs[:0], ""
	out, err := r.string(src)
	if err != nil {
		return nil, err
	}
	if len(r.outputs) == 1 && out == r.printed {
		if _, isString := r.outputs[0].(string); !isString {
			return r.outputs[0], nil
		}
	}
	if v, ok := pyvalue.LiteralEval(out); ok {
		return v, nil
	}
	return out, nil
}

// string renders one template. Jinja drops a single trailing newline and
// normalises line endings even in text without markup; the fast path for
// such text does the same without parsing.
func (r *renderer) string(src string) (out string, err error) {
	if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") && !strings.Contains(src, "{#") {
		return plainText(src), nil
	}
	env := environment()
	tpl, err := exec.NewTemplate(rootTemplate, env.config, &singleTemplate{src: src}, env.env)
	if err != nil {
		return "", windsock.Errorf(windsock.EINVALID, "template syntax error: %s", syntaxMessage(err))
	}
	rewrite(tpl.Root(), strings.ContainsAny(src, rewriteTriggers))
	// gonja panics on some bad input (a modulo by zero), and dates panic
	// when gonja tries to use them as numbers; a template must never take
	// the worker down.
	defer func() {
		if p := recover(); p != nil {
			out, err = "", windsock.Errorf(windsock.EINVALID, "template error: %v", p)
		}
	}()
	r.scope.err = nil
	out, err = tpl.ExecuteToString(exec.NewContext(r.data))
	if err != nil {
		if r.scope.err != nil {
			return "", r.scope.err
		}
		return "", windsock.Errorf(windsock.EINVALID, "template error: %s", strings.TrimPrefix(err.Error(), "unable to execute template: "))
	}
	return out, nil
}

// plainText is what Jinja renders for text without markup.
func plainText(s string) string {
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return strings.TrimSuffix(s, "\n")
}

// syntaxMessage strips gonja's "failed to parse template '<whole source>'"
// prefix, which repeats the field's value, keeping the parser's message
// with its line and column.
func syntaxMessage(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		return inner.Error()
	}
	return err.Error()
}

const rootTemplate = "<template>"

// singleTemplate is a gonja loader that serves one template, once, and
// refuses everything else, so that include, import and extends can neither
// read files nor include the template in itself forever.
type singleTemplate struct {
	src    string
	served bool
}

func (s *singleTemplate) Read(path string) (io.Reader, error) {
	if path != rootTemplate || s.served {
		return nil, fmt.Errorf("templates cannot load other templates (%q)", path)
	}
	s.served = true
	return strings.NewReader(s.src), nil
}

func (s *singleTemplate) Resolve(path string) (string, error) { return path, nil }

func (s *singleTemplate) Inherit(string) (loaders.Loader, error) { return s, nil }

// engine is the gonja configuration and environment shared by all renders.
// It is built once and never changed: gonja copies the environment's
// context for each execution.
type engine struct {
	config *config.Config
	env    *exec.Environment
}

var environment = sync.OnceValue(func() engine {
	filters := exec.NewFilterSet(map[string]exec.FilterFunction{}).Update(builtins.Filters)
	for name, f := range airflowFilters() {
		// Replace keeps gonja's set untouched: Update copied it.
		if err := filters.Register(name, f); err != nil {
			_ = filters.Replace(name, f)
		}
	}
	globals := exec.EmptyContext().Update(builtins.GlobalFunctions).Update(exec.NewContext(arithmeticGlobals()))
	// Airflow renders in Jinja's sandbox, whose range() stops at 100,000
	// items; gonja's is unbounded (and feeds a goroutine).
	globals.Set("range", boundedRange)
	return engine{
		config: config.New(),
		env: &exec.Environment{
			Context:           globals,
			Filters:           filters,
			Tests:             builtins.Tests,
			ControlStructures: builtins.ControlStructures,
			Methods:           builtins.Methods,
		},
	}
})

// maxRange is the Jinja sandbox's MAX_RANGE.
const maxRange = 100_000

// boundedRange is range([start, ]stop[, step]) as in Jinja's sandbox.
func boundedRange(va *exec.VarArgs) ([]int, error) {
	if len(va.KwArgs) > 0 || len(va.Args) == 0 || len(va.Args) > 3 {
		return nil, errors.New("range expects 1 to 3 integer arguments")
	}
	n := make([]int, len(va.Args))
	for i, a := range va.Args {
		if !a.IsInteger() {
			return nil, fmt.Errorf("range: %s is not an integer", a.String())
		}
		n[i] = a.Integer()
	}
	start, stop, step := 0, n[0], 1
	if len(n) > 1 {
		start, stop = n[0], n[1]
	}
	if len(n) > 2 {
		step = n[2]
	}
	if step == 0 {
		return nil, errors.New("range: step must not be zero")
	}
	count := 0
	if step > 0 && stop > start {
		count = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		count = (start - stop - step - 1) / -step
	}
	if count > maxRange {
		return nil, fmt.Errorf("range too big: %d items, the limit is %d", count, maxRange)
	}
	out := make([]int, count)
	for i := range out {
		out[i] = start + i*step
	}
	return out, nil
}

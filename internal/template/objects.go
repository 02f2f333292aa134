package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nikolalohinski/gonja/v2/exec"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// object is a Python object as templates see it: attributes by name and a
// repr for {{ obj }}. dag, task, dag_run and ti are objects.
type object struct {
	repr  string
	attrs map[string]any
	// bound holds attributes that read sources (ti.xcom_pull); they exist
	// only in the copy a render binds to its context.
	bound map[string]any
}

// String is the object's Python repr.
func (o *object) String() string { return o.repr }

// GetAttribute returns the attribute called name.
func (o *object) GetAttribute(name string) (*exec.Value, bool) {
	if v, ok := o.bound[name]; ok {
		return exec.AsValue(v), true
	}
	if v, ok := o.attrs[name]; ok {
		return exec.AsValue(v), true
	}
	return exec.AsValue(nil), false
}

// MarshalJSON writes the plain attributes, so tojson and Context.JSON see
// a mapping.
func (o *object) MarshalJSON() ([]byte, error) { return json.Marshal(jsonValue(o)) }

// binder is a context value that reads Sources while rendering. Render
// binds it to the render's context.Context and error recorder, so that the
// Context itself holds no context.Context.
type binder interface {
	bind(s *scope) any
}

// scope is one Render call: its context and the first error a source
// returned, kept so that Render can return it wrapped (gonja's own errors
// keep only the message).
type scope struct {
	ctx context.Context
	err error
}

// record keeps err, the first one only, and returns it.
func (s *scope) record(err error) error {
	if s.err == nil {
		s.err = err
	}
	return err
}

// taskInstance is ti / task_instance: the object, plus xcom_pull once bound.
type taskInstance struct {
	obj   *object
	pull  func(ctx context.Context, p XComPullParams) (any, bool, error)
	dagID string
	runID string
}

func (ti *taskInstance) bind(s *scope) any {
	return &object{repr: ti.obj.repr, attrs: ti.obj.attrs, bound: map[string]any{
		"xcom_pull": func(va *exec.VarArgs) (any, error) { return ti.xcomPull(s, va) },
	}}
}

// MarshalJSON writes the object's attributes.
func (ti *taskInstance) MarshalJSON() ([]byte, error) { return ti.obj.MarshalJSON() }

// xcomPull is TaskInstance.xcom_pull(task_ids=None, dag_id=None,
// key='return_value', include_prior_dates=False, *, map_indexes=None,
// default=None, run_id=None). A string task_ids returns one value (default
// when there is none); a list returns the values found, in task_ids order.
func (ti *taskInstance) xcomPull(s *scope, va *exec.VarArgs) (any, error) {
	positional := []string{"task_ids", "dag_id", "key", "include_prior_dates"}
	arg := func(name string) (*exec.Value, bool) {
		for i, n := range positional {
			if n == name && i < len(va.Args) {
				return va.Args[i], true
			}
		}
		v, ok := va.KwArgs[name]
		return v, ok
	}
	if len(va.Args) > len(positional) {
		return nil, errors.New("xcom_pull: too many positional arguments")
	}
	for k := range va.KwArgs {
		switch k {
		case "task_ids", "dag_id", "key", "include_prior_dates", "map_indexes", "default", "run_id", "session":
		default:
			return nil, fmt.Errorf("xcom_pull: unexpected keyword argument %q", k)
		}
	}
	p := XComPullParams{DagID: ti.dagID, RunID: ti.runID, Key: windsock.XComReturnKey}
	if v, ok := arg("dag_id"); ok && !v.IsNil() {
		p.DagID = v.String()
	}
	if v, ok := arg("run_id"); ok && !v.IsNil() {
		p.RunID = v.String()
	}
	if v, ok := arg("key"); ok {
		// key=None pulls any key.
		p.Key = ""
		if !v.IsNil() {
			p.Key = v.String()
		}
	}
	if v, ok := arg("map_indexes"); ok && !v.IsNil() {
		if !v.IsInteger() {
			return nil, errors.New("xcom_pull: only a single integer map_indexes is supported")
		}
		i := v.Integer()
		p.MapIndex = &i
	}
	var def any
	if v, ok := arg("default"); ok {
		def = v.Interface()
	}
	if ti.pull == nil {
		return nil, s.record(errors.New("xcom_pull: no XCom source configured"))
	}
	taskIDs, ok := arg("task_ids")
	if !ok || taskIDs.IsNil() || taskIDs.IsString() {
		if ok && taskIDs.IsString() {
			p.TaskID = taskIDs.String()
		}
		v, found, err := ti.pull(s.ctx, p)
		if err != nil {
			return nil, s.record(fmt.Errorf("xcom_pull task_ids=%q key=%q: %w", p.TaskID, p.Key, err))
		}
		if !found {
			return def, nil
		}
		return v, nil
	}
	if !taskIDs.IsList() {
		return nil, fmt.Errorf("xcom_pull: task_ids must be a string or a list, got %s", taskIDs.String())
	}
	out := []any{}
	for i := 0; i < taskIDs.Len(); i++ {
		p.TaskID = taskIDs.Index(i).String()
		v, found, err := ti.pull(s.ctx, p)
		if err != nil {
			return nil, s.record(fmt.Errorf("xcom_pull task_ids=%q key=%q: %w", p.TaskID, p.Key, err))
		}
		if found {
			out = append(out, v)
		}
	}
	return out, nil
}

// variables is var: var.value.<key> reads a Variable as text, var.json.<key>
// decodes it as JSON.
type variables struct {
	get func(ctx context.Context, key string) (string, error)
}

func (v variables) bind(s *scope) any {
	return map[string]any{
		"value": &variableAccessor{get: v.get, s: s},
		"json":  &variableAccessor{get: v.get, s: s, json: true},
	}
}

// variableAccessor is Airflow's VariableAccessor: attribute or item access
// reads the variable; .get(key, default_var) returns default_var when it is
// missing.
type variableAccessor struct {
	get  func(ctx context.Context, key string) (string, error)
	s    *scope
	json bool
}

// String is how Airflow prints the accessor.
func (a *variableAccessor) String() string { return "<VariableAccessor>" }

// GetAttribute reads the variable called name.
func (a *variableAccessor) GetAttribute(name string) (*exec.Value, bool) {
	if name == "get" {
		return exec.AsValue(func(va *exec.VarArgs) (any, error) {
			if len(va.Args) == 0 {
				return nil, errors.New("var.get: missing variable key")
			}
			def, hasDef := va.KwArgs["default_var"]
			if len(va.Args) > 1 {
				def, hasDef = va.Args[1], true
			}
			v, err := a.read(va.Args[0].String())
			if hasDef && windsock.ErrorCode(err) == windsock.ENOTFOUND {
				return def.Interface(), nil
			}
			if err != nil {
				return nil, a.s.record(err)
			}
			return v, nil
		}), true
	}
	v, err := a.read(name)
	if err != nil {
		return exec.AsValue(a.s.record(err)), false
	}
	return exec.AsValue(v), true
}

// GetItem reads the variable called key: var.value['my-key'].
func (a *variableAccessor) GetItem(key any) (*exec.Value, bool) {
	name, ok := key.(string)
	if !ok {
		return exec.AsValue(fmt.Errorf("variable key must be a string, got %v", key)), false
	}
	return a.GetAttribute(name)
}

func (a *variableAccessor) read(key string) (any, error) {
	expr := "var.value." + key
	if a.json {
		expr = "var.json." + key
	}
	if a.get == nil {
		return nil, fmt.Errorf("%s: no variable source configured", expr)
	}
	s, err := a.get(a.s.ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	if !a.json {
		return s, nil
	}
	var v any
	if err := windsock.DecodeJSON([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("%s: variable %s is not valid JSON: %w", expr, key, err)
	}
	return v, nil
}

// connections is conn: conn.<conn_id>.<attribute>.
type connections struct {
	get func(ctx context.Context, connID string) (*operator.Connection, error)
}

func (c connections) bind(s *scope) any { return &connectionAccessor{get: c.get, s: s} }

// connectionAccessor is Airflow's ConnectionAccessor.
type connectionAccessor struct {
	get func(ctx context.Context, connID string) (*operator.Connection, error)
	s   *scope
}

// String is how Airflow prints the accessor.
func (a *connectionAccessor) String() string { return "<ConnectionAccessor>" }

// GetAttribute returns the connection called name; get(conn_id,
// default_conn=None) returns the default when it is missing.
func (a *connectionAccessor) GetAttribute(name string) (*exec.Value, bool) {
	if name == "get" {
		return exec.AsValue(func(va *exec.VarArgs) (any, error) {
			if len(va.Args) == 0 {
				return nil, errors.New("conn.get: missing conn_id")
			}
			def := va.KwArgs["default_conn"]
			if len(va.Args) > 1 {
				def = va.Args[1]
			}
			c, err := a.read(va.Args[0].String())
			if windsock.ErrorCode(err) == windsock.ENOTFOUND {
				if def == nil {
					return nil, nil
				}
				return def.Interface(), nil
			}
			if err != nil {
				return nil, a.s.record(err)
			}
			return c, nil
		}), true
	}
	c, err := a.read(name)
	if err != nil {
		return exec.AsValue(a.s.record(err)), false
	}
	return exec.AsValue(c), true
}

// GetItem returns the connection called key: conn['my-conn'].
func (a *connectionAccessor) GetItem(key any) (*exec.Value, bool) {
	name, ok := key.(string)
	if !ok {
		return exec.AsValue(fmt.Errorf("connection id must be a string, got %v", key)), false
	}
	return a.GetAttribute(name)
}

func (a *connectionAccessor) read(connID string) (*object, error) {
	if a.get == nil {
		return nil, fmt.Errorf("conn.%s: no connection source configured", connID)
	}
	c, err := a.get(a.s.ctx, connID)
	if err != nil {
		return nil, fmt.Errorf("conn.%s: %w", connID, err)
	}
	return connectionObject(c), nil
}

// connectionObject is an Airflow Connection as templates see it.
func connectionObject(c *operator.Connection) *object {
	var port any
	if c.Port != 0 {
		port = c.Port
	}
	extra := ""
	if len(c.Extra) > 0 {
		b, err := json.Marshal(c.Extra)
		if err == nil {
			extra = string(b)
		}
	}
	dejson := c.Extra
	if dejson == nil {
		dejson = map[string]any{}
	}
	return &object{repr: c.ConnID, attrs: map[string]any{
		"conn_id":      c.ConnID,
		"conn_type":    c.ConnType,
		"description":  c.Description,
		"host":         c.Host,
		"schema":       c.Schema,
		"login":        c.Login,
		"password":     c.Password,
		"port":         port,
		"extra":        extra,
		"extra_dejson": dejson,
	}}
}

// jsonValue converts a context value to plain JSON-friendly values: dates
// become isoformat strings, objects their attributes; callables, accessors
// and anything else that cannot leave the process are dropped (nil).
func jsonValue(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64, json.Number:
		return x
	case DateTime:
		return x.isoformat("T")
	case timedelta:
		return x.d.Seconds()
	case *object:
		m := make(map[string]any, len(x.attrs))
		for k, a := range x.attrs {
			if j := jsonValue(a); j != nil || a == nil {
				m[k] = j
			}
		}
		return m
	case *taskInstance:
		return jsonValue(x.obj)
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, a := range x {
			m[k] = jsonValue(a)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, a := range x {
			l[i] = jsonValue(a)
		}
		return l
	case []string:
		l := make([]any, len(x))
		for i, a := range x {
			l[i] = a
		}
		return l
	}
	// Round-trip other plain values (typed slices and maps from Go code);
	// functions and accessors fail to marshal and are dropped.
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if windsock.DecodeJSON(b, &out) != nil {
		return nil
	}
	return out
}

package windsock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// DecodeJSON unmarshals data into v as encoding/json does, except that the
// numbers it puts into untyped slots (any, map[string]any, []any, at any
// depth) keep the type Python's json module gives them: an integer literal
// becomes an int (a *big.Int past int's range, exact), any other number a
// float64. encoding/json makes every such number a float64, which turns
// conf {"n": 5} into 5.0 in a template and rounds large ids. Every decoder
// of user JSON (conf, params, variables, XCom, connection extras) uses it.
func DecodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("invalid character %q after top-level value", rest[0])
	}
	NormalizeNumbers(reflect.ValueOf(v))
	return nil
}

// JSONNumber converts a JSON number to the Go value Python's json module
// would make of it: int, *big.Int past int's range, or float64.
func JSONNumber(n json.Number) any {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 0); err == nil {
			return int(i)
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of float64's range: Python's json gives inf, which JSON
		// cannot hold again; keep the text.
		return n
	}
	return f
}

var typeNumber = reflect.TypeFor[json.Number]()

// NormalizeNumbers replaces, in place, the json.Number values held in
// untyped slots reachable from v by what JSONNumber makes of them. Fields
// typed json.Number are left alone: their owner asked for the text.
func NormalizeNumbers(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			NormalizeNumbers(v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		elem := v.Elem()
		if elem.Type() == typeNumber {
			if v.CanSet() {
				v.Set(reflect.ValueOf(JSONNumber(elem.Interface().(json.Number))))
			}
			return
		}
		// Maps and slices share their storage with the copy in elem.
		NormalizeNumbers(elem)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				NormalizeNumbers(f)
			}
		}
	case reflect.Slice, reflect.Array:
		if !mayHoldNumbers(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			NormalizeNumbers(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		et := v.Type().Elem()
		if !mayHoldNumbers(et) {
			return
		}
		iter := v.MapRange()
		for iter.Next() {
			// Map values are not addressable: copy, fix, store back.
			slot := reflect.New(et).Elem()
			slot.Set(iter.Value())
			NormalizeNumbers(slot)
			v.SetMapIndex(iter.Key(), slot)
		}
	}
}

// mayHoldNumbers reports whether a value of type t can hold an untyped
// slot, so that walking it is worth it.
func mayHoldNumbers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return true
	}
	return false
}

// KeepFloats returns v with every finite float64 in it (through
// map[string]any and []any) replaced by a json.Number that keeps a
// fraction or exponent, so that json.Marshal writes 5.0 for a float 5.0
// where it would write 5, which DecodeJSON (and Python's json module)
// would read back as an int. Maps and slices are copied, v is not changed.
// Encoders of user JSON that is read again (conf, the python runner's
// input) use it.
func KeepFloats(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x
		}
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return json.Number(s)
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = KeepFloats(e)
		}
		return out
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = KeepFloats(e)
		}
		return out
	}
	return v
}

// MarshalDAG encodes a DAG definition as the serialized DAG is stored, its
// params, default_args and task arguments through KeepFloats, so that a
// YAML `ratio: 5.0` is still a float when the definition is read back.
func MarshalDAG(d *DAG) ([]byte, error) {
	c := *d
	c.Params, _ = KeepFloats(d.Params).(map[string]any)
	c.DefaultArgs, _ = KeepFloats(d.DefaultArgs).(map[string]any)
	if d.ParamSpecs != nil {
		c.ParamSpecs = make(map[string]Param, len(d.ParamSpecs))
		for k, p := range d.ParamSpecs {
			p.Schema, _ = KeepFloats(p.Schema).(map[string]any)
			c.ParamSpecs[k] = p
		}
	}
	c.Tasks = make([]*Task, len(d.Tasks))
	for i, t := range d.Tasks {
		tc := *t
		tc.Args, _ = KeepFloats(t.Args).(map[string]any)
		if t.Python != nil {
			py := *t.Python
			py.Kwargs, _ = KeepFloats(py.Kwargs).(map[string]any)
			tc.Python = &py
		}
		c.Tasks[i] = &tc
	}
	return json.Marshal(&c)
}

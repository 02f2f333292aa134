// Package datapipeline converts AWS Data Pipeline definitions (the JSON
// files of `aws datapipeline put-pipeline-definition`) into Windsock DAG
// files in the dag-factory YAML format. It is pure: bytes in, a DAG file
// and a report out; reading and writing files is the CLI's business.
package datapipeline

import (
	"fmt"
	"sort"
	"strings"
)

// Value is one field value: a string, or a reference to another object.
type Value struct {
	Str   string
	Ref   string
	IsRef bool
}

// Object is one pipeline object with its own fields (before inheritance).
// Every field holds a list, since Data Pipeline reads `X` and `[X]` alike.
type Object struct {
	ID, Name, Type string
	Fields         map[string][]Value
	// Order is the order fields were written in, for stable output.
	Order []string
	Line  int
}

// Parameter is one declared parameter.
type Parameter struct {
	ID, Type, Description, Default string
	HasDefault, Optional, IsArray  bool
	AllowedValues                  []string
	Watermark, HelpText            string
}

// Definition is a whole pipeline definition file.
type Definition struct {
	Objects    []*Object
	Parameters []*Parameter
	// Values are parameter values by id (a list when isArray).
	Values map[string][]string
	// HasValues says the file had a values section at all.
	HasValues bool
	// Repairs say what the lenient reader fixed.
	Repairs []string
}

// Parse reads a definition, which must have objects; see ParseParts.
func Parse(src []byte) (*Definition, error) {
	d, hasObjects, err := parse(src)
	if err == nil && !hasObjects {
		err = fmt.Errorf("missing \"objects\"")
	}
	return d, err
}

// ParseParts reads a file holding any of objects, parameters and values,
// such as the files of --parameter-objects and --parameter-values.
func ParseParts(src []byte) (*Definition, error) {
	d, _, err := parse(src)
	return d, err
}

// parse reads a definition: the flat file shape or the API shape
// (objects with "fields" of key/stringValue/refValue), leniently. A
// *SyntaxError says where it is not JSON; other errors say which part
// does not have a definition's shape.
func parse(src []byte) (*Definition, bool, error) {
	root, repairs, err := readJSON(src)
	if err != nil {
		return nil, false, err
	}
	if root.kind != jObject {
		return nil, false, fmt.Errorf("a definition is a JSON object with \"objects\", got %s", kindWord(root))
	}
	d := &Definition{Values: map[string][]string{}, Repairs: repairs}
	objs := firstOf(root, "objects", "pipelineObjects", "PipelineObjects")
	if objs != nil {
		if err := d.readObjects(objs); err != nil {
			return nil, false, err
		}
	}
	if ps := firstOf(root, "parameters", "parameterObjects", "ParameterObjects"); ps != nil {
		params, err := readParameters(ps)
		if err != nil {
			return nil, false, err
		}
		d.Parameters = params
	}
	if vs := firstOf(root, "values", "parameterValues", "ParameterValues"); vs != nil {
		values, err := readValues(vs)
		if err != nil {
			return nil, false, err
		}
		d.Values, d.HasValues = values, true
	}
	return d, objs != nil, nil
}

func firstOf(v *jvalue, keys ...string) *jvalue {
	for _, k := range keys {
		if x := v.get(k); x != nil {
			return x
		}
	}
	return nil
}

func kindWord(v *jvalue) string {
	return [...]string{"null", "a string", "a number", "a boolean", "a list", "an object"}[v.kind]
}

func (d *Definition) readObjects(objs *jvalue) error {
	if objs.kind != jArray {
		return fmt.Errorf("\"objects\" must be a list of objects, got %s", kindWord(objs))
	}
	for i, o := range objs.items {
		if o.kind != jObject {
			return fmt.Errorf("objects[%d] (line %d) must be an object, got %s", i, o.line, kindWord(o))
		}
		obj := &Object{Fields: map[string][]Value{}, Line: o.line}
		if fs := firstOf(o, "fields", "Fields"); fs != nil && fs.kind == jArray {
			if err := obj.readAPIFields(o, fs); err != nil {
				return fmt.Errorf("objects[%d] (line %d): %w", i, o.line, err)
			}
		} else {
			for _, f := range o.fields {
				vals, err := flatValues(f.val)
				if err != nil {
					return fmt.Errorf("objects[%d] (line %d) field %s: %w", i, f.val.line, f.key, err)
				}
				obj.set(f.key, vals)
			}
		}
		obj.ID = obj.str("id")
		obj.Name = obj.str("name")
		obj.Type = obj.str("type")
		for _, k := range []string{"id", "name", "type"} {
			obj.del(k)
		}
		if obj.Name == "" {
			obj.Name = obj.ID // as the CLI does
		}
		d.Objects = append(d.Objects, obj)
	}
	return nil
}

// readAPIFields reads the API shape: id and name beside a list of
// {key, stringValue | refValue}; repeated keys make a list.
func (o *Object) readAPIFields(raw, fs *jvalue) error {
	for _, k := range []string{"id", "name"} {
		if v := firstOf(raw, k, strings.ToUpper(k[:1])+k[1:]); v != nil {
			if s, ok := v.scalar(); ok {
				o.add(k, Value{Str: s})
			}
		}
	}
	for i, f := range fs.items {
		if f.kind != jObject {
			return fmt.Errorf("fields[%d] must be an object with key and stringValue or refValue", i)
		}
		key, _ := scalarOf(firstOf(f, "key", "Key"))
		if key == "" {
			return fmt.Errorf("fields[%d] has no key", i)
		}
		if ref := firstOf(f, "refValue", "RefValue"); ref != nil {
			s, _ := scalarOf(ref)
			o.add(key, Value{Ref: s, IsRef: true})
			continue
		}
		s, _ := scalarOf(firstOf(f, "stringValue", "StringValue"))
		o.add(key, Value{Str: s})
	}
	return nil
}

func scalarOf(v *jvalue) (string, bool) {
	if v == nil {
		return "", false
	}
	return v.scalar()
}

// flatValues turns one flat-shape field value into values: {"ref": id}
// is a reference, a list is repeated values, anything else a string.
func flatValues(v *jvalue) ([]Value, error) {
	switch v.kind {
	case jArray:
		var out []Value
		for _, it := range v.items {
			if it.kind == jArray {
				return nil, fmt.Errorf("lists inside lists are not allowed")
			}
			vs, err := flatValues(it)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		return out, nil
	case jObject:
		if ref := v.get("ref"); ref != nil && len(v.fields) == 1 {
			s, _ := ref.scalar()
			return []Value{{Ref: s, IsRef: true}}, nil
		}
		return nil, fmt.Errorf("an object value must be {\"ref\": \"<id>\"}")
	}
	s, _ := v.scalar()
	return []Value{{Str: s}}, nil
}

func (o *Object) set(k string, vs []Value) {
	if _, ok := o.Fields[k]; !ok {
		o.Order = append(o.Order, k)
	}
	o.Fields[k] = vs
}

func (o *Object) add(k string, v Value) {
	if _, ok := o.Fields[k]; !ok {
		o.Order = append(o.Order, k)
	}
	o.Fields[k] = append(o.Fields[k], v)
}

func (o *Object) del(k string) {
	delete(o.Fields, k)
	for i, x := range o.Order {
		if x == k {
			o.Order = append(o.Order[:i:i], o.Order[i+1:]...)
			break
		}
	}
}

func (o *Object) str(k string) string {
	if vs := o.Fields[k]; len(vs) > 0 && !vs[0].IsRef {
		return vs[0].Str
	}
	return ""
}

// readParameters reads parameter objects: flat ({"id","type",...}) or the
// API shape ({"id","attributes":[{"key","stringValue"}]}).
func readParameters(ps *jvalue) ([]*Parameter, error) {
	if ps.kind != jArray {
		return nil, fmt.Errorf("\"parameters\" must be a list, got %s", kindWord(ps))
	}
	var out []*Parameter
	for i, raw := range ps.items {
		if raw.kind != jObject {
			return nil, fmt.Errorf("parameters[%d] (line %d) must be an object", i, raw.line)
		}
		attrs := map[string][]string{}
		put := func(k string, v *jvalue) {
			if v.kind == jArray {
				for _, it := range v.items {
					s, _ := it.scalar()
					attrs[k] = append(attrs[k], s)
				}
				return
			}
			s, _ := v.scalar()
			attrs[k] = append(attrs[k], s)
		}
		for _, f := range raw.fields {
			switch f.key {
			case "attributes", "Attributes":
				for _, a := range f.val.items {
					k, _ := scalarOf(firstOf(a, "key", "Key"))
					if v := firstOf(a, "stringValue", "StringValue"); v != nil {
						put(k, v)
					}
				}
			case "Id":
				put("id", f.val)
			default:
				put(f.key, f.val)
			}
		}
		one := func(k string) string {
			if v := attrs[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		p := &Parameter{ID: one("id"), Type: one("type"), Description: one("description"),
			Default: one("default"), Watermark: one("watermark"), HelpText: one("helpText"),
			AllowedValues: attrs["allowedValues"]}
		_, p.HasDefault = attrs["default"]
		p.Optional = strings.EqualFold(one("optional"), "true")
		p.IsArray = strings.EqualFold(one("isArray"), "true")
		if p.Type == "" {
			p.Type = "String"
		}
		if p.ID == "" {
			return nil, fmt.Errorf("parameters[%d] (line %d) has no id", i, raw.line)
		}
		out = append(out, p)
	}
	return out, nil
}

// readValues reads parameter values: {"myX": "v", "myL": ["a","b"]}, or
// the API's [{"id","stringValue"}] with one entry per list element.
func readValues(vs *jvalue) (map[string][]string, error) {
	out := map[string][]string{}
	switch vs.kind {
	case jObject:
		for _, f := range vs.fields {
			if f.val.kind == jArray {
				list := []string{}
				for _, it := range f.val.items {
					s, _ := it.scalar()
					list = append(list, s)
				}
				out[f.key] = list
				continue
			}
			s, ok := f.val.scalar()
			if !ok {
				return nil, fmt.Errorf("value of %s (line %d) must be a string or a list of strings", f.key, f.val.line)
			}
			out[f.key] = []string{s}
		}
	case jArray:
		for _, it := range vs.items {
			id, _ := scalarOf(firstOf(it, "id", "Id"))
			s, _ := scalarOf(firstOf(it, "stringValue", "StringValue"))
			if id == "" {
				return nil, fmt.Errorf("a parameter value (line %d) has no id", it.line)
			}
			out[id] = append(out[id], s)
		}
	default:
		return nil, fmt.Errorf("\"values\" must be an object of parameter ids to values, got %s", kindWord(vs))
	}
	return out, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package windsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Expand kinds, named as Airflow's serialized expand_input names them.
const (
	// ExpandDictOfLists is expand(): one instance per element of the cross
	// product of the arguments' lists.
	ExpandDictOfLists = "dict-of-lists"
	// ExpandListOfDicts is expand_kwargs(): one instance per dict of a
	// list, its keys being the instance's arguments.
	ExpandListOfDicts = "list-of-dicts"
)

// DefaultMaxMapLength is core.max_map_length's default: the most entries an
// XCom pushed for mapping may have.
const DefaultMaxMapLength = 1024

// Expand says how a mapped task (Airflow's MappedOperator) becomes task
// instances with map indexes 0..n-1, and which arguments each index gets.
// The scheduler, the workers and the API all read this one definition; the
// task's partial() arguments are ordinary Task.Args.
type Expand struct {
	// Kind is ExpandDictOfLists or ExpandListOfDicts.
	Kind string `json:"kind"`
	// Args are expand()'s arguments in the order written: instances walk
	// their cross product with the last argument varying fastest, as
	// itertools.product does.
	Args []ExpandArg `json:"args,omitempty"`
	// Kwargs is expand_kwargs()'s source: a list of dicts.
	Kwargs *MapSource `json:"kwargs,omitempty"`
}

// ExpandArg is one argument of expand() and what it is mapped over.
type ExpandArg struct {
	Name string `json:"name"`
	MapSource
}

// MapSource is a value a task is mapped over: a literal list or dict, or
// an upstream task's XCom.
type MapSource struct {
	// Literal is a list or dict as JSON text, dict keys in the order
	// written (mapping over a dict yields its [key, value] pairs in order).
	Literal json.RawMessage `json:"literal,omitempty"`
	// XCom names an upstream task's pushed value (Airflow's XComArg).
	XCom *XComArg `json:"xcom,omitempty"`
}

// XComArg refers to a value an upstream task pushes, as task_id.output does.
type XComArg struct {
	TaskID string `json:"task_id"`
	Key    string `json:"key"`
}

// MapInputs holds the values an Expand's XCom sources resolved to, by
// upstream task id, as JSON: the return value of an unmapped upstream, the
// list of its instances' return values (in map index order) for a mapped
// one.
type MapInputs map[string]json.RawMessage

// Sources returns the ids of the upstream tasks whose XCom the expansion
// reads, each once, in the order written.
func (e *Expand) Sources() []string {
	var ids []string
	add := func(s *MapSource) {
		if s == nil || s.XCom == nil {
			return
		}
		for _, id := range ids {
			if id == s.XCom.TaskID {
				return
			}
		}
		ids = append(ids, s.XCom.TaskID)
	}
	for i := range e.Args {
		add(&e.Args[i].MapSource)
	}
	add(e.Kwargs)
	return ids
}

// LiteralOnly reports whether the expansion reads no XCom, so its length
// is known when a run is created.
func (e *Expand) LiteralOnly() bool { return len(e.Sources()) == 0 }

// ErrMapInputMissing is returned when an XCom source has no value in the
// MapInputs: the upstream pushed nothing (or has not run).
var ErrMapInputMissing = errors.New("mapped input not available")

func (s *MapSource) raw(in MapInputs) (json.RawMessage, error) {
	if s.XCom == nil {
		return s.Literal, nil
	}
	v, ok := in[s.XCom.TaskID]
	if !ok || len(v) == 0 || string(v) == "null" {
		return nil, fmt.Errorf("%w: %s did not push XCom for task mapping", ErrMapInputMissing, s.XCom.TaskID)
	}
	return v, nil
}

// Length returns how many task instances the expansion makes with these
// inputs: the product of the arguments' lengths for expand(), the number
// of dicts for expand_kwargs().
func (e *Expand) Length(in MapInputs) (int, error) {
	if e.Kind == ExpandListOfDicts {
		if e.Kwargs == nil {
			return 0, errors.New("expand_kwargs has no source")
		}
		raw, err := e.Kwargs.raw(in)
		if err != nil {
			return 0, err
		}
		return MapLength(raw)
	}
	n := 1
	for i := range e.Args {
		raw, err := e.Args[i].raw(in)
		if err != nil {
			return 0, err
		}
		l, err := MapLength(raw)
		if err != nil {
			return 0, fmt.Errorf("expand %s: %w", e.Args[i].Name, err)
		}
		n *= l
	}
	return n, nil
}

// IndexArgs returns the mapped arguments of the instance at index, decoded as
// DecodeJSON does: the element of each expand() argument that the cross
// product assigns it, or the index-th dict of expand_kwargs().
func (e *Expand) IndexArgs(index int, in MapInputs) (map[string]any, error) {
	if index < 0 {
		return nil, fmt.Errorf("map index %d: an unexpanded instance has no mapped arguments", index)
	}
	if e.Kind == ExpandListOfDicts {
		raw, err := e.Kwargs.raw(in)
		if err != nil {
			return nil, err
		}
		item, ok, err := itemAt(raw, index)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("map index %d out of range", index)
		}
		var kw map[string]any
		if err := DecodeJSON(item, &kw); err != nil || kw == nil {
			return nil, fmt.Errorf("expand_kwargs() expects a list[dict], not list[%s]", jsonTypeName(item))
		}
		return kw, nil
	}
	raws := make([]json.RawMessage, len(e.Args))
	for i := range e.Args {
		raw, err := e.Args[i].raw(in)
		if err != nil {
			return nil, err
		}
		raws[i] = raw
	}
	// Airflow's _find_index_for_this_field: peel the index from the last
	// argument backwards.
	kw := make(map[string]any, len(e.Args))
	rest := index
	for i := len(e.Args) - 1; i >= 0; i-- {
		n, at := 0, rest
		if i > 0 {
			// The first argument takes what is left of the index as is:
			// only the others need their length.
			var err error
			if n, err = itemCount(raws[i]); err != nil {
				return nil, fmt.Errorf("expand %s: %w", e.Args[i].Name, err)
			}
			if n == 0 {
				return nil, fmt.Errorf("cannot expand field mapped to length 0")
			}
			at = rest % n
		}
		item, ok, err := itemAt(raws[i], at)
		if err != nil {
			return nil, fmt.Errorf("expand %s: %w", e.Args[i].Name, err)
		}
		if !ok {
			return nil, fmt.Errorf("map index %d out of range", index)
		}
		var v any
		if err := DecodeJSON(item, &v); err != nil {
			return nil, fmt.Errorf("expand %s: %w", e.Args[i].Name, err)
		}
		kw[e.Args[i].Name] = v
		if i > 0 {
			rest /= n
		}
	}
	return kw, nil
}

// MapLength returns the number of entries of a JSON list or dict; anything
// else is Airflow's UnmappableXComTypePushed.
func MapLength(raw json.RawMessage) (int, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return 0, errors.New("unmappable return type 'NoneType'")
	}
	return itemCount(raw)
}

// CheckMappable validates a value an upstream task pushed for a mapped
// task downstream, with the messages of Airflow's
// _record_task_map_for_downstreams: nothing pushed, not a list or dict, or
// more than maxLength entries (core.max_map_length; 0 means the default).
func CheckMappable(raw json.RawMessage, maxLength int) error {
	if maxLength <= 0 {
		maxLength = DefaultMaxMapLength
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New("XComForMappingNotPushed: did not push XCom for task mapping")
	}
	n, err := MapLength(raw)
	if err != nil {
		return fmt.Errorf("UnmappableXComTypePushed: %w", err)
	}
	if n > maxLength {
		return fmt.Errorf("UnmappableXComLengthPushed: unmappable return value length: %d > %d", n, maxLength)
	}
	return nil
}

// jsonTypeName names a JSON value's Python type.
func jsonTypeName(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "NoneType"
	}
	switch raw[0] {
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	case '[':
		return "list"
	case '{':
		return "dict"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "float"
	}
	return "int"
}

func pyQuote(s string) string { return "'" + s + "'" }

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
	// Map is XComArg.map(fn): as many entries as its source, each passed
	// through Python functions of the DAG file. The functions run in the
	// Python worker when an instance resolves its argument (as Airflow
	// applies them lazily), so here the entries are the source's own.
	Map *MapTransform `json:"map,omitempty"`
	// Zip is zip(a, b, ...): entry i is the list of the sources' entries i.
	Zip *ZipSources `json:"zip,omitempty"`
}

// MapTransform is XComArg.map(): a source whose entries a mapped instance
// receives through Functions, applied in order.
type MapTransform struct {
	Source MapSource `json:"source"`
	// Functions names the callables (module.qualname), for display.
	Functions []string `json:"functions,omitempty"`
}

// ZipSources is XComArg.zip(): as long as the shortest source, or as the
// longest when Longest is set (fillvalue given), missing entries being
// FillValue.
type ZipSources struct {
	Sources   []MapSource     `json:"sources"`
	Longest   bool            `json:"longest,omitempty"`
	FillValue json.RawMessage `json:"fillvalue,omitempty"`
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
	for i := range e.Args {
		ids = e.Args[i].appendSources(ids)
	}
	if e.Kwargs != nil {
		ids = e.Kwargs.appendSources(ids)
	}
	return ids
}

// appendSources adds the upstream task ids s reads that ids lacks.
func (s *MapSource) appendSources(ids []string) []string {
	switch {
	case s.XCom != nil:
		for _, id := range ids {
			if id == s.XCom.TaskID {
				return ids
			}
		}
		return append(ids, s.XCom.TaskID)
	case s.Map != nil:
		return s.Map.Source.appendSources(ids)
	case s.Zip != nil:
		for i := range s.Zip.Sources {
			ids = s.Zip.Sources[i].appendSources(ids)
		}
	}
	return ids
}

// LiteralOnly reports whether the expansion reads no XCom, so its length
// is known when a run is created.
func (e *Expand) LiteralOnly() bool { return len(e.Sources()) == 0 }

// ErrMapInputMissing is returned when an XCom source has no value in the
// MapInputs: the upstream pushed nothing (or has not run).
var ErrMapInputMissing = errors.New("mapped input not available")

// raw returns the list (or dict) s resolves to with these inputs, as JSON.
func (s *MapSource) raw(in MapInputs) (json.RawMessage, error) {
	switch {
	case s.Map != nil:
		return s.Map.Source.raw(in)
	case s.Zip != nil:
		return s.Zip.raw(in)
	case s.XCom == nil:
		return s.Literal, nil
	}
	v, ok := in[s.XCom.TaskID]
	if !ok || len(v) == 0 || string(v) == "null" {
		return nil, fmt.Errorf("%w: %s did not push XCom for task mapping", ErrMapInputMissing, s.XCom.TaskID)
	}
	return v, nil
}

// raw builds the zipped list: entry i is the list of every source's entry
// i (a dict's entries being its [key, value] pairs, as when mapping over
// it), up to the shortest source, or the longest one filled with
// FillValue.
func (z *ZipSources) raw(in MapInputs) (json.RawMessage, error) {
	if len(z.Sources) == 0 {
		return nil, errors.New("zip() needs at least one input")
	}
	// Each source is walked once, item by item, rather than measured and
	// then scanned from the start for every entry.
	items := make([][]json.RawMessage, len(z.Sources))
	n := -1
	for i := range z.Sources {
		raw, err := z.Sources[i].raw(in)
		if err != nil {
			return nil, err
		}
		if items[i], err = jsonItems(raw); err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		if l := len(items[i]); n < 0 || (z.Longest && l > n) || (!z.Longest && l < n) {
			n = l
		}
	}
	fill := z.FillValue
	if len(bytes.TrimSpace(fill)) == 0 {
		fill = json.RawMessage("null")
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for e := 0; e < n; e++ {
		if e > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for i := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			if e < len(items[i]) {
				b.Write(items[i][e])
			} else {
				b.Write(fill)
			}
		}
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.Bytes(), nil
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

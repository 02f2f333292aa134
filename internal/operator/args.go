package operator

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/pyvalue"
)

// The helpers below read one argument from Context.Args. Args come from
// YAML or JSON, so a number may arrive as int, int64 or float64 and a flag
// as a bool or a string; each helper accepts the forms a DAG author could
// reasonably write and names the argument when it rejects a value. An
// absent or null argument yields the default.

// StringArg returns args[name] as a string. Numbers and booleans are
// formatted, since a templated field that renders to "42" may have been
// decoded as a number.
func StringArg(args map[string]any, name, def string) (string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, bool:
		return fmt.Sprint(x), nil
	case float64, *big.Int, json.Number:
		// As Python's str() prints them: 5.0, 1e+16, exact big ints.
		return pyvalue.Str(x), nil
	}
	return "", fmt.Errorf("argument %s: want a string, got %T", name, v)
}

// BoolArg returns args[name] as a bool; strings such as "true", "False",
// "1" are accepted.
func BoolArg(args map[string]any, name string, def bool) (bool, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("argument %s: want true or false, got %q", name, x)
		}
		return b, nil
	case int:
		return x != 0, nil
	}
	return false, fmt.Errorf("argument %s: want true or false, got %T", name, v)
}

// IntArg returns args[name] as an int; a float must be integral and a
// string must hold an integer.
func IntArg(args map[string]any, name string, def int) (int, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := AsInt(v)
	if !ok {
		return 0, fmt.Errorf("argument %s: want an integer, got %s", name, pyvalue.Repr(v))
	}
	return n, nil
}

// FloatArg returns args[name] as a float64 (ints and numeric strings too).
func FloatArg(args map[string]any, name string, def float64) (float64, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return def, nil
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("argument %s: want a number, got %s", name, pyvalue.Repr(v))
}

// StringListArg returns args[name] as a list of strings: a single string
// is a list of one; list elements are formatted as StringArg does.
func StringListArg(args map[string]any, name string) ([]string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return nil, nil
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []string:
		return append([]string(nil), x...), nil
	default:
		items = []any{x}
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := StringArg(map[string]any{name: item}, name, "")
		if err != nil {
			return nil, fmt.Errorf("argument %s[%d]: want a string, got %T", name, i, item)
		}
		out = append(out, s)
	}
	return out, nil
}

// MapArg returns args[name] as a mapping; nil when absent.
func MapArg(args map[string]any, name string) (map[string]any, error) {
	v, ok := args[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("argument %s: want a mapping, got %T", name, v)
	}
	return m, nil
}

// AsInt converts a decoded number (or numeric string) to an int, reporting
// false for anything else, including non-integral floats.
func AsInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32*float64(1<<31) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

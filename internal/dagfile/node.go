package dagfile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/timedelta"
)

// pair is one key/value entry of a YAML mapping, with positions kept.
type pair struct {
	key, val *yaml.Node
}

// resolve follows YAML aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isMapping(n *yaml.Node) bool {
	n = resolve(n)
	return n != nil && n.Kind == yaml.MappingNode
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// pairs returns a mapping's entries with YAML merge keys ("<<: *anchor")
// expanded the way PyYAML does it: explicit keys win over merged ones and
// earlier merge sources win over later ones. Duplicate explicit keys are
// kept so callers can report them.
func pairs(n *yaml.Node) []pair {
	return pairsDepth(resolve(n), 0)
}

func pairsDepth(n *yaml.Node, depth int) []pair {
	if n == nil || n.Kind != yaml.MappingNode || depth > 20 {
		return nil
	}
	var out, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.ShortTag() == "!!merge" || k.Style == 0) {
			v = resolve(v)
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, s := range sources {
				merged = append(merged, pairsDepth(resolve(s), depth+1)...)
			}
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{k, v})
	}
	for _, p := range merged {
		if !seen[p.key.Value] {
			seen[p.key.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// mergeDefaults deep-merges the file's default block into a DAG's mapping
// the way dag-factory's merge_configs does: the DAG's own values win, and
// mappings present on both sides are merged key by key.
func mergeDefaults(dag, def *yaml.Node) *yaml.Node {
	dag, def = resolve(dag), resolve(def)
	if def == nil || def.Kind != yaml.MappingNode || dag.Kind != yaml.MappingNode {
		return dag
	}
	defs := map[string]*yaml.Node{}
	for _, p := range pairs(def) {
		if _, ok := defs[p.key.Value]; !ok {
			defs[p.key.Value] = p.val
		}
	}
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: dag.Line, Column: dag.Column}
	have := map[string]bool{}
	for _, p := range pairs(dag) {
		v := p.val
		if d, ok := defs[p.key.Value]; ok && isMapping(v) && isMapping(d) {
			v = mergeDefaults(v, d)
		}
		have[p.key.Value] = true
		out.Content = append(out.Content, p.key, v)
	}
	for _, p := range pairs(def) {
		if !have[p.key.Value] {
			have[p.key.Value] = true
			out.Content = append(out.Content, p.key, p.val)
		}
	}
	return out
}

// maxExpandedNodes bounds how large a document may grow once aliases are
// expanded, so a few lines of nested aliases ("billion laughs") cannot
// stall the DAG processor.
const maxExpandedNodes = 1_000_000

// expandedSize counts the nodes of n with aliases expanded, stopping at
// limit; a self-referencing alias counts as over the limit.
func expandedSize(n *yaml.Node, limit int) int {
	memo := map[*yaml.Node]int{}
	var size func(*yaml.Node) int
	size = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		if v, ok := memo[n]; ok {
			if v < 0 {
				return limit + 1 // cycle
			}
			return v
		}
		memo[n] = -1
		total := 1
		if n.Kind == yaml.AliasNode {
			total += size(n.Alias)
		}
		for _, c := range n.Content {
			total += size(c)
			if total > limit {
				total = limit + 1
				break
			}
		}
		memo[n] = total
		return total
	}
	return size(n)
}

// value converts a node into plain Go values (string, int, float64, bool,
// time.Time, nil, []any, map[string]any) with merge keys expanded, so the
// result serializes to JSON.
func value(n *yaml.Node) any {
	return valueDepth(n, 0)
}

func valueDepth(n *yaml.Node, depth int) any {
	n = resolve(n)
	if n == nil || depth > 100 {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return valueDepth(n.Content[0], depth+1)
		}
		return nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, valueDepth(c, depth+1))
		}
		return out
	case yaml.MappingNode:
		out := map[string]any{}
		for _, p := range pairs(n) {
			out[p.key.Value] = valueDepth(p.val, depth+1)
		}
		return out
	}
	return scalar(n)
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err == nil {
			return v
		}
	case "!!timestamp":
		var t time.Time
		if err := n.Decode(&t); err == nil {
			return t
		}
	}
	return n.Value
}

// kindName names a node's kind for error messages.
func kindName(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		if marker, text, ok := markerText(value(n)); ok {
			if marker == pythonMarker {
				return fmt.Sprintf("a Python callable (%s)", text)
			}
			return fmt.Sprintf("a Python object (%s)", text)
		}
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean"
	case "!!int":
		return "a number"
	case "!!float":
		return "a number"
	case "!!timestamp":
		return "a date"
	}
	return fmt.Sprintf("%q", n.Value)
}

// asString reads a scalar as text; numbers and booleans are taken as
// written, as Python would str() them.
func asString(n *yaml.Node) (string, error) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", fmt.Errorf("must be a string, got %s", kindName(n))
	}
	return n.Value, nil
}

// asBool reads a boolean. PyYAML (which dag-factory uses) follows YAML 1.1,
// where unquoted yes/no/on/off are booleans too, so those are accepted.
func asBool(n *yaml.Node) (bool, error) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!bool" {
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, nil
			}
		}
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
			switch strings.ToLower(n.Value) {
			case "yes", "on", "y", "true":
				return true, nil
			case "no", "off", "n", "false":
				return false, nil
			}
		}
	}
	return false, fmt.Errorf("must be true or false, got %s", kindName(n))
}

// asInt reads a whole number. Digit strings are accepted because Airflow
// int()s several of these arguments (retries: "3" works there).
func asInt(n *yaml.Node) (int, error) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!str") {
		s := strings.ReplaceAll(strings.TrimSpace(n.Value), "_", "")
		if i, err := strconv.ParseInt(s, 0, 0); err == nil {
			return int(i), nil
		}
	}
	return 0, fmt.Errorf("must be a whole number, got %s", kindName(n))
}

// asSeconds reads dag-factory's *_sec(s) keys, which hold plain seconds.
func asSeconds(n *yaml.Node) (time.Duration, error) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		return timedelta.Parse(scalar(n))
	}
	return 0, fmt.Errorf("must be a number of seconds, got %s", kindName(n))
}

// asDuration reads a timedelta argument: seconds, a string such as "5m" or
// "1 day", a mapping such as {hours: 1}, or dag-factory's
// {__type__: datetime.timedelta, ...} object, including its positional
// __args__ form (days, seconds, microseconds, milliseconds, minutes, hours,
// weeks, as Python's timedelta takes them).
func asDuration(n *yaml.Node) (time.Duration, error) {
	v := value(n)
	if m, ok := v.(map[string]any); ok {
		if args, ok := m["__args__"]; ok {
			list, ok := args.([]any)
			if !ok {
				return 0, fmt.Errorf("__args__ must be a list of numbers")
			}
			names := []string{"days", "seconds", "microseconds", "milliseconds", "minutes", "hours", "weeks"}
			if len(list) > len(names) {
				return 0, fmt.Errorf("timedelta takes at most %d positional arguments, got %d", len(names), len(list))
			}
			c := map[string]any{}
			for k, x := range m {
				if k != "__args__" {
					c[k] = x
				}
			}
			for i, x := range list {
				c[names[i]] = x
			}
			m = c
		}
		v = m
	}
	return timedelta.Parse(v)
}

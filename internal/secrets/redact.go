package secrets

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Redacted is what a masked value becomes, in the event log as in task
// logs.
const Redacted = "***"

// maxRedactDepth bounds the walk, as Airflow's redact does (it stops at
// depth 5 and hides everything below; Windsock goes deeper but still
// stops): a deeper value is replaced whole.
const maxRedactDepth = 64

// RedactAudit returns a copy of params, the parameters of a request or
// command that go to the event log, with every secret replaced by "***",
// by the rules task logs follow (Airflow's secrets masker):
//
//   - the value under a sensitive name (IsSensitiveName), at any depth,
//     is hidden whole: every string and number in it;
//   - a variable's value is hidden when its key is sensitive (the "key" or
//     "variable_key" parameter beside "value");
//   - a string holding a JSON object or array (a connection's extra, a
//     JSON variable, a conf given as text) is redacted inside by the same
//     rules and kept as JSON text.
//
// params is not changed.
func RedactAudit(params map[string]any) map[string]any {
	out, _ := redact(params, "", 0).(map[string]any)
	if out == nil {
		return map[string]any{}
	}
	for _, keyName := range []string{"key", "variable_key"} {
		if k, ok := params[keyName].(string); ok && IsSensitiveName(k) {
			if _, has := out["value"]; has {
				out["value"] = Redacted
			}
		}
	}
	return out
}

// Redact returns a copy of v, a decoded JSON value found under name, with
// its secrets replaced as RedactAudit does.
func Redact(v any, name string) any {
	return redact(v, name, 0)
}

func redact(v any, name string, depth int) any {
	if depth > maxRedactDepth {
		return Redacted
	}
	if name != "" && IsSensitiveName(name) {
		return redactAll(v, depth)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redact(e, k, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e, "", depth+1)
		}
		return out
	case string:
		return redactJSONText(x, depth)
	}
	return v
}

// redactAll hides every leaf of v but keeps its shape, so that the log
// still shows which fields were given.
func redactAll(v any, depth int) any {
	if depth > maxRedactDepth {
		return Redacted
	}
	switch x := v.(type) {
	case nil, bool:
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactAll(e, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactAll(e, depth+1)
		}
		return out
	}
	return Redacted
}

// RedactJSONText redacts, by RedactAudit's rules, inside a string that
// holds a JSON object or array (a command line's --conf or --conn-extra, a
// JSON variable); other strings, and JSON with nothing to hide, are
// returned as they are.
func RedactJSONText(s string) string {
	return redactJSONText(s, 0)
}

func redactJSONText(s string, depth int) string {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return s
	}
	r := redact(v, "", depth+1)
	before, err1 := json.Marshal(v)
	after, err2 := json.Marshal(r)
	if err1 != nil || err2 != nil {
		return Redacted
	}
	if bytes.Equal(before, after) {
		return s
	}
	return string(after)
}

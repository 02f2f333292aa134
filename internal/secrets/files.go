package secrets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/windsock"
)

// File formats of connection exports and imports.
const (
	FormatJSON = "json"
	FormatYAML = "yaml"
	FormatEnv  = "env"
)

// EncodeVariables writes variables as `airflow variables export` does: one
// JSON object of key -> value, sorted by key, indented by four spaces. A
// value that is itself valid JSON is written as that JSON (so a JSON
// variable stays a structure); any other value as a string. Descriptions
// are not part of this format.
func EncodeVariables(vars []Variable) ([]byte, error) {
	out := make(map[string]any, len(vars))
	for _, v := range vars {
		out[v.Key] = exportedValue(v.Value)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode variables: %w", err)
	}
	return b.Bytes(), nil
}

// exportedValue decodes a value that is a JSON document, as Airflow's
// export tries json.JSONDecoder().decode on every value.
func exportedValue(value string) any {
	if !json.Valid([]byte(value)) {
		return value
	}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber() // keep big integers and number formatting intact
	var v any
	if err := dec.Decode(&v); err != nil {
		return value
	}
	return v
}

// DecodeVariables reads a variables file as `airflow variables import`
// does: a JSON object of key -> value, where string values are taken as
// they are and any other value is stored as its JSON encoding. A value may
// also be {"value": ..., "description": ...} to carry a description. The
// result is sorted by key.
func DecodeVariables(data []byte) ([]Variable, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "invalid variables file: %v", err)
	}
	out := make([]Variable, 0, len(raw))
	for key, msg := range raw {
		if err := validateKey("variable key", key); err != nil {
			return nil, err
		}
		v := Variable{Key: key}
		value := msg
		if obj, ok := describedValue(msg); ok {
			value = obj.Value
			v.Description = obj.Description
		}
		s, err := variableText(value)
		if err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "variable %q: %v", key, err)
		}
		v.Value = s
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

type described struct {
	Value       json.RawMessage `json:"value"`
	Description string          `json:"description"`
}

// describedValue recognises {"value": ..., "description": "..."}: an
// object with a "value" member and no members besides those two.
func describedValue(msg json.RawMessage) (described, bool) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(msg, &members); err != nil {
		return described{}, false
	}
	if _, ok := members["value"]; !ok {
		return described{}, false
	}
	for k := range members {
		if k != "value" && k != "description" {
			return described{}, false
		}
	}
	var d described
	if err := json.Unmarshal(msg, &d); err != nil {
		return described{}, false
	}
	return d, true
}

// variableText is the stored text of an imported value: a string as is,
// anything else as compact JSON (member order kept).
func variableText(msg json.RawMessage) (string, error) {
	var s string
	// null also unmarshals into a string; it is stored as "null", as
	// Airflow's json.dumps(None).
	if bytes.HasPrefix(bytes.TrimSpace(msg), []byte(`"`)) {
		if err := json.Unmarshal(msg, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, msg); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ConnectionFormat returns the format of a connections file from its
// extension (.json, .yaml, .yml, .env), as `airflow connections import`
// chooses it.
func ConnectionFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON, nil
	case ".yaml", ".yml":
		return FormatYAML, nil
	case ".env":
		return FormatEnv, nil
	}
	return "", windsock.Errorf(windsock.EINVALID, "unsupported file format %q: the file must end in .json, .yaml, .yml or .env", filepath.Ext(path))
}

// EncodeConnections writes connections as `airflow connections export`
// does: json and yaml as an object of conn_id -> fields (see ExportMap),
// env as conn_id=URI lines.
func EncodeConnections(conns []*Connection, format string) ([]byte, error) {
	sorted := append([]*Connection(nil), conns...)
	sortConnections(sorted)
	switch format {
	case FormatEnv:
		var b bytes.Buffer
		for _, c := range sorted {
			fmt.Fprintf(&b, "%s=%s\n", c.ConnID, c.URI())
		}
		return b.Bytes(), nil
	case FormatJSON, FormatYAML:
		all := make(map[string]any, len(sorted))
		for _, c := range sorted {
			all[c.ConnID] = c.ExportMap()
		}
		if format == FormatYAML {
			b, err := yaml.Marshal(all)
			if err != nil {
				return nil, fmt.Errorf("encode connections: %w", err)
			}
			return b, nil
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			return nil, fmt.Errorf("encode connections: %w", err)
		}
		return b.Bytes(), nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "unknown connections format %q: use json, yaml or env", format)
}

// DecodeConnections reads a connections file as Airflow's local-filesystem
// secrets backend (used by `airflow connections import`) does. In json and
// yaml, each conn_id maps to a URI string or to an object of connection
// fields (conn_type, host, login, password, schema, port, extra or
// extra_dejson, description, or uri); env files hold conn_id=URI (or
// conn_id=JSON) lines, with # comments. The result is sorted by conn_id.
func DecodeConnections(data []byte, format string) ([]*Connection, error) {
	var entries map[string]any
	switch format {
	case FormatEnv:
		return decodeEnvConnections(data)
	case FormatJSON:
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&entries); err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "invalid connections file: %v", err)
		}
	case FormatYAML:
		if err := yaml.Unmarshal(data, &entries); err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "invalid connections file: %v", err)
		}
	default:
		return nil, windsock.Errorf(windsock.EINVALID, "unknown connections format %q: use json, yaml or env", format)
	}
	out := make([]*Connection, 0, len(entries))
	for connID, value := range entries {
		conn, err := connectionEntry(connID, value)
		if err != nil {
			return nil, err
		}
		out = append(out, conn)
	}
	sortConnections(out)
	return out, nil
}

func connectionEntry(connID string, value any) (*Connection, error) {
	if list, ok := value.([]any); ok {
		// Airflow accepts a one-element list for a conn_id.
		if len(list) != 1 {
			return nil, windsock.Errorf(windsock.EINVALID, "connection %q is defined %d times; give it once", connID, len(list))
		}
		value = list[0]
	}
	switch v := value.(type) {
	case string:
		return ParseURI(connID, v)
	case map[string]any:
		return fromMap(connID, v)
	}
	return nil, windsock.Errorf(windsock.EINVALID, "connection %q must be a URI string or an object of fields, got %T", connID, value)
}

func decodeEnvConnections(data []byte) ([]*Connection, error) {
	var out []*Connection
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		connID, value, ok := strings.Cut(line, "=")
		connID = strings.TrimSpace(connID)
		if !ok {
			return nil, windsock.Errorf(windsock.EINVALID, "line %d: expected conn_id=URI", lineNo)
		}
		if connID == "" {
			return nil, windsock.Errorf(windsock.EINVALID, "line %d: the conn_id before '=' is empty", lineNo)
		}
		if first, dup := seen[connID]; dup {
			return nil, windsock.Errorf(windsock.EINVALID, "line %d: connection %q is already defined on line %d", lineNo, connID, first)
		}
		seen[connID] = lineNo
		conn, err := parseConnValue(connID, strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		out = append(out, conn)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read connections file: %w", err)
	}
	sortConnections(out)
	return out, nil
}

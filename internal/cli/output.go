package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Output formats, as Airflow's CLI names them.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatPlain = "plain"
)

// checkFormat rejects an -o value Airflow's argparse would reject, as a
// usage error worded the same way.
func checkFormat(f string) error {
	switch f {
	case formatTable, formatJSON, formatYAML, formatPlain:
		return nil
	}
	return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json', 'yaml', 'plain')", f)}
}

// How a command's -o output is built, the way Airflow's AirflowConsole
// does it: a command maps each item to a record (field names in Airflow's
// order, written once per command as a fields table in airflow_fields.go),
// every value is normalized as Airflow normalizes it (None stays null,
// lists and dicts keep their shape, every other value becomes its Python
// str(): True, 5, 2024-01-01 00:00:00+00:00), and the records are printed
// in the chosen format.
//
// A new command declares
//
//	var fooFields = fields[*windsock.Foo]{
//		{"foo_id", func(f *windsock.Foo) any { return f.ID }},
//		{"start_date", func(f *windsock.Foo) any { return f.StartDate }}, // *time.Time: nil prints null
//	}
//
// and prints with fooFields.print(w, format, items). Commands whose rows
// are not one item each build []record directly and call printRecords.

// column is one field of a command's output: the name Airflow prints and
// how to read its value from one item.
type column[T any] struct {
	name  string
	value func(T) any
}

// fields is one command's output: its columns in Airflow's order.
type fields[T any] []column[T]

// records maps items to normalized records.
func (fs fields[T]) records(items []T) []record {
	out := make([]record, len(items))
	for i, it := range items {
		rec := make(record, len(fs))
		for j, c := range fs {
			rec[j] = recordField{c.name, normalize(c.value(it))}
		}
		out[i] = rec
	}
	return out
}

// print writes items in format.
func (fs fields[T]) print(w io.Writer, format string, items []T) error {
	return printRecords(w, format, fs.records(items))
}

// record is one output row: named fields in order, each value normalized
// to nil, string, []any or record (a dict).
type record []recordField

type recordField struct {
	name  string
	value any
}

// newRecord builds a record from alternating names and values, for
// commands that print dicts of their own: newRecord("dag_id", id, "state", s).
func newRecord(kv ...any) record {
	rec := make(record, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		rec = append(rec, recordField{fmt.Sprint(kv[i]), normalize(kv[i+1])})
	}
	return rec
}

// printRecords writes records as Airflow does for each format: json is
// Python's json.dumps of the list, yaml its yaml.dump (keys sorted), table
// a column-aligned table with a "=" rule under the header and plain the
// same without rule or separators. An empty table prints "No data found".
func printRecords(w io.Writer, format string, recs []record) error {
	switch format {
	case formatJSON:
		var b bytes.Buffer
		writeJSON(&b, recordList(recs))
		b.WriteByte('\n')
		_, err := w.Write(b.Bytes())
		return err
	case formatYAML:
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		var v any = []any{}
		if len(recs) > 0 {
			v = yamlValue(recordList(recs))
		}
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	case formatTable, formatPlain:
		if len(recs) == 0 {
			_, err := fmt.Fprintln(w, "No data found")
			return err
		}
		return writeGrid(w, format, recs)
	}
	return checkFormat(format)
}

func recordList(recs []record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = r
	}
	return out
}

// writeJSON writes a normalized value with json.dumps's separators (", "
// and ": "), keeping record field order; encoding/json would compact a
// Marshaler's output, so the structure is written here and only strings
// go through the encoder.
func writeJSON(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case record:
		b.WriteByte('{')
		for i, f := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(b, f.name)
			b.WriteString(": ")
			writeJSON(b, f.value)
		}
		b.WriteByte('}')
	default:
		writeJSONString(b, fmt.Sprint(x))
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

// yamlValue turns records into maps, which the YAML encoder writes with
// sorted keys, as PyYAML's dump does.
func yamlValue(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlValue(e)
		}
		return out
	case record:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.name] = yamlValue(f.value)
		}
		return m
	case string:
		if yaml11Timestamp.MatchString(x) {
			// PyYAML quotes these, so a YAML 1.1 reader gets the string
			// back and not a datetime; the v3 encoder would not.
			return &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: x}
		}
	}
	return v
}

// yaml11Timestamp matches what YAML 1.1 reads as a timestamp.
var yaml11Timestamp = regexp.MustCompile(`^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$`)

// cellText is how a normalized value shows in a table cell: Airflow's
// table joins lists with "," and prints None as "None"; plain (tabulate)
// prints None as nothing. Dicts show as JSON.
func cellText(v any, format string) string {
	switch x := v.(type) {
	case nil:
		if format == formatPlain {
			return ""
		}
		return "None"
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cellText(e, format)
		}
		return strings.Join(parts, ",")
	}
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.String()
}

// writeGrid prints records as aligned columns. A cell with several lines
// takes several lines of its row. table puts " | " between columns and a
// "=" rule under the header (Airflow's rich table); plain puts two spaces
// and right-aligns numeric columns (tabulate's plain format).
func writeGrid(w io.Writer, format string, recs []record) error {
	ncol := len(recs[0])
	header := make([]string, ncol)
	for i, f := range recs[0] {
		header[i] = f.name
	}
	rows := [][]string{header}
	for _, r := range recs {
		row := make([]string, ncol)
		for i := 0; i < ncol && i < len(r); i++ {
			row[i] = cellText(r[i].value, format)
		}
		rows = append(rows, row)
	}
	widths := make([]int, ncol)
	numeric := make([]bool, ncol)
	for c := range numeric {
		numeric[c] = format == formatPlain
	}
	for ri, row := range rows {
		for c, cell := range row {
			for _, line := range strings.Split(cell, "\n") {
				widths[c] = max(widths[c], utf8.RuneCountInString(line))
			}
			if ri > 0 && cell != "" {
				if _, err := strconv.ParseFloat(cell, 64); err != nil {
					numeric[c] = false
				}
			}
		}
	}
	sep := "  "
	if format == formatTable {
		sep = " | "
	}
	var b strings.Builder
	for ri, row := range rows {
		lines := make([][]string, ncol)
		height := 1
		for c, cell := range row {
			lines[c] = strings.Split(cell, "\n")
			height = max(height, len(lines[c]))
		}
		for l := 0; l < height; l++ {
			var line strings.Builder
			for c := range row {
				if c > 0 {
					line.WriteString(sep)
				}
				text := ""
				if l < len(lines[c]) {
					text = lines[c][l]
				}
				pad := strings.Repeat(" ", widths[c]-utf8.RuneCountInString(text))
				if numeric[c] && (ri > 0 || format == formatPlain) {
					line.WriteString(pad + text)
				} else {
					line.WriteString(text + pad)
				}
			}
			b.WriteString(strings.TrimRight(line.String(), " "))
			b.WriteByte('\n')
		}
		if ri == 0 && format == formatTable {
			rule := make([]string, ncol)
			for c := range rule {
				rule[c] = strings.Repeat("=", widths[c])
			}
			b.WriteString(strings.Join(rule, "=+=") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printOutput prints what a listCommand's rows function returned: records
// from a fields table, or a slice of structs whose json tags name the
// fields (printed as records, normalized the same way).
func printOutput(w io.Writer, format string, out any) error {
	if recs, ok := out.([]record); ok {
		return printRecords(w, format, recs)
	}
	return printRows(w, format, out)
}

// printRows prints a slice of structs whose json tags name the fields, in
// field order.
func printRows(w io.Writer, format string, rows any) error {
	v := reflect.ValueOf(rows)
	t := v.Type().Elem()
	recs := make([]record, v.Len())
	for r := range recs {
		var rec record
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			rec = append(rec, recordField{name, normalize(v.Index(r).Field(i).Interface())})
		}
		recs[r] = rec
	}
	return printRecords(w, format, recs)
}

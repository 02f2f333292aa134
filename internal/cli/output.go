package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/windsock"
)

// Output formats, as Airflow's CLI names them.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatPlain = "plain"
)

func checkFormat(f string) error {
	switch f {
	case formatTable, formatJSON, formatYAML, formatPlain:
		return nil
	}
	return windsock.Errorf(windsock.EINVALID, "unknown output format %q: use table, json, yaml or plain", f)
}

// printRows writes rows, a slice of structs whose json tags name the
// columns, in the chosen format. JSON and YAML keep the struct's field
// order and types; table and plain print one line per row.
func printRows(w io.Writer, format string, rows any) error {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		if reflect.ValueOf(rows).Len() == 0 {
			_, err := fmt.Fprintln(w, "[]")
			return err
		}
		return enc.Encode(rows)
	case formatYAML:
		// Round-trip through JSON so YAML uses the same field names.
		b, err := json.Marshal(rows)
		if err != nil {
			return err
		}
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return err
		}
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return enc.Close()
	}
	cols, cells := tabulate(rows)
	if format == formatPlain {
		for _, r := range cells {
			if _, err := fmt.Fprintln(w, strings.Join(r, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	if len(cells) == 0 {
		_, err := fmt.Fprintln(w, "No data found")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	seps := make([]string, len(cols))
	for i, c := range cols {
		seps[i] = strings.Repeat("=", len(c))
	}
	fmt.Fprintln(tw, strings.Join(seps, "\t"))
	for _, r := range cells {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// tabulate turns a slice of structs into column names and string cells.
func tabulate(rows any) ([]string, [][]string) {
	v := reflect.ValueOf(rows)
	t := v.Type().Elem()
	var cols []string
	var idx []int
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		cols = append(cols, name)
		idx = append(idx, i)
	}
	cells := make([][]string, v.Len())
	for r := 0; r < v.Len(); r++ {
		row := make([]string, len(idx))
		for c, i := range idx {
			row[c] = cellString(v.Index(r).Field(i).Interface())
		}
		cells[r] = row
	}
	return cols, cells
}

func cellString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.ReplaceAll(x, "\n", " | ")
	case []string:
		return strings.Join(x, ", ")
	case bool:
		if x {
			return "True"
		}
		return "False"
	case *string:
		if x == nil {
			return ""
		}
		return *x
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return ""
		}
		return cellString(rv.Elem().Interface())
	}
	if rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice {
		// As Airflow's tables print them: str(), so a conf is {'n': 5}.
		return pyvalue.Repr(v)
	}
	return fmt.Sprint(v)
}

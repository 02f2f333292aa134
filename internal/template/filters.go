package template

import (
	"fmt"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
)

// airflowFilters are the filters Airflow adds to Jinja's: each formats a
// date the way the context variable of the same name is formatted
// ({{ data_interval_end | ds }}). None passes through as None.
func airflowFilters() map[string]exec.FilterFunction {
	dateFilter := func(name string, format func(DateTime) string) exec.FilterFunction {
		return func(_ *exec.Evaluator, in *exec.Value, params *exec.VarArgs) *exec.Value {
			if in.IsError() || in.IsNil() {
				return in
			}
			if len(params.Args) > 0 || len(params.KwArgs) > 0 {
				return exec.AsValue(fmt.Errorf("filter %s takes no arguments", name))
			}
			d, ok := in.Interface().(DateTime)
			if !ok {
				return exec.AsValue(fmt.Errorf("filter %s needs a date, got %q", name, in.String()))
			}
			return exec.AsValue(format(d))
		}
	}
	iso := func(d DateTime) string { return d.isoformat("T") }
	return map[string]exec.FilterFunction{
		"ds":        dateFilter("ds", func(d DateTime) string { return strftime(d.t, "%Y-%m-%d") }),
		"ds_nodash": dateFilter("ds_nodash", func(d DateTime) string { return strftime(d.t, "%Y%m%d") }),
		"ts":        dateFilter("ts", iso),
		"ts_nodash": dateFilter("ts_nodash", func(d DateTime) string { return strftime(d.t, "%Y%m%dT%H%M%S") }),
		"ts_nodash_with_tz": dateFilter("ts_nodash_with_tz", func(d DateTime) string {
			return strings.NewReplacer("-", "", ":", "").Replace(iso(d))
		}),
	}
}

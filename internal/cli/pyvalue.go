package cli

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/windsock"
)

// Values in CLI output read as Airflow prints the Python values behind
// them: its console passes every scalar through str().

// normalize turns a Go value into what Airflow's _normalize_data makes of
// the Python value: nil for None, lists and dicts kept (their members
// normalized), and str() of anything else.
func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case record:
		return x
	case string:
		return x
	case bool:
		return pyBool(x)
	case time.Time:
		return pyDatetime(x)
	case time.Duration:
		return pyTimedelta(x)
	case float64:
		return pyvalue.Float(x)
	case float32:
		return pyvalue.Float(float64(x))
	case json.Number:
		return x.String()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return string(rv.Bytes())
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		// A dict: Go maps have no order, so keys are sorted. A nil map is
		// None (a nil slice, by contrast, is an empty list).
		if rv.IsNil() {
			return nil
		}
		keys := make([]string, 0, rv.Len())
		byKey := map[string]reflect.Value{}
		for _, k := range rv.MapKeys() {
			s := fmt.Sprint(k.Interface())
			keys = append(keys, s)
			byKey[s] = rv.MapIndex(k)
		}
		sort.Strings(keys)
		rec := make(record, len(keys))
		for i, k := range keys {
			rec[i] = recordField{k, normalize(byKey[k].Interface())}
		}
		return rec
	}
	return fmt.Sprint(v)
}

// pyBool is Python's str(bool).
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyDatetime is Python's str(datetime) of an aware UTC datetime:
// 2024-01-01 00:00:00+00:00, with microseconds when there are any.
func pyDatetime(t time.Time) string {
	return strings.Replace(windsock.ISOFormat(t), "T", " ", 1)
}

// pyTimedelta is Python's str(timedelta): [D day[s], ]H:MM:SS[.ffffff].
func pyTimedelta(d time.Duration) string {
	us := d.Microseconds()
	days := us / (86400 * 1e6)
	rest := us % (86400 * 1e6)
	if rest < 0 { // Python keeps the days negative and the rest positive
		days--
		rest += 86400 * 1e6
	}
	var b strings.Builder
	if days != 0 {
		unit := "days"
		if days == 1 || days == -1 {
			unit = "day"
		}
		fmt.Fprintf(&b, "%d %s, ", days, unit)
	}
	secs := rest / 1e6
	fmt.Fprintf(&b, "%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if f := rest % 1e6; f != 0 {
		fmt.Fprintf(&b, ".%06d", f)
	}
	return b.String()
}

package metaport

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/plainpickle"
)

// Row is one source row: column name -> value as the source's driver
// returned it (or as text, for CSV sources).
type Row map[string]any

// timeLayouts are the forms timestamps take in Airflow databases and
// exports: SQLite's naive text, PostgreSQL's text with an offset, ISO 8601.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

// timeOf reads a timestamp; naive values are UTC, as Airflow writes them.
func timeOf(v any) (*time.Time, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		u := t.UTC()
		return &u, nil
	case []byte:
		return timeOf(string(t))
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return nil, nil
		}
		for _, l := range timeLayouts {
			if p, err := time.Parse(l, s); err == nil {
				u := p.UTC()
				return &u, nil
			}
		}
		return nil, fmt.Errorf("not a timestamp: %q", s)
	}
	return nil, fmt.Errorf("not a timestamp: %T", v)
}

// intOf reads an integer; ok is false for NULL (and for text that is not
// a number, which SQLite's type affinity lets into integer columns).
func intOf(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case int:
		return int64(t), true
	case int32:
		return int64(t), true
	case float64:
		return int64(t), true
	case bool:
		if t {
			return 1, true
		}
		return 0, true
	case []byte:
		return intOf(string(t))
	case string:
		s := strings.TrimSpace(t)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f), true
		}
	}
	return 0, false
}

// nullInt is intOf as a parameter: nil for NULL.
func nullInt(v any) any {
	if n, ok := intOf(v); ok {
		return n
	}
	return nil
}

// intOr is intOf with a default for NULL.
func intOr(v any, def int64) int64 {
	if n, ok := intOf(v); ok {
		return n
	}
	return def
}

func floatOf(v any) any {
	switch t := v.(type) {
	case float64:
		return t
	case float32:
		return float64(t)
	case int64:
		return float64(t)
	case int:
		return float64(t)
	case []byte:
		return floatOf(string(t))
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil {
			return f
		}
	}
	return nil
}

// boolOf reads a boolean: SQLite's 0/1, PostgreSQL's bool, the CSV tools'
// True/False and t/f.
func boolOf(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case int64:
		return t != 0, true
	case int:
		return t != 0, true
	case []byte:
		return boolOf(string(t))
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "t", "1", "yes", "y":
			return true, true
		case "false", "f", "0", "no", "n":
			return false, true
		}
	}
	return false, false
}

func boolOr(v any, def bool) bool {
	if b, ok := boolOf(v); ok {
		return b
	}
	return def
}

// strOf reads text; NULL is "".
func strOf(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []byte:
		return string(t)
	case time.Time:
		return t.UTC().Format("2006-01-02 15:04:05.999999")
	case map[string]any, []any:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return fmt.Sprint(v)
}

// nullStr is strOf as a parameter: nil for NULL or "".
func nullStr(v any) any {
	if s := strOf(v); s != "" {
		return s
	}
	return nil
}

// bytesOf reads a binary column: the drivers' []byte, or the CSV tools'
// `\x` + hex text.
func bytesOf(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return t, nil
	case string:
		if t == "" {
			return nil, nil
		}
		if h, ok := strings.CutPrefix(t, `\x`); ok {
			b := make([]byte, len(h)/2)
			for i := range b {
				n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
				if err != nil {
					return nil, fmt.Errorf("bad hex in binary value: %w", err)
				}
				b[i] = byte(n)
			}
			return b, nil
		}
		return []byte(t), nil
	}
	return nil, fmt.Errorf("not a binary value: %T", v)
}

// errNotPlainData is why a pickled value is kept aside.
var errNotPlainData = errors.New("pickle of objects (not plain data)")

// decodeStored turns a stored value (a pickle or JSON bytes) into JSON:
// pickles are decoded only when they hold plain data.
func decodeStored(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] == 0x80 || (!json.Valid(b) && len(b) > 0 && b[len(b)-1] == '.') {
		v, err := plainpickle.Decode(b)
		if err != nil {
			if errors.Is(err, plainpickle.ErrNotPlain) {
				return nil, fmt.Errorf("%w: %v", errNotPlainData, err)
			}
			return nil, err
		}
		return json.Marshal(v)
	}
	if !json.Valid(b) {
		return nil, errors.New("neither JSON nor a pickle")
	}
	return b, nil
}

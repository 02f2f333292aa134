package api

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// metaOrder maps each order_by field of a list to how two items compare
// on it.
type metaOrder[T any] map[string]func(a, b T) int

// fields returns the sortable field names, for pageParams.
func (o metaOrder[T]) fields() []string {
	names := make([]string, 0, len(o))
	for name := range o {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// metaPage orders items by p.OrderBy (def when the request set none),
// breaking ties with def, and returns the page p selects. It serves the
// small tables (variables, connections, pools) that are read whole.
func metaPage[T any](items []T, p page, o metaOrder[T], def string) []T {
	key := cmp.Or(p.OrderBy, def)
	name, desc := strings.CutPrefix(key, "-")
	by, tie := o[name], o[def]
	slices.SortStableFunc(items, func(a, b T) int {
		c := by(a, b)
		if desc {
			c = -c
		}
		if c == 0 {
			c = tie(a, b)
		}
		return c
	})
	if p.Offset >= len(items) {
		return items[:0]
	}
	items = items[p.Offset:]
	if len(items) > p.Limit {
		items = items[:p.Limit]
	}
	return items
}

// metaNullable is s as a JSON value: null when empty, as Airflow shows unset
// columns.
func metaNullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// metaMaskedFields reads update_mask the way Airflow's variable and
// connection endpoints do: each field must be in the request body and
// not among fixed; the error names the first that is not.
func metaMaskedFields(r *http.Request, inBody func(string) bool, fixed ...string) ([]string, error) {
	var fields []string
	for _, v := range r.URL.Query()["update_mask"] {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if !inBody(f) || slices.Contains(fixed, f) {
				return nil, windsock.Errorf(windsock.EINVALID, "'%s' is unknown or cannot be updated.", f)
			}
			fields = append(fields, f)
		}
	}
	return fields, nil
}

// metaQueryInt reads an integer query parameter; nil when absent.
func metaQueryInt(r *http.Request, name string) (*int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s: expected an integer, got %q", name, v)
	}
	return &n, nil
}

// metaPythonList writes names as Python prints a list of strings, which is
// how Airflow's messages list missing fields: ['name', 'slots'].
func metaPythonList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("'%s'", n)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// metaMaxNameLength bounds the names of pools and the keys of variables and
// connections: the widths of their columns in Airflow's schema are 250
// and 256; one bound keeps the message simple.
const metaMaxNameLength = 250

// metaCheckName rejects a resource name that is empty, too long or that could
// not be addressed in a URL path segment.
func metaCheckName(field, name string, slash bool) error {
	switch {
	case strings.TrimSpace(name) == "":
		return windsock.Errorf(windsock.EINVALID, "%s must not be empty", field)
	case len(name) > metaMaxNameLength:
		return windsock.Errorf(windsock.EINVALID, "%s must be at most %d characters, got %d", field, metaMaxNameLength, len(name))
	case !slash && strings.Contains(name, "/"):
		return windsock.Errorf(windsock.EINVALID, "%s must not contain '/'", field)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return windsock.Errorf(windsock.EINVALID, "%s must not contain control characters", field)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "." || seg == ".." {
			return windsock.Errorf(windsock.EINVALID, "%s must not contain '.' or '..' path segments", field)
		}
	}
	return nil
}

package api

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// page is a list request's limit, offset and order_by, checked.
type page struct {
	Limit  int
	Offset int
	// OrderBy is one of the endpoint's sortable fields, "-" prefixed for
	// descending; "" when the request set none.
	OrderBy string
}

// pageParams reads Airflow's paging parameters: limit (default
// api.fallback_page_limit, capped at api.maximum_page_limit, as Airflow
// caps it rather than refusing), offset (>= 0) and, when sortable is not
// nil, order_by, which must name one of sortable (endpoints without
// order_by pass nil and the parameter is ignored, as Airflow ignores
// parameters an endpoint does not declare).
func (s *Server) pageParams(r *http.Request, sortable []string) (page, error) {
	q := r.URL.Query()
	p := page{Limit: s.cfg.API.FallbackPageLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page{}, windsock.Errorf(windsock.EINVALID, "limit: expected a positive integer, got %q", v)
		}
		p.Limit = n
	}
	if max := s.cfg.API.MaximumPageLimit; max > 0 && p.Limit > max {
		p.Limit = max
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return page{}, windsock.Errorf(windsock.EINVALID, "offset: expected an integer >= 0, got %q", v)
		}
		p.Offset = n
	}
	if v := q.Get("order_by"); v != "" && sortable != nil {
		if !slices.Contains(sortable, strings.TrimPrefix(v, "-")) {
			return page{}, windsock.Errorf(windsock.EINVALID,
				"Ordering with '%s' is disallowed or the attribute does not exist on the model; order_by must be one of %s, optionally prefixed with '-'",
				v, strings.Join(sortable, ", "))
		}
		p.OrderBy = v
	}
	return p, nil
}

// queryTime reads an ISO 8601 date-time query parameter (RFC 3339, with a
// time zone); nil when absent.
func queryTime(r *http.Request, name string) (*time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s: expected an ISO 8601 date-time with a time zone (e.g. 2024-01-01T00:00:00Z), got %q", name, v)
	}
	return &t, nil
}

// queryBool reads a boolean query parameter ("true" or "false", any
// case); nil when absent.
func queryBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	switch strings.ToLower(v) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "%s: expected true or false, got %q", name, v)
}

// updateMask reads the update_mask parameter of a PATCH: the fields to
// change, each of which must be one of allowed. nil when absent (change
// every field the body has).
func updateMask(r *http.Request, allowed []string) ([]string, error) {
	values := r.URL.Query()["update_mask"]
	if len(values) == 0 {
		return nil, nil
	}
	var fields []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if !slices.Contains(allowed, f) {
				return nil, windsock.Errorf(windsock.EINVALID, "'%s' in update_mask is unknown; allowed: %s", f, strings.Join(allowed, ", "))
			}
			fields = append(fields, f)
		}
	}
	return fields, nil
}

// collection is a list response: {<items>: [...], "total_entries": N}.
func collection(name string, items any, total int) map[string]any {
	// An empty page is [] in JSON, never null, whatever built it.
	if v := reflect.ValueOf(items); v.Kind() == reflect.Slice && v.IsNil() {
		items = reflect.MakeSlice(v.Type(), 0, 0).Interface()
	}
	return map[string]any{name: items, "total_entries": total}
}

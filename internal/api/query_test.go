package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

func TestPageParams(t *testing.T) {
	t.Parallel()
	cfg := config.Default("")
	cfg.API.FallbackPageLimit = 25
	cfg.API.MaximumPageLimit = 50
	s := &Server{cfg: cfg}
	sortable := []string{"name", "id"}
	for _, tc := range []struct {
		query string
		want  page
		err   string
	}{
		{"", page{Limit: 25}, ""},
		{"limit=10&offset=5", page{Limit: 10, Offset: 5}, ""},
		{"limit=500", page{Limit: 50}, ""},
		{"order_by=-name", page{Limit: 25, OrderBy: "-name"}, ""},
		{"order_by=id", page{Limit: 25, OrderBy: "id"}, ""},
		{"limit=-1", page{}, "limit"},
		{"limit=0", page{}, "limit"},
		{"limit=ten", page{}, "limit"},
		{"offset=-3", page{}, "offset"},
		{"offset=1.5", page{}, "offset"},
		{"order_by=password", page{}, "order_by must be one of name, id"},
		{"order_by=--name", page{}, "order_by"},
		{"order_by=name%3B%20DROP%20TABLE%20ab_role", page{}, "order_by"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/x?"+tc.query, nil)
		got, err := s.pageParams(r, sortable)
		if tc.err != "" {
			if windsock.ErrorCode(err) != windsock.EINVALID || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("pageParams(%q) = %v, want EINVALID containing %q", tc.query, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("pageParams(%q) = %+v, %v; want %+v", tc.query, got, err, tc.want)
		}
	}
	// Endpoints without order_by ignore it, as Airflow ignores undeclared
	// parameters.
	r := httptest.NewRequest(http.MethodGet, "/x?order_by=anything", nil)
	if p, err := s.pageParams(r, nil); err != nil || p.OrderBy != "" {
		t.Errorf("pageParams without sortable = %+v, %v", p, err)
	}
}

func TestQueryTimeAndBool(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodGet, "/x?after=2024-01-02T03:04:05%2B02:00&bad=2024-01-02&on=TRUE&off=false&odd=yes", nil)
	at, err := queryTime(r, "after")
	if err != nil || at == nil || at.UTC().Hour() != 1 {
		t.Errorf("queryTime(after) = %v, %v", at, err)
	}
	if _, err := queryTime(r, "bad"); err == nil || !strings.Contains(err.Error(), "bad: expected an ISO 8601") {
		t.Errorf("queryTime(bad) = %v, want an error naming the parameter", err)
	}
	if at, err := queryTime(r, "missing"); at != nil || err != nil {
		t.Errorf("queryTime(missing) = %v, %v", at, err)
	}
	if b, err := queryBool(r, "on"); err != nil || b == nil || !*b {
		t.Errorf("queryBool(on) = %v, %v", b, err)
	}
	if b, err := queryBool(r, "off"); err != nil || b == nil || *b {
		t.Errorf("queryBool(off) = %v, %v", b, err)
	}
	if _, err := queryBool(r, "odd"); err == nil || !strings.Contains(err.Error(), "odd") {
		t.Errorf("queryBool(odd) = %v", err)
	}
}

func TestProblemKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		title  string
	}{
		{windsock.Errorf(windsock.EINVALID, "x"), 400, "Bad Request"},
		{windsock.Errorf(windsock.EUNAUTH, "x"), 401, "Unauthorized"},
		{windsock.Errorf(windsock.EFORBIDDEN, "x"), 403, "Forbidden"},
		{windsock.Errorf(windsock.ENOTFOUND, "x"), 404, "Not Found"},
		{windsock.Errorf(windsock.ECONFLICT, "x"), 409, "Conflict"},
		{windsock.Errorf(windsock.EINTERNAL, "x"), 500, "Internal Server Error"},
		{http.ErrBodyNotAllowed, 500, "Internal Server Error"},
		{tooLarge(), 413, "Request Entity Too Large"},
	} {
		status := statusOf(tc.err)
		typ, title := problemKind(status)
		if status != tc.status || title != tc.title || typ == "" {
			t.Errorf("%v: %d %q %q, want %d %q", tc.err, status, typ, title, tc.status, tc.title)
		}
	}
	if typ, _ := problemKind(404); typ != "https://airflow.apache.org/docs/apache-airflow/2.10.0/stable-rest-api-ref.html#section/Errors/NotFound" {
		t.Errorf("404 type = %s", typ)
	}
}

func TestInternalErrorsAreHidden(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.st.Close()
	p := e.problem(e.doRaw("GET", "/api/v1/roles", "admin", nil), http.StatusInternalServerError, "internal error")
	if strings.Contains(p.Detail, "sql") || strings.Contains(p.Detail, "closed") {
		t.Errorf("500 detail leaks internals: %q", p.Detail)
	}
}

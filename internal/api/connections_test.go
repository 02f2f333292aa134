package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
)

type connectionList struct {
	Connections []map[string]any `json:"connections"`
	Total       int              `json:"total_entries"`
}

func (l connectionList) ids() []string {
	out := []string{}
	for _, c := range l.Connections {
		out = append(out, c["connection_id"].(string))
	}
	return out
}

func TestConnections(t *testing.T) {
	t.Parallel()
	e := setup(t)
	pg := map[string]any{"connection_id": "warehouse", "conn_type": "postgres", "host": "db.internal", "port": 5432,
		"login": "etl", "password": "s3cret", "schema": "dw", "extra": `{"sslmode": "require"}`, "description": "the DW"}
	r := e.doChecked("POST", "/api/v1/connections", "op", pg)
	e.ok(r, http.StatusOK, nil)
	got := decodeJSONMap(t, r.body)
	if _, ok := got["password"]; ok || strings.Contains(string(r.body), "s3cret") {
		t.Fatalf("POST answer shows the password: %s", r.body)
	}
	if got["port"] != float64(5432) || got["extra"] != `{"sslmode": "require"}` || got["host"] != "db.internal" {
		t.Errorf("posted = %v", got)
	}
	stored, err := (&secrets.Connections{Store: e.st}).Stored(e.ctx, "warehouse")
	if err != nil || stored.Password != "s3cret" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	e.problem(e.doChecked("POST", "/api/v1/connections", "op", pg), http.StatusConflict, "Connection already exist. ID: warehouse")
	e.ok(e.doChecked("POST", "/api/v1/connections", "op", map[string]any{"connection_id": "api", "conn_type": "http", "host": "example.com"}), http.StatusOK, nil)
	e.ok(e.doChecked("POST", "/api/v1/connections", "op", map[string]any{"connection_id": "aws_default", "conn_type": "aws", "login": "AKIA"}), http.StatusOK, nil)

	// GET shows extra but never the password; unset fields are null.
	r = e.doChecked("GET", "/api/v1/connections/api", "op", nil)
	e.ok(r, http.StatusOK, nil)
	got = decodeJSONMap(t, r.body)
	want := map[string]any{"connection_id": "api", "conn_type": "http", "host": "example.com", "description": nil,
		"login": nil, "schema": nil, "port": nil, "extra": nil}
	if len(got) != len(want) {
		t.Errorf("GET api = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("GET api: %s = %v, want %v", k, got[k], v)
		}
	}
	r = e.doChecked("GET", "/api/v1/connections/warehouse", "op", nil)
	if strings.Contains(string(r.body), "s3cret") || !strings.Contains(string(r.body), "sslmode") {
		t.Errorf("GET warehouse = %s", r.body)
	}
	e.problem(e.doChecked("GET", "/api/v1/connections/nope", "op", nil), http.StatusNotFound, "The Connection with connection_id: `nope` was not found")

	// Lists omit password and extra; id order by default.
	var list connectionList
	r = e.doChecked("GET", "/api/v1/connections", "op", nil)
	e.ok(r, http.StatusOK, &list)
	if list.Total != 3 || !slices.Equal(list.ids(), []string{"warehouse", "api", "aws_default"}) {
		t.Fatalf("list = %v", list.ids())
	}
	if strings.Contains(string(r.body), "extra") || strings.Contains(string(r.body), "password") {
		t.Errorf("list shows secrets: %s", r.body)
	}
	e.ok(e.doChecked("GET", "/api/v1/connections?order_by=connection_id&limit=2", "op", nil), http.StatusOK, &list)
	if list.Total != 3 || !slices.Equal(list.ids(), []string{"api", "aws_default"}) {
		t.Errorf("order_by=connection_id&limit=2 = %v", list.ids())
	}
	e.ok(e.doChecked("GET", "/api/v1/connections?order_by=-port&offset=2", "op", nil), http.StatusOK, &list)
	if !slices.Equal(list.ids(), []string{"aws_default"}) {
		t.Errorf("order_by=-port&offset=2 = %v", list.ids())
	}
	e.problem(e.doChecked("GET", "/api/v1/connections?order_by=password", "op", nil), http.StatusBadRequest, "order_by must be one of")

	// PATCH changes the fields given, or only those in update_mask.
	r = e.doChecked("PATCH", "/api/v1/connections/warehouse", "op", map[string]any{"host": "db2.internal", "password": "n3w"})
	e.ok(r, http.StatusOK, nil)
	if got := decodeJSONMap(t, r.body); got["host"] != "db2.internal" || got["login"] != "etl" || got["port"] != float64(5432) {
		t.Errorf("patched = %v", got)
	}
	if c, _ := (&secrets.Connections{Store: e.st}).Stored(e.ctx, "warehouse"); c.Password != "n3w" {
		t.Errorf("password after PATCH = %q", c.Password)
	}
	r = e.doChecked("PATCH", "/api/v1/connections/warehouse?update_mask=port", "op", map[string]any{"host": "ignored", "port": 6432})
	if got := decodeJSONMap(t, r.body); got["host"] != "db2.internal" || got["port"] != float64(6432) {
		t.Errorf("patched with mask = %v", got)
	}
	e.problem(e.doChecked("PATCH", "/api/v1/connections/warehouse", "op", map[string]any{"connection_id": "other"}), http.StatusBadRequest, "The connection_id cannot be updated.")
	e.problem(e.doChecked("PATCH", "/api/v1/connections/warehouse?update_mask=connection_id", "op", map[string]any{"connection_id": "warehouse"}), http.StatusBadRequest, "'connection_id' is unknown or cannot be updated.")
	e.problem(e.doChecked("PATCH", "/api/v1/connections/warehouse?update_mask=login", "op", map[string]any{"host": "x"}), http.StatusBadRequest, "'login' is unknown")
	e.problem(e.doChecked("PATCH", "/api/v1/connections/warehouse", "op", map[string]any{"port": 70000}), http.StatusBadRequest, "port must be between 0 and 65535")
	e.problem(e.doChecked("PATCH", "/api/v1/connections/nope", "op", map[string]any{"host": "x"}), http.StatusNotFound, "`nope` was not found")

	// Bad bodies change nothing.
	for _, tc := range []struct {
		body   any
		detail string
	}{
		{map[string]any{"conn_type": "http"}, "missing required field(s) ['connection_id']"},
		{map[string]any{"connection_id": "x"}, "['conn_type']"},
		{map[string]any{"connection_id": "bad id", "conn_type": "http"}, "letters, digits, dashes, dots and underscores"},
		{map[string]any{"connection_id": "../x", "conn_type": "http"}, "letters, digits"},
		{map[string]any{"connection_id": strings.Repeat("c", 251), "conn_type": "http"}, "at most 250"},
		{map[string]any{"connection_id": "x", "conn_type": ""}, "conn_type must not be empty"},
		{map[string]any{"connection_id": "x", "conn_type": "http", "port": "80"}, `field "port": expected integer, got string`},
		{map[string]any{"connection_id": "x", "conn_type": "http", "uri": "http://h"}, `unknown field "uri"`},
	} {
		e.problem(e.doChecked("POST", "/api/v1/connections", "op", tc.body), http.StatusBadRequest, tc.detail)
	}
	e.ok(e.doChecked("GET", "/api/v1/connections", "op", nil), http.StatusOK, &list)
	if list.Total != 3 {
		t.Errorf("rejected requests changed the connections: %v", list.ids())
	}

	e.ok(e.doChecked("DELETE", "/api/v1/connections/api", "op", nil), http.StatusNoContent, nil)
	e.problem(e.doChecked("DELETE", "/api/v1/connections/api", "op", nil), http.StatusNotFound, "was not found")

	// The event log has the changes, the password masked.
	events, err := e.st.EventLogList(e.ctx, &store.EventLogListParams{Event: "api.post_connection"})
	if err != nil || len(events) != 3 {
		t.Fatalf("post events = %d, %v", len(events), err)
	}
	if e := events[len(events)-1]; strings.Contains(e.Extra, "s3cret") || !strings.Contains(e.Extra, `"password":"***"`) {
		t.Errorf("event extra = %s", e.Extra)
	}
}

func TestConnectionsAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Core.TestConnection = "Enabled" })
	conn := map[string]any{"connection_id": "c1", "conn_type": "aws"}
	e.ok(e.doChecked("POST", "/api/v1/connections", "admin", conn), http.StatusOK, nil)
	for _, user := range []string{"viewer", "user", "public"} {
		e.problem(e.doChecked("GET", "/api/v1/connections", user, nil), http.StatusForbidden, "")
		e.problem(e.doChecked("GET", "/api/v1/connections/c1", user, nil), http.StatusForbidden, "")
		e.problem(e.doChecked("POST", "/api/v1/connections", user, conn), http.StatusForbidden, "")
		e.problem(e.doChecked("PATCH", "/api/v1/connections/c1", user, conn), http.StatusForbidden, "")
		e.problem(e.doChecked("DELETE", "/api/v1/connections/c1", user, nil), http.StatusForbidden, "")
		e.problem(e.doChecked("POST", "/api/v1/connections/test", user, conn), http.StatusForbidden, "")
	}
	readOnly(t, e, "conn-reader", "Connections")
	e.ok(e.doChecked("GET", "/api/v1/connections/c1", "conn-reader", nil), http.StatusOK, nil)
	e.problem(e.doChecked("POST", "/api/v1/connections/test", "conn-reader", conn), http.StatusForbidden, "")
	e.problem(e.doChecked("PATCH", "/api/v1/connections/c1", "conn-reader", conn), http.StatusForbidden, "")
}

func TestConnectionTest(t *testing.T) {
	t.Parallel()
	disabled := setup(t)
	disabled.problem(disabled.doChecked("POST", "/api/v1/connections/test", "op", map[string]any{"conn_type": "http", "host": "x"}),
		http.StatusForbidden, "Testing connections is disabled")

	e := setup(t, func(c *config.Config) { c.Core.TestConnection = "enabled" })
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); r.URL.Path == "/private" && (u != "me" || p != "pw") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	db := filepath.Join(dir, "ok.db")
	if err := os.WriteFile(db, append([]byte("SQLite format 3\x00"), make([]byte, 84)...), 0o600); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte("hello, not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		conn    map[string]any
		status  bool
		message string
	}{
		{"http up", map[string]any{"conn_type": "http", "host": up.URL}, true, "Connection successfully tested"},
		{"http with login", map[string]any{"conn_type": "http", "host": up.URL + "/private", "login": "me", "password": "pw"}, true, "successfully"},
		{"http refused", map[string]any{"conn_type": "http", "host": up.URL + "/private", "login": "me", "password": "no"}, false, "401:Unauthorized"},
		{"http without scheme", map[string]any{"conn_type": "http", "host": strings.TrimPrefix(up.URL, "http://")}, true, "successfully"},
		{"http without host", map[string]any{"conn_type": "http"}, false, "no host"},
		{"sqlite file", map[string]any{"conn_type": "sqlite", "host": db}, true, "successfully"},
		{"sqlite missing", map[string]any{"conn_type": "sqlite", "host": filepath.Join(dir, "none.db")}, false, "cannot open"},
		{"sqlite not a database", map[string]any{"conn_type": "sqlite", "host": notDB}, false, "is not an SQLite database"},
		{"sqlite directory", map[string]any{"conn_type": "sqlite", "host": dir}, false, "not a regular file"},
		{"unsupported", map[string]any{"conn_type": "postgres", "host": "db"}, false, `"postgres" is not supported`},
	} {
		var out connectionTestJSON
		e.ok(e.doChecked("POST", "/api/v1/connections/test", "op", tc.conn), http.StatusOK, &out)
		if out.Status != tc.status || !strings.Contains(out.Message, tc.message) {
			t.Errorf("%s: %+v, want status %v and %q", tc.name, out, tc.status, tc.message)
		}
	}
	e.problem(e.doChecked("POST", "/api/v1/connections/test", "op", map[string]any{"host": "x"}), http.StatusBadRequest, "['conn_type']")
	// Testing stores nothing.
	if conns, err := e.st.ConnectionList(e.ctx); err != nil || len(conns) != 0 {
		t.Errorf("connections after tests = %d, %v", len(conns), err)
	}
}

package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

type variableList struct {
	Variables []map[string]any `json:"variables"`
	Total     int              `json:"total_entries"`
}

func (l variableList) keys() []string {
	out := []string{}
	for _, v := range l.Variables {
		out = append(out, v["key"].(string))
	}
	return out
}

func TestVariables(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var v variableJSON
	r := e.doChecked("POST", "/api/v1/variables", "op", map[string]any{"key": "region", "value": "eu-west-1", "description": "where"})
	e.ok(r, http.StatusOK, &v)
	if v.Key != "region" || v.Value != "eu-west-1" || v.Description == nil || *v.Description != "where" {
		t.Fatalf("posted = %+v", v)
	}
	golden(t, "variable", r.body)
	// POST sets an existing variable again, as Airflow's Variable.set.
	e.ok(e.doChecked("POST", "/api/v1/variables", "op", map[string]any{"key": "region", "value": "us-east-1"}), http.StatusOK, &v)
	if v.Value != "us-east-1" || v.Description != nil {
		t.Fatalf("re-posted = %+v", v)
	}
	for _, kv := range [][2]string{{"b_api_key", "k-123"}, {"a/nested", "x"}, {"db_password", "hunter2"}} {
		e.ok(e.doChecked("POST", "/api/v1/variables", "admin", map[string]any{"key": kv[0], "value": kv[1]}), http.StatusOK, nil)
	}

	// A key naming a secret has its value masked; the store keeps it.
	r = e.doChecked("GET", "/api/v1/variables/db_password", "op", nil)
	e.ok(r, http.StatusOK, &v)
	if v.Value != "***" || strings.Contains(string(r.body), "hunter2") {
		t.Errorf("sensitive variable shown as %s", r.body)
	}
	if got, err := (&secrets.Variables{Store: e.st}).Get(e.ctx, "db_password"); err != nil || got != "hunter2" {
		t.Errorf("stored value = %q, %v", got, err)
	}
	e.ok(e.doChecked("GET", "/api/v1/variables/region", "op", nil), http.StatusOK, &v)
	if v.Value != "us-east-1" {
		t.Errorf("region = %+v", v)
	}
	// Keys with '/' are reachable, raw or escaped.
	e.ok(e.doRaw("GET", "/api/v1/variables/a/nested", "op", nil), http.StatusOK, &v)
	if v.Key != "a/nested" {
		t.Errorf("a/nested = %+v", v)
	}
	e.ok(e.doChecked("GET", "/api/v1/variables/a%2Fnested", "op", nil), http.StatusOK, &v)
	e.problem(e.doChecked("GET", "/api/v1/variables/nope", "op", nil), http.StatusNotFound, "Variable does not exist")

	// The list has keys and descriptions only, in id order by default.
	var list variableList
	r = e.doChecked("GET", "/api/v1/variables", "op", nil)
	e.ok(r, http.StatusOK, &list)
	if list.Total != 4 || !slices.Equal(list.keys(), []string{"region", "b_api_key", "a/nested", "db_password"}) {
		t.Fatalf("list = %+v", list)
	}
	if strings.Contains(string(r.body), "value") || strings.Contains(string(r.body), "hunter2") {
		t.Errorf("list shows values: %s", r.body)
	}
	e.ok(e.doChecked("GET", "/api/v1/variables?order_by=-key&limit=2&offset=1", "op", nil), http.StatusOK, &list)
	if list.Total != 4 || !slices.Equal(list.keys(), []string{"db_password", "b_api_key"}) {
		t.Errorf("order_by=-key&limit=2&offset=1: %v (total %d)", list.keys(), list.Total)
	}
	e.ok(e.doChecked("GET", "/api/v1/variables?offset=10", "op", nil), http.StatusOK, &list)
	if list.Total != 4 || len(list.Variables) != 0 {
		t.Errorf("offset past the end: %+v", list)
	}
	e.problem(e.doChecked("GET", "/api/v1/variables?order_by=value", "op", nil), http.StatusBadRequest, "order_by must be one of id, key")
	e.problem(e.doChecked("GET", "/api/v1/variables?limit=-1", "op", nil), http.StatusBadRequest, "limit")

	// PATCH: the body's key must be the path's; update_mask limits it.
	e.ok(e.doChecked("PATCH", "/api/v1/variables/region", "op", map[string]any{"key": "region", "value": "ap-south-1", "description": "moved"}), http.StatusOK, &v)
	if v.Value != "ap-south-1" || *v.Description != "moved" {
		t.Errorf("patched = %+v", v)
	}
	e.ok(e.doChecked("PATCH", "/api/v1/variables/region?update_mask=description", "op", map[string]any{"key": "region", "value": "ignored", "description": "again"}), http.StatusOK, &v)
	if v.Value != "ap-south-1" || *v.Description != "again" {
		t.Errorf("patched with mask = %+v", v)
	}
	e.problem(e.doChecked("PATCH", "/api/v1/variables/region", "op", map[string]any{"key": "other", "value": "x"}), http.StatusBadRequest, "doesn't match uri parameter")
	e.problem(e.doChecked("PATCH", "/api/v1/variables/region?update_mask=key", "op", map[string]any{"key": "region", "value": "x"}), http.StatusBadRequest, "'key' is unknown or cannot be updated.")
	e.problem(e.doChecked("PATCH", "/api/v1/variables/region?update_mask=description", "op", map[string]any{"key": "region", "value": "x"}), http.StatusBadRequest, "'description' is unknown")
	e.problem(e.doChecked("PATCH", "/api/v1/variables/region", "op", map[string]any{"key": "region"}), http.StatusBadRequest, "missing required field(s) ['value']")
	e.problem(e.doChecked("PATCH", "/api/v1/variables/nope", "op", map[string]any{"key": "nope", "value": "x"}), http.StatusNotFound, "Variable does not exist")

	// Bad bodies change nothing.
	for _, tc := range []struct {
		body   any
		detail string
	}{
		{map[string]any{"value": "x"}, "missing required field(s) ['key']"},
		{map[string]any{}, "['key', 'value']"},
		{map[string]any{"key": "", "value": "x"}, "key must not be empty"},
		{map[string]any{"key": strings.Repeat("k", 251), "value": "x"}, "at most 250 characters"},
		{map[string]any{"key": "../etc", "value": "x"}, "'..' path segments"},
		{map[string]any{"key": "k", "value": 5}, `field "value": expected string, got number`},
		{map[string]any{"key": "k", "value": "x", "val": "y"}, `unknown field "val"`},
		{`{"key": "k", "value": "x"`, "malformed JSON"},
		{`{"key": "k", "value": "` + strings.Repeat("x", maxBodyBytes) + `"}`, "larger than"},
	} {
		r := e.doChecked("POST", "/api/v1/variables", "op", tc.body)
		status := http.StatusBadRequest
		if tc.detail == "larger than" {
			status = http.StatusRequestEntityTooLarge
		}
		e.problem(r, status, tc.detail)
	}
	e.ok(e.doChecked("GET", "/api/v1/variables", "op", nil), http.StatusOK, &list)
	if list.Total != 4 {
		t.Errorf("rejected requests changed the variables: %v", list.keys())
	}

	e.ok(e.doChecked("DELETE", "/api/v1/variables/region", "op", nil), http.StatusNoContent, nil)
	e.problem(e.doChecked("DELETE", "/api/v1/variables/region", "op", nil), http.StatusNotFound, "Variable does not exist")

	// Every change is in the event log.
	events, err := e.st.EventLogList(e.ctx, &store.EventLogListParams{Event: "api.patch_variable"})
	if err != nil || len(events) != 2 || events[0].Owner != "op" {
		t.Errorf("patch events = %+v, %v", events, err)
	}
}

// TestVariablesEncryptedAndEnvironment: a variable defined only in the
// environment is read by tasks but neither listed nor served, as in
// Airflow; with a Fernet key, values are encrypted in the store and
// served decrypted.
func TestVariablesEncryptedAndEnvironment(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := fernet.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"AIRFLOW_VAR_FROM_ENV=secret-env"}
	s := &Server{Store: e.st, Config: e.cfg, Version: "1",
		Variables: &secrets.Variables{Store: e.st, Keys: keys, Environ: env}}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	enc := *e
	enc.srv = srv

	var v variableJSON
	enc.ok(enc.doChecked("POST", "/api/v1/variables", "op", map[string]any{"key": "plain", "value": "visible"}), http.StatusOK, &v)
	row, err := e.st.VariableGet(e.ctx, "plain")
	if err != nil || !row.IsEncrypted || row.Val == "visible" {
		t.Fatalf("stored row = %+v, %v; want it encrypted", row, err)
	}
	enc.ok(enc.doChecked("GET", "/api/v1/variables/plain", "op", nil), http.StatusOK, &v)
	if v.Value != "visible" {
		t.Errorf("served %+v, want the decrypted value", v)
	}
	enc.problem(enc.doChecked("GET", "/api/v1/variables/from_env", "op", nil), http.StatusNotFound, "")
	var list variableList
	enc.ok(enc.doChecked("GET", "/api/v1/variables", "op", nil), http.StatusOK, &list)
	if !slices.Equal(list.keys(), []string{"plain"}) {
		t.Errorf("listed %v", list.keys())
	}
}

func TestVariablesAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if err := e.st.VariableSet(e.ctx, &windsock.Variable{Key: "k", Val: "v"}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"viewer", "user", "public"} {
		e.problem(e.doChecked("GET", "/api/v1/variables", user, nil), http.StatusForbidden, "")
		e.problem(e.doChecked("GET", "/api/v1/variables/k", user, nil), http.StatusForbidden, "")
		e.problem(e.doChecked("POST", "/api/v1/variables", user, map[string]any{"key": "x", "value": "y"}), http.StatusForbidden, "")
		e.problem(e.doChecked("PATCH", "/api/v1/variables/k", user, map[string]any{"key": "k", "value": "y"}), http.StatusForbidden, "")
		e.problem(e.doChecked("DELETE", "/api/v1/variables/k", user, nil), http.StatusForbidden, "")
	}
	e.problem(e.doChecked("GET", "/api/v1/variables", "", nil), http.StatusUnauthorized, "")
	var v variableJSON
	e.ok(e.doChecked("GET", "/api/v1/variables/k", "op", nil), http.StatusOK, &v)
	if v.Value != "v" {
		t.Errorf("k = %+v", v)
	}
	// A custom role with only can_read on Variables reads but cannot write.
	readOnly(t, e, "var-reader", "Variables")
	e.ok(e.doChecked("GET", "/api/v1/variables", "var-reader", nil), http.StatusOK, nil)
	e.problem(e.doChecked("DELETE", "/api/v1/variables/k", "var-reader", nil), http.StatusForbidden, "")
}

// readOnly creates a user of that name whose only role grants can_read on
// resource.
func readOnly(t *testing.T, e *env, name, resource string) {
	t.Helper()
	role := map[string]any{"name": name + "-role", "actions": []map[string]any{
		{"action": map[string]string{"name": "can_read"}, "resource": map[string]string{"name": resource}}}}
	e.ok(e.do("POST", "/api/v1/roles", "admin", role), http.StatusOK, nil)
	if err := e.st.UserCreate(e.ctx, &windsock.User{Username: name, FirstName: name, LastName: "Test",
		Email: name + "@example.com", Password: passwordHash(), Active: true, Roles: []string{name + "-role"}}); err != nil {
		t.Fatal(err)
	}
}

// decodeJSONMap decodes a body into a generic map, for checks of exact
// field sets.
func decodeJSONMap(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return m
}

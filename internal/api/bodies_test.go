package api

import (
	"net/http"
	"testing"

	"github.com/windsock/windsock/internal/store"
)

// TestRefusedBodies: a JSON null body and invalid UTF-8 inside a JSON
// string are 400s that change nothing, as in Airflow; encoding/json alone
// would take null as {} (a run triggered with defaults) and replace the
// invalid bytes with U+FFFD.
func TestRefusedBodies(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	for name, c := range map[string]struct {
		path, body, detail string
	}{
		"null run":           {"/api/v1/dags/etl/dagRuns", "null", "expected object, got null"},
		"null padded":        {"/api/v1/dags/etl/dagRuns", " \n null \t", "expected object, got null"},
		"utf-8 run id":       {"/api/v1/dags/etl/dagRuns", "{\"dag_run_id\": \"r\xff1\"}", "invalid UTF-8"},
		"utf-8 conf":         {"/api/v1/dags/etl/dagRuns", "{\"conf\": {\"k\": \"\xc3\"}}", "invalid UTF-8"},
		"null variable":      {"/api/v1/variables", "null", "expected object, got null"},
		"utf-8 variable":     {"/api/v1/variables", "{\"key\": \"k\", \"value\": \"\xed\xa0\x80\"}", "invalid UTF-8"},
		"null batch":         {"/api/v1/dags/~/dagRuns/~/taskInstances/list", "null", "expected object, got null"},
		"utf-8 batch dag id": {"/api/v1/dags/~/dagRuns/list", "{\"dag_ids\": [\"\xff\"]}", "invalid UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			re.problem(re.doRaw("POST", c.path, "admin", c.body), http.StatusBadRequest, c.detail)
		})
	}
	runs, err := re.st.DagRunList(re.ctx, &store.DagRunListParams{})
	if err != nil || len(runs) != 0 {
		t.Fatalf("runs after refused bodies = %d, %v; want none", len(runs), err)
	}
	if _, err := re.st.VariableGet(re.ctx, "k"); err == nil {
		t.Fatal("a variable was stored from a body with invalid UTF-8")
	}
}

package web

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

// TestXComList: entries of every readable DAG, filterable; a role limited
// to etl (given XComs) sees only etl's; a role without XComs is refused.
func TestXComList(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	if err := de.st.RolePermissionsAdd(de.ctx, "etl-readers", []windsock.Permission{{Action: auth.ActionRead, Resource: auth.ResourceXCom}}); err != nil {
		t.Fatal(err)
	}
	otherRun := de.createRun(de.other, 3, windsock.DagRunSuccess)
	for _, x := range []*windsock.XCom{
		{DagRunID: de.done.ID, DagID: "etl", RunID: de.done.RunID, TaskID: "extract", MapIndex: -1, Key: "return_value", Value: []byte(`"rows: 42"`), Timestamp: de.now},
		{DagRunID: de.done.ID, DagID: "etl", RunID: de.done.RunID, TaskID: "load", MapIndex: -1, Key: "table", Value: []byte(`{"name": "sales"}`), Timestamp: de.now},
		{DagRunID: otherRun.ID, DagID: "other", RunID: otherRun.RunID, TaskID: "extract", MapIndex: -1, Key: "return_value", Value: []byte(`"secret of other"`), Timestamp: de.now},
	} {
		if err := de.st.XComSet(de.ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	all := de.page("/xcom/list", "viewer", http.StatusOK)
	contains(t, all, `data-testid="xcoms-table"`, "rows: 42", "secret of other", `<a href="/xcom/list">XComs</a>`)
	for _, problem := range a11yProblems(t, all) {
		t.Errorf("/xcom/list: %s", problem)
	}
	contains(t, de.page("/xcom/list?key=table", "viewer", http.StatusOK), "sales")
	lacks(t, de.page("/xcom/list?key=table", "viewer", http.StatusOK), "rows: 42")
	lacks(t, de.page("/xcom/list?dag_id=etl", "viewer", http.StatusOK), "secret of other")

	limited := de.page("/xcom/list", "limited", http.StatusOK)
	contains(t, limited, "rows: 42")
	lacks(t, limited, "secret of other")
	lacks(t, de.page("/xcom/list?dag_id=other", "limited", http.StatusOK), "secret of other")
}

// TestDAGAuditLog: a DAG's audit log tab lists its events only; the
// limited role (no Audit Logs permission) gets neither the tab nor the
// page, and no role reads another DAG's log without reading that DAG.
func TestDAGAuditLog(t *testing.T) {
	t.Parallel()
	de := setupDAGPages(t)
	for _, ev := range []*windsock.EventLog{
		{Dttm: de.now, DagID: "etl", Event: "trigger", Owner: "alice"},
		{Dttm: de.now, DagID: "other", Event: "paused", Owner: "mallory"},
	} {
		if err := de.st.EventLogInsert(de.ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	body := de.page("/dags/etl/audit_log", "viewer", http.StatusOK)
	contains(t, body, `id="tab-audit_log" data-testid="tab-audit_log" aria-current="page"`, "alice", "trigger")
	lacks(t, body, "mallory")
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("/dags/etl/audit_log: %s", problem)
	}
	contains(t, de.page("/dags/etl/audit_log?owner=nobody", "viewer", http.StatusOK), `id="no-events"`)
	de.page("/dags/etl/audit_log", "limited", http.StatusForbidden)
	de.page("/dags/other/audit_log", "limited", http.StatusForbidden)
	lacks(t, de.page("/dags/etl/grid", "limited", http.StatusOK), `id="tab-audit_log"`)
}

// TestConfigurationPage: hidden unless webserver.expose_config, then every
// option with sensitive values masked; only roles with Configurations
// (Op and Admin) may open it.
func TestConfigurationPage(t *testing.T) {
	t.Parallel()
	hidden := setup(t)
	contains(t, hidden.page("/configuration", "admin", http.StatusOK), `id="config-hidden"`)
	hidden.page("/configuration", "viewer", http.StatusForbidden)

	e := setup(t, func(c *config.Config) { c.Webserver.ExposeConfig = true })
	body := e.page("/configuration", "op", http.StatusOK)
	contains(t, body, `data-option="webserver.expose_config"`, `data-option="webserver.secret_key"`, "&lt; hidden &gt;",
		`<a href="/configuration">Configurations</a>`)
	lacks(t, body, "test-secret", `id="config-hidden"`)
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("/configuration: %s", problem)
	}
	e.page("/configuration", "viewer", http.StatusForbidden)
	e.page("/configuration", "limited", http.StatusForbidden)
}

// TestProvidersAndPlugins: the providers page tells native operators from
// placeholders; the plugins page lists the plugins folder.
func TestProvidersAndPlugins(t *testing.T) {
	t.Parallel()
	plugins := t.TempDir()
	if err := os.WriteFile(filepath.Join(plugins, "my_operators.py"), []byte("x = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e := setup(t, func(c *config.Config) { c.Core.PluginsFolder = plugins })
	body := e.page("/provider/list", "op", http.StatusOK)
	contains(t, body, `<tr data-operator="BashOperator"><td>apache-airflow (core)</td>`,
		`<tr data-operator="EmrAddStepsOperator"><td>apache-airflow-providers-amazon</td>`,
		"placeholder: needs Amazon EMR", `<tr data-operator="S3KeySensor"><td>apache-airflow-providers-amazon</td><td>S3KeySensor</td>
<td><span class="tag native">native</span>`)
	for _, problem := range a11yProblems(t, body) {
		t.Errorf("/provider/list: %s", problem)
	}
	e.page("/provider/list", "viewer", http.StatusForbidden)
	contains(t, e.page("/plugin/list", "viewer", http.StatusOK), "my_operators.py", `id="plugins-note"`)
	e.page("/plugin/list", "limited", http.StatusForbidden)
}

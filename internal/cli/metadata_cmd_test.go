package cli_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// rawColumn reads one value straight from the SQLite file, bypassing
// Windsock, to check what is stored at rest.
func rawColumn(t *testing.T, h *home, query string, args ...any) string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(h.dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v sql.NullString
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v.String
}

func TestVariables(t *testing.T) {
	t.Parallel()
	h := newHome(t, "AIRFLOW_VAR_FROM_ENV=env-value")
	h.ok(t, "variables", "set", "api_password", "hunter2", "--description", "the password")
	if got := h.ok(t, "variables", "get", "api_password"); got != "hunter2\n" {
		t.Errorf("get = %q", got)
	}
	if raw := rawColumn(t, h, "SELECT val FROM variable WHERE key = ?", "api_password"); raw == "hunter2" || !strings.HasPrefix(raw, "gAAAAA") {
		t.Errorf("stored value %q is not a Fernet token", raw)
	}
	if got := h.ok(t, "variables", "get", "from_env"); got != "env-value\n" {
		t.Errorf("env variable = %q", got)
	}
	h.fails(t, "missing", "variables", "get", "missing")
	if got := h.ok(t, "variables", "get", "missing", "--default", "dflt"); got != "dflt\n" {
		t.Errorf("default = %q", got)
	}

	h.ok(t, "variables", "set", "cfg", `{"a": 1}`, "--json")
	if got := h.ok(t, "variables", "get", "cfg", "--json"); !strings.Contains(got, `"a": 1`) {
		t.Errorf("json get = %q", got)
	}
	var keys []struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "variables", "list", "-o", "json")), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Key != "api_password" || keys[1].Key != "cfg" {
		t.Errorf("list = %+v", keys)
	}

	// Export, wipe, import into a second home: values survive decrypted.
	exp := filepath.Join(h.dir, "vars.json")
	h.ok(t, "variables", "export", exp)
	if fi, err := os.Stat(exp); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode: %v %v", fi, err)
	}
	other := newHome(t)
	if out := other.ok(t, "variables", "import", exp); !strings.Contains(out, "2 of 2") {
		t.Errorf("import said %q", out)
	}
	if got := other.ok(t, "variables", "get", "api_password"); got != "hunter2\n" {
		t.Errorf("imported value = %q", got)
	}
	other.fails(t, "already exists", "variables", "import", exp, "-a", "fail")
	h.ok(t, "variables", "delete", "cfg")
	h.fails(t, "cfg", "variables", "delete", "cfg")
}

func TestConnections(t *testing.T) {
	t.Parallel()
	h := newHome(t, "AIRFLOW_CONN_ENV_DB=postgres://u:envpw@envhost:5433/envdb")
	out := h.ok(t, "connections", "add", "warehouse", "--conn-uri", "postgres://loader:s3cret@db.example.com:5432/analytics?sslmode=require")
	if strings.Contains(out, "s3cret") {
		t.Errorf("add printed the password: %q", out)
	}
	if raw := rawColumn(t, h, "SELECT password FROM connection WHERE conn_id = ?", "warehouse"); raw == "s3cret" || raw == "" {
		t.Errorf("password stored as %q, want ciphertext", raw)
	}
	if raw := rawColumn(t, h, "SELECT extra FROM connection WHERE conn_id = ?", "warehouse"); strings.Contains(raw, "sslmode") {
		t.Errorf("extra stored in clear: %q", raw)
	}

	var got []map[string]any
	if err := json.Unmarshal([]byte(h.ok(t, "connections", "get", "warehouse", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	c := got[0]
	if c["conn_type"] != "postgres" || c["host"] != "db.example.com" || c["schema"] != "analytics" || c["login"] != "loader" || c["port"] != "5432" {
		t.Errorf("get = %v", c)
	}
	if c["password"] != "***" || strings.Contains(c["get_uri"].(string), "s3cret") {
		t.Errorf("password shown as %v in %v, want masked", c["password"], c["get_uri"])
	}
	if extra, _ := c["extra_dejson"].(map[string]any); extra["sslmode"] != "require" {
		t.Errorf("extra_dejson = %v", c["extra_dejson"])
	}
	if c["id"] == nil || c["is_encrypted"] != "True" || c["description"] != nil {
		t.Errorf("stored connection = %v, want an id, is_encrypted True and description null", c)
	}
	env := h.ok(t, "connections", "get", "env_db", "-o", "json")
	if !strings.Contains(env, "envhost") || strings.Contains(env, "envpw") {
		t.Errorf("env connection = %s", env)
	}
	h.fails(t, "warehouse", "connections", "add", "warehouse", "--conn-type", "http")
	h.fails(t, "exactly one", "connections", "add", "x")

	exp := filepath.Join(h.dir, "conns.json")
	h.ok(t, "connections", "export", exp)
	data, _ := os.ReadFile(exp)
	if !strings.Contains(string(data), "s3cret") {
		t.Errorf("export lacks the password: %s", data)
	}
	other := newHome(t)
	other.ok(t, "connections", "import", exp)
	if out := other.ok(t, "connections", "list", "-o", "json"); !strings.Contains(out, "db.example.com") {
		t.Errorf("imported list = %s", out)
	}
	h.ok(t, "connections", "delete", "warehouse")
	h.fails(t, "warehouse", "connections", "get", "warehouse")
}

func TestPools(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	var pools []struct {
		Pool  string `json:"pool"`
		Slots string `json:"slots"` // Airflow prints str() of every value
	}
	if err := json.Unmarshal([]byte(h.ok(t, "pools", "list", "-o", "json")), &pools); err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Pool != "default_pool" || pools[0].Slots != "128" {
		t.Fatalf("pools = %+v, want default_pool with 128 slots", pools)
	}
	if out := h.ok(t, "pools", "set", "etl", "4", "ETL jobs"); out != "Pool etl created\n" {
		t.Errorf("set said %q", out)
	}
	if out := h.ok(t, "pools", "get", "etl", "-o", "json"); !strings.Contains(out, `"slots": "4"`) {
		t.Errorf("get = %s", out)
	}
	h.fails(t, "slots", "pools", "set", "etl", "many", "x")
	h.fails(t, "cannot be deleted", "pools", "delete", "default_pool")

	exp := filepath.Join(h.dir, "pools.json")
	h.ok(t, "pools", "export", exp)
	other := newHome(t)
	if out := other.ok(t, "pools", "import", exp); !strings.Contains(out, "2 pool") {
		t.Errorf("import said %q", out)
	}
	if out := other.ok(t, "pools", "get", "etl", "-o", "plain"); !strings.Contains(out, "etl       4  ETL jobs") {
		t.Errorf("imported pool = %q", out)
	}
	bad := filepath.Join(h.dir, "bad.json")
	os.WriteFile(bad, []byte(`{"p": {"slots": "x"}}`), 0o600)
	h.fails(t, "bad.json", "pools", "import", bad)
	h.ok(t, "pools", "delete", "etl")
	h.fails(t, "etl", "pools", "get", "etl")
}

func TestConfig(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__PARALLELISM=7", "AIRFLOW__WEBSERVER__WEB_SERVER_PORT=9999")
	list := h.ok(t, "config", "list")
	if !strings.Contains(list, "[core]") || !strings.Contains(list, "parallelism = 7") {
		t.Errorf("config list lacks the env override:\n%s", list)
	}
	if !strings.Contains(list, "fernet_key = < hidden >") {
		t.Errorf("config list does not mask fernet_key:\n%s", list)
	}
	if got := h.ok(t, "config", "get-value", "webserver", "web_server_port"); got != "9999\n" {
		t.Errorf("AIRFLOW__ override: %q", got)
	}
	if got := h.ok(t, "config", "get-value", "core", "dags_folder"); got != h.dags()+"\n" {
		t.Errorf("dags_folder = %q", got)
	}
	if got := h.ok(t, "config", "get-value", "core", "fernet_key"); got != "< hidden >\n" {
		t.Errorf("fernet_key shown as %q", got)
	}
	// The key was generated into the config file on first start, owner-only.
	cfg, err := os.ReadFile(filepath.Join(h.dir, "windsock.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), "fernet_key") {
		t.Errorf("windsock.cfg has no fernet_key:\n%s", cfg)
	}
	if fi, _ := os.Stat(filepath.Join(h.dir, "windsock.cfg")); fi.Mode().Perm() != 0o600 {
		t.Errorf("windsock.cfg mode %v, want 0600", fi.Mode().Perm())
	}
	h.fails(t, "not found", "config", "get-value", "core", "no_such_option")

	bad := newHome(t, "WINDSOCK__CORE__PARALLELISM=0")
	bad.fails(t, "core.parallelism", "dags", "list")
}

func TestDB(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	if out := h.ok(t, "db", "migrate"); !strings.Contains(out, "schema is at version") {
		t.Errorf("migrate said %q", out)
	}
	if out := h.ok(t, "db", "migrate"); !strings.Contains(out, "Applied 0") {
		t.Errorf("second migrate said %q", out)
	}
	if out := h.ok(t, "db", "check"); !strings.Contains(out, "Connection successful") {
		t.Errorf("check said %q", out)
	}
}

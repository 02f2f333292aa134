package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeDefinition(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const dpShell = `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
  {"id": "Hello", "type": "ShellCommandActivity", "command": "echo #{myGreeting}",},
], "parameters": [{"id": "myGreeting", "default": "hi"}]}`

// The exit status says how a conversion went; -o json carries the report.
func TestDatapipelineConvertExitStatus(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cases := []struct {
		name, src string
		code      int
		stdout    []string
	}{
		{"ok.json", dpShell, 0, []string{`"status": "converted"`, `"task_id": "Hello"`, `"exit_code": 0`, `"repairs"`}},
		{"partial.json", `{"objects": [{"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
			{"id": "Emr", "type": "EmrActivity", "step": "s3://j.jar,a"}]}`, 3,
			[]string{`"status": "partial"`, `"object_id": "Emr"`, `"kind": "unsupported"`}},
		{"invalid.json", `{"objects": [{"id": "Default", "scheduleType": "cron", "schedule": {"ref": "Nope"}},
			{"id": "A", "type": "ShellCommandActivity", "command": "true"}]}`, 2,
			[]string{`"status": "invalid"`, `"object_id": "Default"`, `"field": "schedule"`, `"field": "runsOn"`}},
	}
	for _, tc := range cases {
		def := writeDefinition(t, dir, tc.name, tc.src)
		r := h.run(t, "", "datapipeline", "convert", def, "--out", out, "-o", "json")
		if r.code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, r.code, tc.code, r.stdout, r.stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Errorf("%s: the report is not JSON: %v\n%s", tc.name, err, r.stdout)
		}
		for _, want := range tc.stdout {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: report lacks %s:\n%s", tc.name, want, r.stdout)
			}
		}
		_, err := os.Stat(filepath.Join(out, strings.TrimSuffix(tc.name, ".json")+".yaml"))
		if wrote := err == nil; wrote != (tc.code != 2) {
			t.Errorf("%s: DAG file written %v, want %v", tc.name, wrote, tc.code != 2)
		}
	}
	bad := writeDefinition(t, dir, "bad.json", "{\n  \"objects\": [\n    {\"id\": \"a\" \"type\": \"b\"}\n  ]\n}")
	r := h.run(t, "", "datapipeline", "convert", bad, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "line 3, column 16") {
		t.Errorf("not JSON: exit %d, stderr %q; want 1 and the line and column", r.code, r.stderr)
	}
	h.fails(t, "--out", "datapipeline", "convert", bad)
	h.fails(t, "not allowed with", "datapipeline", "convert", bad, "--out", out, "--values", "a=b", "--parameter-values", bad)
}

// Parameters come from files and flags, which replace the definition's;
// import writes into the environment's DAG folder, where the DAG loads.
func TestDatapipelineImportWithValues(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := t.TempDir()
	def := writeDefinition(t, dir, "greet.json", dpShell)
	params := writeDefinition(t, dir, "params.json", `{"parameters": [{"id": "myGreeting", "type": "String"}, {"id": "myOther", "default": "x"}]}`)
	values := writeDefinition(t, dir, "values.json", `{"values": {"myGreeting": "from the values file"}}`)
	out := h.ok(t, "datapipeline", "import", def, "--parameter-objects", params, "--parameter-values", values)
	if !strings.Contains(out, "converted") {
		t.Errorf("import said:\n%s", out)
	}
	dagFile, err := os.ReadFile(filepath.Join(h.dags(), "greet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dagFile), "echo from the values file") {
		t.Errorf("the value was not substituted:\n%s", dagFile)
	}
	h.ok(t, "datapipeline", "convert", def, "--out", h.dags(), "--values", "myGreeting=from a flag")
	dagFile, _ = os.ReadFile(filepath.Join(h.dags(), "greet.yaml"))
	if !strings.Contains(string(dagFile), "echo from a flag") {
		t.Errorf("--values was not used:\n%s", dagFile)
	}
	if got := h.ok(t, "dags", "list-import-errors"); strings.Contains(got, "greet") {
		t.Errorf("the imported DAG has import errors:\n%s", got)
	}
	if got := h.ok(t, "tasks", "list", "greet"); !strings.Contains(got, "Hello") {
		t.Errorf("tasks list greet:\n%s", got)
	}
}

package dagprocessor

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// testPython is Debian's interpreter: the python3 first on PATH may be a
// slow pyenv shim.
const testPython = "/usr/bin/python3"

var (
	runtimeOnce sync.Once
	runtimeDir  string
	runtimeErr  error
)

// TestMain removes the Python tree the tests extracted.
func TestMain(m *testing.M) {
	code := m.Run()
	if runtimeDir != "" {
		os.RemoveAll(runtimeDir)
	}
	os.Exit(code)
}

// testRuntime returns a Python runtime of its own for one test, over one
// extraction of the tree shared by the package's tests.
func testRuntime(t testing.TB, dags, plugins string) *pyrt.Runtime {
	t.Helper()
	if _, err := os.Stat(testPython); err != nil {
		t.Skip("no " + testPython)
	}
	runtimeOnce.Do(func() {
		runtimeDir, runtimeErr = os.MkdirTemp("", "windsock-pyparse-test-")
	})
	if runtimeErr != nil {
		t.Fatal(runtimeErr)
	}
	// No byte code: these tests rewrite modules within a second with the
	// same size, which a timestamp-checked .pyc cannot tell apart (a limit
	// of the runtime's byte-code cache that users editing that fast would
	// meet too). The tests had this from the process's own environment
	// until the runtime stopped inheriting it.
	r, err := pyrt.New(context.Background(), pyrt.Config{Python: testPython, CacheDir: runtimeDir, DagsFolder: dags, PluginsFolder: plugins,
		Env: []string{"PYTHONDONTWRITEBYTECODE=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// setupPython returns a processor over a DAG folder that loads Python
// files with a real interpreter, answering parse-time calls from its store.
func setupPython(t testing.TB, edit func(*Config)) *testBundle {
	t.Helper()
	dir := t.TempDir()
	st := openStore(t, dir)
	keys, err := fernet.Parse("")
	if err != nil {
		t.Fatal(err)
	}
	plugins := filepath.Join(dir, "plugins")
	rt := testRuntime(t, filepath.Join(dir, "dags"), plugins)
	return setupStore(t, dir, st, func(c *Config) {
		c.Python = rt
		c.PluginsFolder = plugins
		c.PythonHandler = SecretCalls{
			Variables:   &secrets.Variables{Store: st, Keys: keys, Environ: []string{"AIRFLOW_VAR_FROM_ENV=env wins"}},
			Connections: &secrets.Connections{Store: st, Keys: keys, Environ: []string{"AIRFLOW_CONN_MY_DB=postgres://u:pw@db.example.com:5433/sales"}},
		}
		if edit != nil {
			edit(c)
		}
	})
}

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

const goodPy = `import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils.task_group import TaskGroup


def hello():
    return 1


with DAG("py_good", schedule="@daily", start_date=datetime.datetime(2024, 1, 1), tags=["py"]):
    start = EmptyOperator(task_id="start")
    with TaskGroup("work", tooltip="the work"):
        say = BashOperator(task_id="say", bash_command="echo hi")
        call = PythonOperator(task_id="call", python_callable=hello)
        say >> call
    start >> say
`

const yamlDAG = `yaml_dag:
  schedule: null
  tasks:
    t:
      operator: bash
      bash_command: echo yaml
`

func serialized(t *testing.T, st store.Store, id string) *windsock.DAG {
	t.Helper()
	sd, err := st.SerializedDAGGet(context.Background(), id)
	if err != nil {
		t.Fatalf("DAG %s not stored: %v", id, err)
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestPythonFilesBesideYAML(t *testing.T) {
	t.Parallel()
	b := setupPython(t, nil)
	b.write(t, "good.py", goodPy)
	b.write(t, "team/flow.yaml", yamlDAG)
	b.write(t, "syntax.py", "from airflow import DAG\n\nwith DAG('broken'):\n    x = (\n")
	b.write(t, "boom.py", "from airflow import DAG\nimport math\n\nDAG('boom')\nvalue = 1 / 0\n")
	// No "airflow" in the text: safe mode does not even import it.
	b.write(t, "helper.py", "raise SystemExit('never imported')\n# dag\n")
	rep, err := b.proc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	d := serialized(t, b.store, "py_good")
	if !strings.HasSuffix(d.Fileloc, "good.py") || d.Schedule.Expr != "@daily" || !slices.Equal(d.Tags, []string{"py"}) {
		t.Errorf("py_good: fileloc %q schedule %+v tags %q", d.Fileloc, d.Schedule, d.Tags)
	}
	if say := d.Task("work.say"); say == nil || say.Operator != "bash" || say.TaskGroup != "work" || !slices.Equal(say.Upstream, []string{"start"}) {
		t.Errorf("work.say = %+v", say)
	}
	call := d.Task("work.call")
	if call == nil || call.Operator != "python_file_task" || call.OperatorClass != "PythonOperator" || call.Python == nil ||
		call.Python.ClassPath != "airflow.operators.python.PythonOperator" || !slices.Equal(call.Upstream, []string{"work.say"}) {
		t.Errorf("work.call = %+v", call)
	}
	if len(d.TaskGroups) != 1 || d.TaskGroups[0].GroupID != "work" || d.TaskGroups[0].Tooltip != "the work" {
		t.Errorf("groups = %+v", d.TaskGroups)
	}
	serialized(t, b.store, "yaml_dag")

	ies := importErrors(t, b.store)
	if got := ies["syntax.py"]; !strings.Contains(got, "SyntaxError") || !strings.Contains(got, `syntax.py", line 4`) {
		t.Errorf("syntax error import error:\n%s", got)
	}
	if got := ies["boom.py"]; !strings.Contains(got, "ZeroDivisionError: division by zero") || !strings.Contains(got, `boom.py", line 5, in <module>`) {
		t.Errorf("exception import error:\n%s", got)
	}
	if _, ok := ies["helper.py"]; ok || len(ies) != 2 {
		t.Errorf("import errors on %v", keys(ies))
	}
	if _, err := b.store.DAGGet(context.Background(), "boom"); err == nil {
		t.Error("a file that fails at import must define no DAG")
	}

	// The Python source is what dagSources and the UI show.
	code, err := b.store.DAGCodeGet(context.Background(), windsock.FilelocHash(d.Fileloc))
	if err != nil || code.SourceCode != goodPy {
		t.Errorf("dag code = %v, %v", code, err)
	}
	var reported bool
	for _, f := range rep.Files {
		if strings.HasSuffix(f.Fileloc, "good.py") {
			reported = f.Duration > 0 && slices.Equal(f.DagIDs, []string{"py_good"}) && f.Tasks == 3
		}
	}
	if !reported {
		t.Errorf("report lacks good.py's parse: %+v", rep.Files)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPythonImportTimeout(t *testing.T) {
	t.Parallel()
	b := setupPython(t, func(c *Config) { c.ImportTimeout = 500 * time.Millisecond })
	b.write(t, "slow.py", "# airflow dag\nimport time\ntime.sleep(3600)\n")
	// SIGALRM cannot reach this one: the child is killed from outside.
	b.write(t, "stubborn.py", "# airflow dag\nimport signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\ntime.sleep(3600)\n")
	b.write(t, "good.py", goodPy)
	start := time.Now()
	if _, err := b.proc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Not a timing assertion: an hour's sleep that was not killed would
	// hang the test, not slow it.
	t.Logf("pass took %s", time.Since(start))
	ies := importErrors(t, b.store)
	for _, name := range []string{"slow.py", "stubborn.py"} {
		want := "airflow.exceptions.AirflowTaskTimeout: DagBag import timeout for " + filepath.Join(b.dir, name) + " after 0.5s."
		if got := ies[name]; !strings.Contains(got, want) {
			t.Errorf("timeout import error of %s:\n%s\nwant it to hold %q", name, got, want)
		}
	}
	// Interrupted in the child, the import shows where it was.
	if got := ies["slow.py"]; !strings.Contains(got, `slow.py", line 3, in <module>`) {
		t.Errorf("slow.py's timeout does not show its line:\n%s", got)
	}
	serialized(t, b.store, "py_good")
}

func TestPythonVariableAtParseTime(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	b := setupPython(t, func(c *Config) { c.Clock = func() time.Time { return now } })
	ctx := context.Background()
	if err := b.store.VariableSet(ctx, &windsock.Variable{Key: "dag_suffix", Val: "from_store"}); err != nil {
		t.Fatal(err)
	}
	b.write(t, "var.py", `from airflow import DAG
from airflow.models import Variable
from airflow.operators.empty import EmptyOperator
from windsock_rt import rpc

conn = rpc.call("connection_get", conn_id="my_db")
try:
    rpc.call("connection_get", conn_id="nope")
except rpc.NotFound:
    missing = "not_found"

with DAG("v_" + Variable.get("dag_suffix"), description=Variable.get("from_env"),
         tags=[conn["host"], str(conn["port"]), conn["schema"], conn["conn_type"], missing]):
    EmptyOperator(task_id=Variable.get("missing", default_var="fallback"))
`)
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d := serialized(t, b.store, "v_from_store")
	if !slices.Equal(d.Tags, []string{"db.example.com", "5433", "sales", "postgres", "not_found"}) {
		t.Errorf("tags from the connection = %q", d.Tags)
	}
	if d.Description != "env wins" || d.Task("fallback") == nil {
		t.Errorf("description %q tasks %+v; import errors %v", d.Description, d.Tasks, importErrors(t, b.store))
	}

	// The file's text did not change, but its DAG did: it is parsed again
	// once scheduler.min_file_process_interval has passed, not before.
	if err := b.store.VariableSet(ctx, &windsock.Variable{Key: "dag_suffix", Val: "changed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.DAGGet(ctx, "v_changed"); err == nil {
		t.Error("parsed again before min_file_process_interval")
	}
	now = now.Add(30 * time.Second)
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	serialized(t, b.store, "v_changed")
	if ids := activeIDs(t, b.store); !slices.Equal(ids, []string{"v_changed"}) {
		t.Errorf("active DAGs = %v", ids)
	}
}

func TestPythonDuplicateAndPlaceholder(t *testing.T) {
	t.Parallel()
	b := setupPython(t, nil)
	b.write(t, "a_first.yaml", "same:\n  tasks:\n    t:\n      operator: empty\n")
	b.write(t, "b_second.py", `from airflow import DAG
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

with DAG("same"):
    pass

with DAG("glue"):
    GlueJobOperator(task_id="job", job_name="nightly")
`)
	rep, err := b.proc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := serialized(t, b.store, "same"); !strings.HasSuffix(d.Fileloc, "a_first.yaml") {
		t.Errorf("same comes from %s, want the first file", d.Fileloc)
	}
	if got := importErrors(t, b.store)["b_second.py"]; !strings.Contains(got, `DAG id "same" is already defined in `) {
		t.Errorf("duplicate import error: %q", got)
	}
	job := serialized(t, b.store, "glue").Task("job")
	if job == nil || job.OperatorClass != "GlueJobOperator" || job.Python.Placeholder == nil || job.Python.Placeholder.Provider != "amazon" {
		t.Fatalf("job = %+v", job)
	}
	var warnings []windsock.DagWarning
	for _, f := range rep.Files {
		warnings = append(warnings, f.Warnings...)
	}
	if len(warnings) != 1 || warnings[0].DagID != "glue" || !strings.Contains(warnings[0].Message, "apache-airflow-providers-amazon") {
		t.Errorf("warnings = %+v", warnings)
	}
}

func TestPythonWithoutInterpreter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := setupStore(t, dir, openStore(t, dir), func(c *Config) {
		c.Python = unavailable{}
	})
	b.write(t, "good.py", goodPy)
	b.write(t, "flow.yaml", yamlDAG)
	if _, err := b.proc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	serialized(t, b.store, "yaml_dag")
	got := importErrors(t, b.store)["good.py"]
	if !strings.Contains(got, "cannot load Python DAG files: ") || !strings.Contains(got, "/nonexistent/python3") || strings.Contains(got, "cannot parse") {
		t.Errorf("import error = %q", got)
	}
}

// unavailable is a parser whose interpreter cannot be found, as the
// environment's parser is when core.python_executable names nothing.
type unavailable struct{}

func (unavailable) Parse(ctx context.Context, _ string, _ time.Duration, _ pyrt.Handler) (*pyrt.ParseResult, error) {
	_, err := pyrt.ResolvePython(ctx, "/nonexistent/python3", nil)
	return nil, fmt.Errorf("%w: %w", ErrPythonUnavailable, err)
}

func (u unavailable) ParseBatch(ctx context.Context, paths []string, timeout time.Duration, h pyrt.Handler) ([]*pyrt.ParseResult, error) {
	_, err := u.Parse(ctx, "", timeout, h)
	return nil, err
}

// TestPythonBatchSurvivesACrash: a file that kills the child takes its
// batch down; the batch's files are parsed again one by one, so only the
// culprit fails.
func TestPythonBatchSurvivesACrash(t *testing.T) {
	t.Parallel()
	b := setupPython(t, nil)
	for i := 0; i < 20; i++ {
		b.write(t, fmt.Sprintf("d%02d.py", i), strings.ReplaceAll(goodPy, `"py_good"`, fmt.Sprintf(`"py_%02d"`, i)))
	}
	b.write(t, "d07.py", "# airflow dag\nimport os\nos._exit(3)\n")
	rep, err := b.proc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 19 {
		t.Errorf("wrote %d DAGs, want 19", rep.Written)
	}
	ies := importErrors(t, b.store)
	if got := ies["d07.py"]; len(ies) != 1 || !strings.Contains(got, "exited with return code 3") {
		t.Errorf("import errors = %v", ies)
	}
}

// TestPluginsFolderIsNotADagFolder: a plugins folder inside the DAG
// folder holds modules, never DAG files.
func TestPluginsFolderIsNotADagFolder(t *testing.T) {
	t.Parallel()
	b := setupPython(t, func(c *Config) { c.PluginsFolder = filepath.Join(c.Roots[0].Dir, "plugins") })
	b.write(t, "plugins/my_operator.py", "from airflow import DAG\nraise RuntimeError('imported as a DAG file')\n")
	b.write(t, "good.py", goodPy)
	if _, err := b.proc.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ies := importErrors(t, b.store); len(ies) != 0 {
		t.Errorf("import errors = %v", ies)
	}
	serialized(t, b.store, "py_good")
}

// TestPythonHelperModuleChange: DAG files import modules from the DAG
// folder (the MWAA layout); when one changes, the DAG files are parsed
// again and see the new module, whether safe mode skips the module or
// parses it as a file that defines no DAG.
func TestPythonHelperModuleChange(t *testing.T) {
	t.Parallel()
	b := setupPython(t, nil)
	ctx := context.Background()
	b.write(t, "common/names.py", "PREFIX = 'a'\n")
	b.write(t, "common/dag_helpers.py", "# helpers for airflow dag files\nSUFFIX = '1'\n")
	b.write(t, "uses.py", `from airflow import DAG
from airflow.operators.empty import EmptyOperator
from common.names import PREFIX
from common.dag_helpers import SUFFIX

with DAG("h_" + PREFIX + SUFFIX):
    EmptyOperator(task_id="t")
`)
	sync := func() {
		t.Helper()
		if _, err := b.proc.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Several passes, so that a worker that kept the old module around
	// would serve one of them.
	for range 3 {
		sync()
	}
	if ids := activeIDs(t, b.store); !slices.Equal(ids, []string{"h_a1"}) {
		t.Fatalf("active DAGs = %v; import errors %v", ids, importErrors(t, b.store))
	}
	b.write(t, "common/names.py", "PREFIX = 'b'\n")
	sync()
	if ids := activeIDs(t, b.store); !slices.Equal(ids, []string{"h_b1"}) {
		t.Errorf("after the skipped helper changed: active DAGs = %v", ids)
	}
	b.write(t, "common/dag_helpers.py", "# helpers for airflow dag files\nSUFFIX = '2'\n")
	sync()
	if ids := activeIDs(t, b.store); !slices.Equal(ids, []string{"h_b2"}) {
		t.Errorf("after the parsed helper changed: active DAGs = %v", ids)
	}
}

// TestPythonBatchStuckFile: a file stuck where SIGALRM cannot reach it
// kills its batch; it alone gets the timeout error, the rest of its batch
// is parsed again as a batch (not file by file).
func TestPythonBatchStuckFile(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	b := setupPython(t, func(c *Config) {
		c.ImportTimeout = 500 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for i := 0; i < 20; i++ {
		b.write(t, fmt.Sprintf("d%02d.py", i), strings.ReplaceAll(goodPy, `"py_good"`, fmt.Sprintf(`"py_%02d"`, i)))
	}
	b.write(t, "d07.py", "# airflow dag\nimport signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\ntime.sleep(3600)\n")
	rep, err := b.proc.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 19 {
		t.Errorf("wrote %d DAGs, want 19", rep.Written)
	}
	ies := importErrors(t, b.store)
	if got := ies["d07.py"]; len(ies) != 1 || !strings.Contains(got, "AirflowTaskTimeout: DagBag import timeout for "+filepath.Join(b.dir, "d07.py")+" after 0.5s.") {
		t.Errorf("import errors = %v", ies)
	}
	if strings.Contains(logs.String(), "one by one") {
		t.Errorf("the batch was parsed again file by file:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the processor's workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPythonPluginModuleChange: DAG files import modules of the plugins
// folder (on sys.path, as in Airflow); when one changes, they are parsed
// again.
func TestPythonPluginModuleChange(t *testing.T) {
	t.Parallel()
	b := setupPython(t, nil)
	plugins := filepath.Join(filepath.Dir(b.dir), "plugins")
	writePlugin := func(content string) {
		t.Helper()
		if err := os.MkdirAll(plugins, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(plugins, "team_names.py"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writePlugin("PREFIX = 'p'\n")
	b.write(t, "uses.py", `from airflow import DAG
from airflow.operators.empty import EmptyOperator
from team_names import PREFIX

with DAG("plug_" + PREFIX):
    EmptyOperator(task_id="t")
`)
	ctx := context.Background()
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	writePlugin("PREFIX = 'q'\n")
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := activeIDs(t, b.store); !slices.Equal(ids, []string{"plug_q"}) {
		t.Errorf("active DAGs = %v; import errors %v", ids, importErrors(t, b.store))
	}
}

// TestPythonServiceSeesChange: the running service re-parses a Python
// file that changed and one a plugin module change affects.
func TestPythonServiceSeesChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	passes := make(chan *Report, 64)
	b := setupPython(t, func(c *Config) { c.OnPass = func(r *Report) { passes <- r } })
	b.write(t, "svc.py", strings.ReplaceAll(goodPy, `"py_good"`, `"svc_v1"`))
	// The plugins folder exists when the service starts (MWAA unpacks
	// plugins.zip first); one made later is seen at the next rescan.
	plugins := filepath.Join(filepath.Dir(b.dir), "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor := func(id string) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			if _, err := b.store.SerializedDAGGet(ctx, id); err == nil {
				return
			}
			select {
			case <-passes:
			case <-deadline:
				t.Fatalf("no pass stored %s within 30 s; import errors %v", id, importErrors(t, b.store))
			}
		}
	}
	waitFor("svc_v1")
	b.write(t, "svc.py", strings.ReplaceAll(goodPy, `"py_good"`, `"svc_v2"`))
	waitFor("svc_v2")
	b.write(t, "plug.py", "from airflow import DAG\nfrom plug_name import NAME\n\nwith DAG('plug_' + NAME):\n    pass\n")
	if err := os.WriteFile(filepath.Join(plugins, "plug_name.py"), []byte("NAME = 'x'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("plug_x")
	if err := os.WriteFile(filepath.Join(plugins, "plug_name.py"), []byte("NAME = 'y'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("plug_y")
}

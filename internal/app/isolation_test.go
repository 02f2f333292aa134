package app

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web"
	"github.com/windsock/windsock/internal/windsock"
)

// heldTry is a DAG "same" whose one task says it runs (writes to the
// started pipe) and then waits for a line on the release pipe: the test
// decides when it ends, and can tell whether it still runs by whether the
// release pipe still has a reader.
type heldTry struct {
	started, release string
}

func newHeldTry(t *testing.T) heldTry {
	t.Helper()
	dir := t.TempDir()
	h := heldTry{started: filepath.Join(dir, "started"), release: filepath.Join(dir, "release")}
	for _, p := range []string{h.started, h.release} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h heldTry) dagYAML() string {
	return fmt.Sprintf(`
same:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: held, operator: bash, bash_command: 'echo up > %s; read line < %s; echo "released $line"'}
`, h.started, h.release)
}

// releaseTry lets the held try end; it fails the test if nothing reads the
// release pipe any more (the try was killed).
func (h heldTry) releaseTry(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(h.release, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		t.Fatal("the held try no longer runs: nothing reads its release pipe")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
}

// Two environments in one process on one host run the same DAG id with the
// same logical date: their tries have the same dag, task, run, try number,
// pid and (each store numbering jobs from 1) job id. Cleaning up the
// leftovers of one environment's try, as its scheduler does for an orphan,
// kills that try's processes only, never the other environment's live try.
func TestEnvironmentsCleanUpOnlyTheirOwnLeftovers(t *testing.T) {
	t.Parallel()
	ha, hb := newHeldTry(t), newHeldTry(t)
	a := benchEnv(t, map[string]string{"same.yaml": ha.dagYAML()})
	b := benchEnv(t, map[string]string{"same.yaml": hb.dagYAML()})
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("environment ids %q and %q: want two distinct ids", a.ID, b.ID)
	}
	ea, eb := startEngine(t, a, nil), startEngine(t, b, nil)
	runA, runB := ea.start(t, "same", day), eb.start(t, "same", day)
	if runA.RunID != runB.RunID {
		t.Fatalf("run ids %q and %q: the test wants the same run in both", runA.RunID, runB.RunID)
	}
	waitForPipe(t, ha.started)
	waitForPipe(t, hb.started)
	tiA, tiB := states(t, a, runA)["held"], states(t, b, runB)["held"]
	if tiA.PID == nil || tiB.PID == nil || *tiA.PID != *tiB.PID || tiA.JobID == nil || tiB.JobID == nil || *tiA.JobID != *tiB.JobID {
		t.Fatalf("claims (pid %v job %v) and (pid %v job %v): the test wants the same pid and job id", tiA.PID, tiA.JobID, tiB.PID, tiB.JobID)
	}

	a.endOrphan(tiA)

	hb.releaseTry(t)
	if got := eb.wait(t, runB.RunID); got.State != windsock.DagRunSuccess {
		t.Errorf("environment B's run = %s, want success: A's cleanup touched B's try", got.State)
	}
	if got := ea.wait(t, runA.RunID); got.State != windsock.DagRunFailed {
		t.Errorf("environment A's run = %s, want failed: its cleanup did not kill its own try", got.State)
	}
}

// openEnv opens an environment whose home holds files, configured from
// cfgEnviron and given taskEnviron as its variables (Options.Environ), with
// its DAG folder parsed.
func openEnv(t *testing.T, files map[string]string, cfgEnviron, taskEnviron []string) *Environment {
	t.Helper()
	home := benchHome(t)
	for name, content := range files {
		path := filepath.Join(home, "dags", name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgEnviron = append([]string{"WINDSOCK_HOME=" + home, "WINDSOCK__CORE__LOAD_EXAMPLES=False", "WINDSOCK__CORE__DAGS_ARE_PAUSED_AT_CREATION=False"}, cfgEnviron...)
	if _, err := config.EnsureFile(home, cfgEnviron); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home, cfgEnviron)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Open(t.Context(), cfg, Options{Environ: taskEnviron})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	proc, err := env.NewDAGProcessor(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	return env
}

// envOf parses the output of env(1).
func envOf(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// An environment's tasks get its variables only: nothing of the process
// that runs it (which other environments share), a temporary folder of
// their own under its home (TMPDIR, and the bash task's working
// directory), and the python3 of its PATH.
func TestEnvironmentTasksGetTheEnvironmentOnly(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	// The environment's PATH has a python3 of its own; the process's
	// PATH finds another (or none).
	bin := t.TempDir()
	if err := os.Symlink("/usr/bin/python3", filepath.Join(bin, "python3")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"leak.yaml": fmt.Sprintf(`
leak:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: show_env, operator: bash, bash_command: 'env > %[1]s/env; pwd > %[1]s/pwd'}
    - {task_id: which_python, operator: python, python_callable: tasks/exe.py:exe}
`, out),
		"tasks/exe.py": "import sys\n\ndef exe():\n    return sys.executable\n",
	}
	environ := []string{"PATH=" + bin + ":/usr/bin:/bin", "WINDSOCK_TEST_MARK=mine"}
	env := openEnv(t, files, nil, environ)
	run := startEngine(t, env, nil).trigger(t, "leak", day, nil)
	if run.State != windsock.DagRunSuccess {
		tis := states(t, env, run)
		t.Fatalf("run = %s; logs:\n%s\n%s", run.State, readLog(t, env, tis["show_env"], 1), readLog(t, env, tis["which_python"], 1))
	}
	vars := envOf(t, filepath.Join(out, "env"))
	tmp := filepath.Join(env.Config.Home, "tmp")
	if vars["TMPDIR"] != tmp || vars["WINDSOCK_TEST_MARK"] != "mine" {
		t.Errorf("TMPDIR=%q WINDSOCK_TEST_MARK=%q, want %q and %q", vars["TMPDIR"], vars["WINDSOCK_TEST_MARK"], tmp, "mine")
	}
	if pwd, _ := os.ReadFile(filepath.Join(out, "pwd")); !strings.HasPrefix(string(pwd), tmp+"/") {
		t.Errorf("the bash task ran in %q, want a folder under %s", pwd, tmp)
	}
	x, err := env.Store.XComGet(t.Context(), &store.XComGetParams{DagID: "leak", RunID: run.RunID, TaskID: "which_python", MapIndex: -1, Key: "return_value"})
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Quote(filepath.Join(bin, "python3")); string(x.Value) != want {
		t.Errorf("the python task ran %s, want the environment's %s", x.Value, want)
	}

	// An environment given no variables gives its tasks none of the
	// process's either.
	bare := openEnv(t, map[string]string{"leak.yaml": fmt.Sprintf(`
leak:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: show_env, operator: bash, bash_command: 'env > %s/bare-env'}
`, out)}, nil, nil)
	if run := startEngine(t, bare, nil).trigger(t, "leak", day, nil); run.State != windsock.DagRunSuccess {
		t.Fatalf("run without variables = %s", run.State)
	}
	// Set by bash itself, or by Windsock for the task.
	own := map[string]bool{"PWD": true, "SHLVL": true, "_": true, "OLDPWD": true, "TMPDIR": true}
	for k := range envOf(t, filepath.Join(out, "bare-env")) {
		if _, inProcess := os.LookupEnv(k); inProcess && !own[k] && !strings.HasPrefix(k, "AIRFLOW_CTX_") {
			t.Errorf("the task got the process's %s", k)
		}
	}
}

// serveUI serves an environment's UI and API as standalone does, on a
// port of its own, with an admin user; it returns the base URL.
func serveUI(t *testing.T, env *Environment) string {
	t.Helper()
	if _, err := auth.CreateUser(t.Context(), env.Store, auth.NewUser{Username: "admin", Email: "admin@example.com", Password: "secret-pw", Roles: []string{"Admin"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	authn := auth.NewAuthenticator(env.Store, env.Config, env.Clock, nil)
	apiHandler := (&api.Server{Store: env.Store, Config: env.Config, Authenticator: authn, Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder()}).Handler()
	webHandler := (&web.Server{Store: env.Store, Config: env.Config, Authenticator: authn, Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder()}).Handler()
	srv := httptest.NewServer(web.Mux(apiHandler, webHandler))
	t.Cleanup(srv.Close)
	return srv.URL
}

var csrfFieldRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login logs the browser into the UI at base through its login form.
func login(t *testing.T, browser *http.Client, base string) {
	t.Helper()
	resp, err := browser.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfFieldRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s/login: %d, no csrf_token in the form", base, resp.StatusCode)
	}
	resp, err = browser.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {"secret-pw"}, "csrf_token": {string(m[1])}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login at %s ended %d", base, resp.StatusCode)
	}
}

// loggedIn reports whether the browser's session at base is valid.
func loggedIn(t *testing.T, browser *http.Client, base string) bool {
	t.Helper()
	resp, err := browser.Get(base + "/api/v1/dags")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Two environments' UIs on one host, each on its own port: a browser
// logged into both stays logged into both (browsers keep cookies per host,
// not per port).
func TestEnvironmentUIsOnOneHostKeepTheirSessions(t *testing.T) {
	t.Parallel()
	a, b := benchEnv(t, nil), benchEnv(t, nil)
	urlA, urlB := serveUI(t, a), serveUI(t, b)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	login(t, browser, urlA)
	login(t, browser, urlB)
	if !loggedIn(t, browser, urlA) || !loggedIn(t, browser, urlB) {
		t.Fatalf("after logging into both: A logged in %v, B logged in %v; want both", loggedIn(t, browser, urlA), loggedIn(t, browser, urlB))
	}
	if u, _ := url.Parse(urlA); len(jar.Cookies(u)) < 2 {
		t.Errorf("the browser holds %d cookies for the host, want one per environment", len(jar.Cookies(u)))
	}
}

package pyenv_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/windsock/windsock/internal/pyenv"
	"github.com/windsock/windsock/internal/pyenv/pyenvtest"
)

// home is one Windsock home with its pyenv Config.
type home struct {
	t   *testing.T
	dir string
	cfg pyenv.Config
}

func setup(t *testing.T) *home {
	t.Helper()
	dir := t.TempDir()
	return &home{t: t, dir: dir, cfg: pyenv.Config{Home: dir, Python: python, Env: pipEnv()}}
}

// requirements writes the home's requirements.txt, installing from the
// test wheels only.
func (h *home) requirements(lines ...string) {
	h.t.Helper()
	body := pyenvtest.Requirements(wheels, lines...)
	if err := os.WriteFile(filepath.Join(h.dir, "requirements.txt"), []byte(body), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *home) prepare() pyenv.Result {
	h.t.Helper()
	res, err := pyenv.Prepare(context.Background(), h.cfg)
	if err != nil {
		h.t.Fatalf("Prepare: %v", err)
	}
	return res
}

// wsdemo returns the version of wsdemo the interpreter imports; it also
// imports jinja2, a Debian package of the base interpreter, which a
// virtual environment must keep visible.
func wsdemo(t *testing.T, py string) string {
	t.Helper()
	out, err := exec.Command(py, "-c", "import jinja2, wsdemo; print(wsdemo.VERSION)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s cannot import wsdemo and jinja2: %v\n%s", py, err, out)
	}
	return strings.TrimSpace(string(out))
}

// inode identifies a file, to tell a file left alone from one rewritten.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// quiet removes the latest pip log and returns a check that Prepare did
// no work since: no pip log written, the status file not rewritten.
func (h *home) quiet() func() {
	h.t.Helper()
	dir := filepath.Join(h.dir, "python_env")
	os.Remove(filepath.Join(dir, "last-install.log"))
	before := inode(h.t, filepath.Join(dir, "status.json"))
	return func() {
		h.t.Helper()
		if _, err := os.Stat(filepath.Join(dir, "last-install.log")); err == nil {
			h.t.Error("pip ran again for an unchanged requirements file")
		}
		if inode(h.t, filepath.Join(dir, "status.json")) != before {
			h.t.Error("the status file was rewritten for an unchanged home")
		}
	}
}

func TestRequirementsInstalledIntoVenvOnce(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.requirements("wsdemo==1.0")

	res := h.prepare()
	if res.Venv == "" || res.Python != filepath.Join(res.Venv, "bin", "python") || res.BasePython != python {
		t.Fatalf("Result = %+v, want the python of a virtual environment built from %s", res, python)
	}
	if !strings.HasPrefix(res.Venv, filepath.Join(h.dir, "python_env")+"/") {
		t.Errorf("venv %s is not under the home's python_env", res.Venv)
	}
	if v := wsdemo(t, res.Python); v != "1.0" {
		t.Errorf("wsdemo %s, want 1.0", v)
	}
	if _, err := exec.Command(python, "-c", "import wsdemo").CombinedOutput(); err == nil {
		t.Error("wsdemo was installed into the base interpreter")
	}
	if !res.Status.Healthy() || res.Status.LastInstall == nil || !res.Status.LastInstall.OK {
		t.Errorf("status = %+v, want a successful install", res.Status)
	}

	// Unchanged: no pip, no write, the same interpreter.
	check := h.quiet()
	again := h.prepare()
	check()
	if again.Python != res.Python {
		t.Errorf("second Prepare gives %s, want %s", again.Python, res.Python)
	}
	st, err := pyenv.ReadStatus(h.cfg)
	if err != nil || st.Python != res.Python || st.Pending || !st.Healthy() {
		t.Errorf("ReadStatus = %+v, %v", st, err)
	}
}

func TestFailedInstallKeepsThePreviousEnvironment(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.requirements("wsdemo==1.0")
	good := h.prepare()

	h.requirements("wsdemo==1.0", "windsock-no-such-package==3.1")
	if st, _ := pyenv.ReadStatus(h.cfg); !st.Pending {
		t.Error("ReadStatus does not say the changed file is pending")
	}
	res := h.prepare()
	if res.Python != good.Python || res.Venv != good.Venv {
		t.Fatalf("after a failed install Python = %s, want the previous %s", res.Python, good.Python)
	}
	if v := wsdemo(t, res.Python); v != "1.0" {
		t.Errorf("wsdemo %s in the kept environment, want 1.0", v)
	}
	in := res.Status.LastInstall
	if in == nil || in.OK || !strings.Contains(in.Error, "No matching distribution found for windsock-no-such-package==3.1") {
		t.Fatalf("LastInstall = %+v, want pip's error", in)
	}
	problems := res.Status.Problems()
	if len(problems) != 1 || !strings.Contains(problems[0], "windsock-no-such-package") || !strings.Contains(problems[0], good.Venv) {
		t.Errorf("Problems = %q", problems)
	}
	envs, _ := os.ReadDir(filepath.Join(h.dir, "python_env", "envs"))
	if len(envs) != 1 {
		t.Errorf("envs = %v, want only the working one (the failed build removed)", envs)
	}
	if log, err := os.ReadFile(in.Log); err != nil || !strings.Contains(string(log), "windsock-no-such-package") {
		t.Errorf("pip log %s: %v %q", in.Log, err, log)
	}

	// An unchanged broken file is not tried again at each start.
	check := h.quiet()
	if again := h.prepare(); again.Status.Healthy() || again.Python != good.Python {
		t.Errorf("unchanged broken file: %+v", again)
	}
	check()

	// Fixed: a new environment, the failure cleared.
	h.requirements("wsdemo==2.0")
	fixed := h.prepare()
	if fixed.Venv == good.Venv || !fixed.Status.Healthy() || wsdemo(t, fixed.Python) != "2.0" {
		t.Fatalf("after the fix: %+v", fixed)
	}
	// The environment used before stays (processes started earlier may
	// run it); older ones go.
	h.requirements("wsdemo==1.0", "# a comment changes the file")
	third := h.prepare()
	for dir, want := range map[string]bool{good.Venv: false, fixed.Venv: true, third.Venv: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s exists = %v, want %v", dir, err == nil, want)
		}
	}

	// No requirements any more: back to the base interpreter.
	os.Remove(filepath.Join(h.dir, "requirements.txt"))
	base := h.prepare()
	if base.Python != python || base.Venv != "" || !base.Status.Healthy() {
		t.Errorf("without requirements: %+v", base)
	}
}

func TestNoRequirementsUsesTheBaseInterpreterAndWritesNothing(t *testing.T) {
	t.Parallel()
	h := setup(t)
	res := h.prepare()
	if res.Python != python || res.Venv != "" || res.PluginsFolder != filepath.Join(h.dir, "plugins") || !res.Status.Healthy() {
		t.Errorf("Result = %+v", res)
	}
	if pyenv.Wanted(h.cfg) {
		t.Error("Wanted is true for a home without requirements or plugins.zip")
	}
	// Blank and comment-only files ask for nothing either.
	os.WriteFile(filepath.Join(h.dir, "requirements.txt"), []byte("# none yet\n\n"), 0o644)
	if res := h.prepare(); res.Venv != "" {
		t.Errorf("comment-only requirements built %s", res.Venv)
	}
	entries, _ := os.ReadDir(h.dir)
	if len(entries) != 1 {
		t.Errorf("home holds %v, want only requirements.txt: a home without work is not written", entries)
	}
}

// A requirements file removed after it failed is no longer reported.
func TestRemovedRequirementsClearTheFailure(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.requirements("windsock-no-such-package")
	if res := h.prepare(); res.Status.Healthy() || res.Python != python {
		t.Fatalf("broken file: %+v", res)
	}
	os.Remove(filepath.Join(h.dir, "requirements.txt"))
	if res := h.prepare(); !res.Status.Healthy() || res.Status.LastInstall != nil {
		t.Errorf("after removing the file: %+v", res.Status)
	}
	if st, err := pyenv.ReadStatus(h.cfg); err != nil || !st.Healthy() {
		t.Errorf("ReadStatus = %+v, %v", st, err)
	}
}

func TestConcurrentPreparesBuildOnce(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.requirements("wsdemo==1.0")
	var wg sync.WaitGroup
	results := make([]pyenv.Result, 3)
	for i := range results {
		wg.Go(func() { results[i] = h.prepare() })
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r.Python != results[0].Python || !r.Status.LastInstall.At.Equal(results[0].Status.LastInstall.At) {
			t.Errorf("results differ: %+v and %+v", r.Status.LastInstall, results[0].Status.LastInstall)
		}
	}
	if wsdemo(t, results[0].Python) != "1.0" {
		t.Error("wsdemo not installed")
	}
}

// A launcher script (a pyenv shim) is run once to learn the interpreter
// behind it; later processes read the answer from the home.
func TestLauncherScriptResolvedOnce(t *testing.T) {
	t.Parallel()
	h := setup(t)
	bin := filepath.Join(h.dir, "bin")
	os.Mkdir(bin, 0o755)
	runs := filepath.Join(h.dir, "runs")
	shim := "#!/bin/sh\necho run >> " + runs + "\nexec " + python + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "python3"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run")
	}

	h.cfg.Python = filepath.Join(bin, "python3")
	res := h.prepare()
	if res.Python != python || res.BasePython != python {
		t.Fatalf("Result = %+v, want %s behind the shim", res, python)
	}
	h.prepare()
	// Another name for the same shim is new to this process (pyrt caches
	// by name), as the shim is new to the next process: the home answers.
	os.Symlink(filepath.Join(bin, "python3"), filepath.Join(bin, "python"))
	h.cfg.Python = filepath.Join(bin, "python")
	if res := h.prepare(); res.Python != python {
		t.Errorf("through the link: %+v", res)
	}
	if n := count(); n != 1 {
		t.Errorf("the shim ran %d times, want once", n)
	}
}

func TestMissingInterpreter(t *testing.T) {
	t.Parallel()
	h := setup(t)
	for _, name := range []string{filepath.Join(h.dir, "no-such-python"), "windsock-no-such-python3"} {
		h.cfg.Python = name
		if _, err := pyenv.Prepare(context.Background(), h.cfg); !errors.Is(err, pyenv.ErrNoPython) || !strings.Contains(err.Error(), "no-such-python") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// execPython runs code with dir on sys.path, as the Python processes run
// with the plugins folder.
func execPython(dir, code string) (string, error) {
	cmd := exec.Command(python, "-c", code)
	cmd.Env = append(pipEnv(), "PYTHONPATH="+dir)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// pip reads --constraint and --find-links lines itself, relative paths
// against the requirements file's directory.
func TestConstraintsAndRelativeLinksInTheFile(t *testing.T) {
	t.Parallel()
	h := setup(t)
	if err := os.Symlink(wheels, filepath.Join(h.dir, "wheels")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(h.dir, "constraints.txt"), []byte("wsdemo==1.0\n"), 0o644)
	// Unconstrained, pip would pick the newest wheel, 2.0.
	body := "--no-index\n--find-links wheels\n--constraint constraints.txt\nwsdemo\n"
	os.WriteFile(filepath.Join(h.dir, "requirements.txt"), []byte(body), 0o644)
	res := h.prepare()
	if !res.Status.Healthy() {
		t.Fatalf("install failed: %q", res.Status.Problems())
	}
	if v := wsdemo(t, res.Python); v != "1.0" {
		t.Errorf("wsdemo %s, want 1.0 as constrained", v)
	}
}

// Cancelling Prepare stops pip at once and records nothing: the next start
// tries again.
func TestCancelledInstallStopsPip(t *testing.T) {
	t.Parallel()
	h := setup(t)
	asked := make(chan struct{})
	var once sync.Once
	release := make(chan struct{})
	index := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(asked) })
		<-release // an index that never answers
	}))
	defer index.Close()
	defer close(release)
	os.WriteFile(filepath.Join(h.dir, "requirements.txt"), []byte("--index-url "+index.URL+"/simple\nwsdemo\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := pyenv.Prepare(ctx, h.cfg)
		done <- err
	}()
	select {
	case <-asked:
	case err := <-done:
		t.Fatalf("Prepare returned %v before pip asked the index", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Prepare = %v, want context.Canceled", err)
	}
	st, err := pyenv.ReadStatus(h.cfg)
	if err != nil || st.LastInstall != nil || !st.Pending {
		t.Errorf("status after a cancelled install = %+v, %v; want nothing recorded", st, err)
	}
	envs, _ := os.ReadDir(filepath.Join(h.dir, "python_env", "envs"))
	if len(envs) != 0 {
		t.Errorf("a cancelled build left %v", envs)
	}
}

// BenchmarkPrepareUnchanged is the start-up cost of a home whose
// requirements.txt is installed already: read the file and the status,
// check the marker.
func BenchmarkPrepareUnchanged(b *testing.B) {
	dir := b.TempDir()
	cfg := pyenv.Config{Home: dir, Python: python, Env: pipEnv()}
	if err := os.WriteFile(filepath.Join(dir, "requirements.txt"), []byte(pyenvtest.Requirements(wheels, "wsdemo==1.0")), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if res, err := pyenv.Prepare(ctx, cfg); err != nil || res.Venv == "" {
		b.Fatalf("Prepare: %+v %v", res, err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := pyenv.Prepare(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

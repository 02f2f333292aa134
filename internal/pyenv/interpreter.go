package pyenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// resolved is a launcher script's answer to "which interpreter are you",
// kept with what it depends on: the script itself and the variable pyenv
// chooses a version by.
type resolved struct {
	Launcher      string    `json:"launcher"`
	ModTime       time.Time `json:"mod_time"`
	Size          int64     `json:"size"`
	PyenvVersion  string    `json:"pyenv_version,omitempty"`
	SysExecutable string    `json:"sys_executable"`
}

// launchers caches, per process, the resolutions done so far.
var launchers sync.Map // key string -> string

// resolveBase returns the real interpreter behind cfg.Python. A binary is
// used as it is; a launcher script (a pyenv shim costs about a second per
// start) is run once and asked for sys.executable, and its answer cached
// in the process and in the status file, keyed by the script's size,
// modification time and PYENV_VERSION.
func resolveBase(ctx context.Context, cfg Config) (string, error) {
	path, err := findPython(cfg)
	if err != nil {
		return "", err
	}
	if !isScript(path) {
		return path, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoPython, err)
	}
	want := resolved{Launcher: path, ModTime: fi.ModTime().UTC(), Size: fi.Size(), PyenvVersion: envValue(cfg.Env, "PYENV_VERSION")}
	key := fmt.Sprintf("%s\x00%d\x00%d\x00%s", want.Launcher, want.ModTime.UnixNano(), want.Size, want.PyenvVersion)
	if exe, ok := launchers.Load(key); ok {
		return exe.(string), nil
	}
	if st, err := readState(cfg.Dir); err == nil && st.Interpreter != nil {
		r := *st.Interpreter
		if r.Launcher == want.Launcher && r.ModTime.Equal(want.ModTime) && r.Size == want.Size && r.PyenvVersion == want.PyenvVersion && isFile(r.SysExecutable) {
			launchers.Store(key, r.SysExecutable)
			return r.SysExecutable, nil
		}
	}
	exe, err := askSysExecutable(ctx, cfg, path)
	if err != nil {
		return "", err
	}
	launchers.Store(key, exe)
	want.SysExecutable = exe
	rememberLauncher(cfg, want)
	return exe, nil
}

// findPython returns the absolute path of cfg.Python: a path (relative to
// the home) or a name looked up on cfg.Env's PATH.
func findPython(cfg Config) (string, error) {
	name := cfg.Python
	if strings.ContainsRune(name, filepath.Separator) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(cfg.Home, name)
		}
		if !isExecutable(name) {
			return "", fmt.Errorf("%w: core.python_executable %s is not an executable file", ErrNoPython, name)
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(envValue(cfg.Env, "PATH")) {
		if dir == "" || !filepath.IsAbs(dir) {
			// A relative PATH entry would make the choice depend on the
			// working directory.
			continue
		}
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s is not on PATH (set core.python_executable)", ErrNoPython, name)
}

// askSysExecutable runs the launcher once and returns the interpreter it
// runs.
func askSysExecutable(ctx context.Context, cfg Config, launcher string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, launcher, "-c", "import sys; sys.stdout.write(sys.executable)")
	cmd.Env = cfg.Env
	cmd.Dir = cfg.Home
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	exe := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(exe) {
		return "", fmt.Errorf("%w: %s does not run: %v %s", ErrNoPython, launcher, err, tail(stderr.Bytes(), 5, 1000))
	}
	return exe, nil
}

// rememberLauncher records a launcher's resolution in the status file, so
// that the next process of the home need not run it. Best effort: a home
// that cannot be written only costs the next process one run.
func rememberLauncher(cfg Config, r resolved) {
	unlock, err := lockDir(context.Background(), cfg.Dir)
	if err != nil {
		return
	}
	defer unlock()
	st, err := readState(cfg.Dir)
	if err != nil {
		return
	}
	st.Interpreter = &r
	if err := writeState(cfg.Dir, st); err != nil {
		cfg.Logger.Debug("pyenv: cannot cache the interpreter resolution", "error", err)
	}
}

// isScript reports whether path is a text file run through a #! line
// rather than an interpreter binary.
func isScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return string(head) == "#!"
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// envValue returns the last value of name in env, as the process would
// see it.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

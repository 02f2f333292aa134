package pyenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/windsock/windsock/internal/osenv"
	"github.com/windsock/windsock/internal/pyrt"
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

// resolveBase returns the real interpreter behind cfg.Python, as
// pyrt.ResolvePython finds it. That runs the interpreter once per process;
// for a launcher script (a pyenv shim costs about a second per start) the
// answer is also kept in the home's status file, keyed by the script's
// size, modification time and PYENV_VERSION, so that the next process
// (`windsock dags test`, a worker) does not pay that second again.
func resolveBase(ctx context.Context, cfg Config) (string, error) {
	found, err := osenv.LookPath(cfg.Python, cfg.Env)
	if err != nil {
		return "", fmt.Errorf("%w: %v (set core.python_executable)", ErrNoPython, err)
	}
	if !isScript(found) {
		return resolveWithPyrt(ctx, cfg)
	}
	launcher, err := filepath.EvalSymlinks(found)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoPython, err)
	}
	fi, err := os.Stat(launcher)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoPython, err)
	}
	pyenvVersion, _ := osenv.Get(cfg.Env, "PYENV_VERSION")
	want := resolved{Launcher: launcher, ModTime: fi.ModTime().UTC(), Size: fi.Size(), PyenvVersion: pyenvVersion}
	if st, err := readState(cfg.Dir); err == nil && st.Interpreter != nil {
		r := *st.Interpreter
		if r.Launcher == want.Launcher && r.ModTime.Equal(want.ModTime) && r.Size == want.Size && r.PyenvVersion == want.PyenvVersion && isFile(r.SysExecutable) {
			return r.SysExecutable, nil
		}
	}
	exe, err := resolveWithPyrt(ctx, cfg)
	if err != nil {
		return "", err
	}
	want.SysExecutable = exe
	rememberLauncher(cfg, want)
	return exe, nil
}

func resolveWithPyrt(ctx context.Context, cfg Config) (string, error) {
	exe, err := pyrt.ResolvePython(ctx, cfg.Python, cfg.Env)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoPython, err)
	}
	return exe, nil
}

// rememberLauncher records a launcher's resolution in the status file.
// Best effort: a home that cannot be written only costs the next process
// one run of the launcher.
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

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

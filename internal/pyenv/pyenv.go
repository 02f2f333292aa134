// Package pyenv prepares the Python an environment's DAG files and tasks
// run with, as MWAA prepares its containers: the packages of the home's
// requirements.txt (MWAA's RequirementsS3Path) installed with pip into a
// virtual environment, and the plugins folder, filled from plugins.zip
// (MWAA's PluginsS3Path) when there is one.
//
// Each requirements file is built once, in a fresh directory named after
// the hash of its content and of the base interpreter, and used only once
// pip succeeded there: a failed install is recorded with pip's message and
// the previous working environment stays in use. An unchanged file costs
// nothing at start-up beyond reading it and a marker. What Prepare did
// last is kept in a status file in the home, which `windsock health`,
// /health and the UI read (ReadStatus).
package pyenv

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/windsock/windsock/internal/config"
)

// Config says where an environment's Python pieces are. FromConfig fills
// it from the configuration; zero fields mean their default.
type Config struct {
	// Home is WINDSOCK_HOME; Dir and relative paths default under it.
	Home string
	// Python is core.python_executable: a path or a name looked up on
	// PATH, resolved by pyrt.ResolvePython. Default: "python3".
	Python string
	// RequirementsFile is core.requirements_file. Default:
	// Home/requirements.txt. A missing or blank file means no virtual
	// environment: the base interpreter is used.
	RequirementsFile string
	// PluginsFolder is core.plugins_folder. Default: Home/plugins.
	PluginsFolder string
	// PluginsZip is core.plugins_zip. Default: Home/plugins.zip.
	PluginsZip string
	// Dir holds the virtual environments, the status file and the last
	// pip log. Default: Home/python_env.
	Dir string
	// Env is the environment's variables: the environment of the venv
	// and pip processes (PIP_* variables and pip.conf are honoured as pip
	// honours them), and the PATH Python is looked up on. Never this
	// process's own: environments sharing it may have other interpreters.
	Env []string
	// Limits bound what plugins.zip may unpack to. Zero fields mean the
	// defaults of DefaultLimits.
	Limits Limits
	Logger *slog.Logger
	Clock  func() time.Time
}

// FromConfig returns the pyenv Config of an environment's configuration.
func FromConfig(c *config.Config, environ []string) Config {
	return Config{
		Home:             c.Home,
		Python:           c.Core.PythonExecutable,
		RequirementsFile: c.Core.RequirementsFile,
		PluginsFolder:    c.Core.PluginsFolder,
		PluginsZip:       c.Core.PluginsZip,
		Env:              environ,
	}
}

// withDefaults returns c with its zero fields filled in.
func (c Config) withDefaults() Config {
	c.Python = cmp.Or(c.Python, "python3")
	c.RequirementsFile = cmp.Or(c.RequirementsFile, filepath.Join(c.Home, "requirements.txt"))
	c.PluginsFolder = cmp.Or(c.PluginsFolder, filepath.Join(c.Home, "plugins"))
	c.PluginsZip = cmp.Or(c.PluginsZip, filepath.Join(c.Home, "plugins.zip"))
	c.Dir = cmp.Or(c.Dir, filepath.Join(c.Home, "python_env"))
	c.Limits = c.Limits.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Result is what a Python process of the environment is started with.
type Result struct {
	// Python is the interpreter to run: the virtual environment's python
	// when requirements are installed, else the base interpreter.
	Python string
	// BasePython is the real interpreter behind core.python_executable.
	BasePython string
	// Venv is the virtual environment in use, "" when there is none.
	Venv string
	// PluginsFolder goes on sys.path after the DAG folder (it may not
	// exist; Python skips missing entries).
	PluginsFolder string
	// Status is what Prepare recorded; Status.Problems says what failed.
	Status Status
}

// ErrNoPython is returned when no interpreter can be found: Python DAG
// files cannot be parsed, YAML ones still can.
var ErrNoPython = errors.New("no Python interpreter")

// Prepare makes the environment's Python ready: it unpacks plugins.zip
// when it changed, installs requirements.txt into a new virtual
// environment when it changed, and returns the interpreter to use. A
// failed pip install or a refused plugins.zip is not an error: it is
// recorded in the Result's Status (and the status file), and the previous
// working environment is returned. Errors are for what leaves no Python
// to run (ErrNoPython) or a home whose state cannot be written.
//
// Processes of one home may call Prepare at once: builds are serialised by
// a lock file, and a process that finds the work done does none.
func Prepare(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	base, err := resolveBase(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	p := &preparer{cfg: cfg, base: base}
	if err := p.run(ctx); err != nil {
		return Result{}, err
	}
	st := p.status
	return Result{
		Python:        st.Python,
		BasePython:    base,
		Venv:          st.Venv,
		PluginsFolder: cfg.PluginsFolder,
		Status:        st,
	}, nil
}

// ReadStatus returns what the latest Prepare of cfg's home recorded, and
// whether the files changed since: a zero Status when Prepare never had
// anything to record (no requirements, no plugins.zip).
func ReadStatus(cfg Config) (Status, error) {
	if cfg.Home == "" && cfg.Dir == "" {
		// No home (a server built without a config): nothing to read, and
		// paths relative to the working directory would be a guess.
		return Status{}, nil
	}
	cfg = cfg.withDefaults()
	st, err := readState(cfg.Dir)
	if err != nil {
		return Status{}, fmt.Errorf("read python environment status: %w", err)
	}
	st.Pending = pending(cfg, st)
	return st, nil
}

// Wanted reports whether Prepare has anything to do or undo in cfg's home:
// a requirements file or plugins.zip exists, or an earlier Prepare
// recorded an environment. Without any, start-up need not resolve the
// interpreter (a pyenv shim costs a second) before Python is used.
func Wanted(cfg Config) bool {
	cfg = cfg.withDefaults()
	for _, p := range []string{cfg.RequirementsFile, cfg.PluginsZip} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	st, err := readState(cfg.Dir)
	return err != nil || st.Venv != "" || st.LastInstall != nil || st.Plugins != nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/pyenv"
	"github.com/windsock/windsock/internal/pyrt"
)

// PythonRuntime returns the environment's Python runtime (the warm
// processes that parse Python DAG files and run Python tasks), made on
// first use and stopped by Close. It runs the interpreter PreparePython
// gives: the virtual environment of requirements.txt when there is one.
// An environment without a usable interpreter gets the error each time;
// YAML DAGs and Go-native tasks do not need one.
func (e *Environment) PythonRuntime(ctx context.Context) (*pyrt.Runtime, error) {
	e.pyMu.Lock()
	defer e.pyMu.Unlock()
	if e.py != nil {
		return e.py, nil
	}
	c := e.Config
	python, plugins := c.Core.PythonExecutable, c.Core.PluginsFolder
	if res, err := e.PreparePython(ctx); err == nil {
		python, plugins = res.Python, res.PluginsFolder
	} else if ctx.Err() != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}
	// Otherwise pyrt reports the missing interpreter itself.
	rt, err := pyrt.New(ctx, pyrt.Config{
		Python:        python,
		DagsFolder:    c.Core.DagsFolder,
		PluginsFolder: plugins,
		Env:           e.Environ,
		KillGrace:     c.Core.KilledTaskCleanupTime,
	})
	if err != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}
	e.py = rt
	return rt, nil
}

// stopPython stops the Python runtime, if one was made.
func (e *Environment) stopPython() {
	e.pyMu.Lock()
	rt := e.py
	e.py = nil
	e.pyMu.Unlock()
	if rt != nil {
		rt.Stop()
	}
}

// pythonParser parses Python DAG files with the environment's runtime,
// made when the first Python file is parsed: a DAG folder of YAML files
// never looks for an interpreter, and a missing one fails the Python
// files only.
type pythonParser struct{ env *Environment }

// Parse implements dagprocessor.PythonParser.
func (p pythonParser) Parse(ctx context.Context, path string, timeout time.Duration, h pyrt.Handler) (*pyrt.ParseResult, error) {
	rt, err := p.env.PythonRuntime(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", dagprocessor.ErrPythonUnavailable, err)
	}
	return rt.Parse(ctx, path, timeout, h)
}

// ParseBatch implements dagprocessor.PythonParser.
func (p pythonParser) ParseBatch(ctx context.Context, paths []string, timeout time.Duration, h pyrt.Handler) ([]*pyrt.ParseResult, error) {
	rt, err := p.env.PythonRuntime(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", dagprocessor.ErrPythonUnavailable, err)
	}
	return rt.ParseBatch(ctx, paths, timeout, h)
}

// PythonConfig returns where the environment's Python pieces are
// (core.python_executable, core.requirements_file, core.plugins_folder,
// core.plugins_zip) for pyenv.
func (e *Environment) PythonConfig() pyenv.Config {
	c := pyenv.FromConfig(e.Config, e.Environ)
	c.Logger, c.Clock = e.Logger, e.Clock
	return c
}

// PreparePython makes the environment's Python ready (pyenv.Prepare: the
// requirements installed, plugins.zip unpacked) the first time it
// succeeds, and returns that result afterwards: the interpreter Python
// processes run (Result.Python) and the plugins folder they put on
// sys.path. A failed pip install is not an error: it is in the result's
// Status, and /health, `windsock health` and the UI report it. An error
// (no interpreter, a cancelled ctx) is tried again at the next call.
func (e *Environment) PreparePython(ctx context.Context) (pyenv.Result, error) {
	e.pyEnvMu.Lock()
	defer e.pyEnvMu.Unlock()
	if e.pyEnv != nil {
		return *e.pyEnv, nil
	}
	res, err := pyenv.Prepare(ctx, e.PythonConfig())
	if err != nil {
		return res, err
	}
	e.pyEnv = &res
	return res, nil
}

// PreparePythonAtStart is what a long-running command does at start-up:
// it prepares the environment's Python when the home asks for one
// (requirements.txt, plugins.zip), so an install happens before DAG files
// need it. Failures are logged, never fatal: YAML DAGs run without
// Python, and a failed install keeps the previous environment.
func (e *Environment) PreparePythonAtStart(ctx context.Context) {
	if !pyenv.Wanted(e.PythonConfig()) {
		return
	}
	res, err := e.PreparePython(ctx)
	switch {
	case errors.Is(err, context.Canceled):
	case err != nil:
		e.Logger.Warn("the environment's Python is not ready", "error", err)
	default:
		for _, p := range res.Status.Problems() {
			e.Logger.Warn("python environment: " + p)
		}
	}
}

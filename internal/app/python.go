package app

import (
	"context"
	"errors"
	"sync"

	"github.com/windsock/windsock/internal/pyenv"
)

// pythonOnce is the environment's one pyenv.Prepare.
type pythonOnce struct {
	once   sync.Once
	result pyenv.Result
	err    error
}

// PythonConfig returns where the environment's Python pieces are
// (core.python_executable, core.requirements_file, core.plugins_folder,
// core.plugins_zip) for pyenv.
func (e *Environment) PythonConfig() pyenv.Config {
	c := pyenv.FromConfig(e.Config, e.Environ)
	c.Logger, c.Clock = e.Logger, e.Clock
	return c
}

// PreparePython makes the environment's Python ready (pyenv.Prepare) the
// first time it is called and returns that result afterwards: the
// interpreter Python processes run (Result.Python) and the plugins folder
// they put on sys.path. A failed pip install is not an error: it is in
// the result's Status, and /health, `windsock health` and the UI report
// it.
func (e *Environment) PreparePython(ctx context.Context) (pyenv.Result, error) {
	p := &e.python
	p.once.Do(func() { p.result, p.err = pyenv.Prepare(ctx, e.PythonConfig()) })
	return p.result, p.err
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

package app

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/pyrt"
)

// PythonRuntime returns the environment's Python runtime (the warm
// processes that parse Python DAG files and run Python tasks), made on
// first use and stopped by Close. An environment without a usable
// interpreter gets the error each time; YAML DAGs and Go-native tasks do
// not need one.
func (e *Environment) PythonRuntime(ctx context.Context) (*pyrt.Runtime, error) {
	e.pyMu.Lock()
	defer e.pyMu.Unlock()
	if e.py != nil {
		return e.py, nil
	}
	c := e.Config
	rt, err := pyrt.New(ctx, pyrt.Config{
		Python:        c.Core.PythonExecutable,
		DagsFolder:    c.Core.DagsFolder,
		PluginsFolder: c.Core.PluginsFolder,
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

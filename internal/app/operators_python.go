package app

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/pytask"
	"github.com/windsock/windsock/internal/operator/python"
)

// addPythonOperators registers the Python operators: the YAML ones that
// call a python_callable, and the tasks of Python DAG files.
func (e *Environment) addPythonOperators(r *operator.Registry, grace time.Duration) {
	opts := python.Options{KillGrace: grace, Interpreter: e.pythonInterpreter}
	r.Add("python", python.New(opts))
	r.Add("branch_python", python.NewBranch(opts))
	r.Add("short_circuit", python.NewShortCircuit(opts))
	py := e.pythonTasks()
	// Python enforces execution_timeout itself; the worker's kill comes
	// killed_task_cleanup_time later.
	py.Grace = grace
	r.Add(pytask.Name, py)
}

// pythonInterpreter is the interpreter of the environment's PythonOperator
// tasks: that of its Python runtime (PreparePython: the virtual
// environment of its requirements, or core.python_executable), found on
// the environment's PATH.
func (e *Environment) pythonInterpreter(ctx context.Context) (string, error) {
	res, err := e.PreparePython(ctx)
	if err != nil {
		return "", fmt.Errorf("the environment's python: %w", err)
	}
	return res.Python, nil
}

// pythonTasks returns the runner of Python DAG files' tasks and Python
// callbacks, over the environment's Python runtime.
func (e *Environment) pythonTasks() *pytask.Operator {
	return pytask.New(func(ctx context.Context) (pytask.Runtime, error) {
		rt, err := e.PythonRuntime(ctx)
		if err != nil {
			return nil, err
		}
		return rt, nil
	})
}

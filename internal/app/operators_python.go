package app

import (
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/python"
)

// addPythonOperators registers the Python operators.
func addPythonOperators(r *operator.Registry, grace time.Duration) {
	opts := python.Options{KillGrace: grace}
	r.Add("python", python.New(opts))
	r.Add("branch_python", python.NewBranch(opts))
	r.Add("short_circuit", python.NewShortCircuit(opts))
}

// Package amazon holds the operators of Airflow's Amazon provider that
// Windsock does not run: each fails at once, without retries, saying so,
// so a converted DAG shows exactly which tasks need a human.
package amazon

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/operator"
)

// Missing returns an operator that fails naming class and what it needs.
func Missing(class, needs string) operator.Operator {
	return operator.Func(func(context.Context, *operator.Context) (*operator.Result, error) {
		return nil, fmt.Errorf("%s needs %s, which Windsock does not support: replace this task (see the conversion report): %w", class, needs, operator.ErrFail)
	})
}

// Package empty implements Airflow's EmptyOperator (formerly
// DummyOperator), which does nothing and succeeds.
package empty

import (
	"context"

	"github.com/windsock/windsock/internal/operator"
)

// Operator is EmptyOperator.
type Operator struct{}

// New returns the EmptyOperator.
func New() operator.Operator { return Operator{} }

// Execute succeeds at once with no return value.
func (Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &operator.Result{}, nil
}

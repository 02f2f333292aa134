package app

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/operator"
)

// addPythonOperators registers the Python operators.
func addPythonOperators(r *operator.Registry, grace time.Duration) {}

// emptyOperator is EmptyOperator: it does nothing and succeeds.
func emptyOperator(context.Context, *operator.Context) (*operator.Result, error) {
	return &operator.Result{}, nil
}

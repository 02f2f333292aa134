package empty

import (
	"context"
	"testing"

	"github.com/windsock/windsock/internal/operator"
)

func TestExecute(t *testing.T) {
	t.Parallel()
	res, err := New().Execute(context.Background(), &operator.Context{})
	if err != nil || res == nil || res.HasReturn || res.Branch != nil || res.SkipDownstream {
		t.Fatalf("Execute = %+v, %v; want an empty result", res, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Execute(ctx, &operator.Context{}); err != context.Canceled {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}

package taskrun

import (
	"reflect"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// TestSkippedDownstream: what a branch, a short circuit, or an operator
// skipping tasks itself (SkipMixin.skip) leaves skipped.
func TestSkippedDownstream(t *testing.T) {
	t.Parallel()
	// pick -> a -> a2; pick -> b; pick -> c; other
	d := &windsock.DAG{Tasks: []*windsock.Task{
		{TaskID: "pick"}, {TaskID: "a", Upstream: []string{"pick"}}, {TaskID: "a2", Upstream: []string{"a"}},
		{TaskID: "b", Upstream: []string{"pick"}}, {TaskID: "c", Upstream: []string{"pick"}}, {TaskID: "other"},
	}}
	cases := []struct {
		name string
		res  *operator.Result
		want []string
	}{
		{"no decision", &operator.Result{}, nil},
		{"a branch skips the direct downstream not followed", &operator.Result{Branch: []string{"a"}}, []string{"b", "c"}},
		{"a short circuit skips everything downstream", &operator.Result{SkipDownstream: true, IgnoreDownstreamTriggerRules: true}, []string{"a", "a2", "b", "c"}},
		{"a short circuit respecting trigger rules", &operator.Result{SkipDownstream: true}, []string{"a", "b", "c"}},
		{"tasks skipped by the operator itself", &operator.Result{Skip: []string{"other", "nope", "pick"}}, []string{"other"}},
		{"both", &operator.Result{Branch: []string{"a", "b"}, Skip: []string{"c", "other"}}, []string{"c", "other"}},
	}
	for _, c := range cases {
		if got := skippedDownstream(d, "pick", c.res); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

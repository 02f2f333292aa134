package pytask

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// dagWithBranches is a DAG where "pick" branches into "a", "b" or the group
// "g" (whose root is "g.first").
func dagWithBranches() *windsock.DAG {
	return &windsock.DAG{
		DagID: "d",
		Tasks: []*windsock.Task{
			{TaskID: "pick"}, {TaskID: "a", Upstream: []string{"pick"}}, {TaskID: "b", Upstream: []string{"pick"}},
			{TaskID: "g.first", Upstream: []string{"pick"}, TaskGroup: "g"}, {TaskID: "g.second", Upstream: []string{"g.first"}, TaskGroup: "g"},
		},
		TaskGroups: []*windsock.TaskGroup{{GroupID: "g", Children: []string{"g.first", "g.second"}}},
	}
}

// TestResult maps each outcome run_task reports to what Execute returns.
func TestResult(t *testing.T) {
	t.Parallel()
	rescheduleAt := time.Date(2024, 5, 1, 0, 5, 0, 0, time.UTC)
	cases := []struct {
		name    string
		outcome string
		want    *operator.Result
		wantErr error  // the sentinel the error wraps, if any
		errText string // part of the error's text
	}{
		{
			name:    "a return value keeps a float a float",
			outcome: `{"state": "success", "has_return": true, "return_value": {"n": 5.0, "s": "x"}, "rendered_fields": {"op_args": [1]}}`,
			want: &operator.Result{HasReturn: true, ReturnValue: map[string]any{"n": json.Number("5.0"), "s": "x"},
				RenderedFields: map[string]any{"op_args": []any{1.0}}},
		},
		{
			name: "outlet_events extras by URI, the rendered map index",
			outcome: `{"state": "success", "rendered_map_index": "users", "outlet_events": [
				{"key": "s3://b/x", "extra": {"rows": 3}, "alias_events": []}, {"key": "s3://b/y", "extra": {}, "alias_events": []}]}`,
			want: &operator.Result{RenderedMapIndex: "users", OutletExtras: map[string]map[string]any{"s3://b/x": {"rows": json.Number("3")}}},
		},
		{
			name:    "None returned is no return value",
			outcome: `{"state": "success", "has_return": false, "return_value": null}`,
			want:    &operator.Result{},
		},
		{
			name:    "multiple_outputs keys",
			outcome: `{"state": "success", "has_return": true, "return_value": {"a": 1, "b": [2]}, "xcoms": {"a": 1, "b": [2]}}`,
			want: &operator.Result{HasReturn: true, ReturnValue: map[string]any{"a": json.Number("1"), "b": []any{json.Number("2")}},
				XComs: map[string]any{"a": json.Number("1"), "b": []any{json.Number("2")}}},
		},
		{
			name:    "a branch into a group follows its roots",
			outcome: `{"state": "success", "has_return": true, "return_value": "g", "branch": ["g", "a"]}`,
			want:    &operator.Result{HasReturn: true, ReturnValue: "g", Branch: []string{"g.first", "a"}},
		},
		{
			name:    "a branch into nothing skips every direct downstream task",
			outcome: `{"state": "success", "branch": []}`,
			want:    &operator.Result{Branch: []string{}},
		},
		{
			name:    "a branch to an unknown task fails",
			outcome: `{"state": "success", "branch": ["nope"]}`,
			errText: "Invalid tasks found: nope",
		},
		{
			name:    "a short circuit skips all downstream by default",
			outcome: `{"state": "success", "has_return": true, "return_value": false, "skip_downstream": true}`,
			want:    &operator.Result{HasReturn: true, ReturnValue: false, SkipDownstream: true, IgnoreDownstreamTriggerRules: true},
		},
		{
			name:    "a short circuit that respects trigger rules",
			outcome: `{"state": "success", "skip_downstream": true, "ignore_downstream_trigger_rules": false}`,
			want:    &operator.Result{SkipDownstream: true},
		},
		{
			name:    "a sensor in reschedule mode",
			outcome: `{"state": "up_for_reschedule", "reschedule_date": "2024-05-01T00:05:00+00:00"}`,
			want:    &operator.Result{RescheduleAt: &rescheduleAt},
		},
		{
			name:    "a reschedule without a date",
			outcome: `{"state": "up_for_reschedule"}`,
			errText: "without reschedule_date",
		},
		{
			name:    "tasks the operator skipped itself",
			outcome: `{"state": "success", "skip_tasks": ["b"]}`,
			want:    &operator.Result{Skip: []string{"b"}},
		},
		{
			name:    "AirflowSkipException",
			outcome: `{"state": "skipped", "error": {"types": ["AirflowSkipException"], "message": "not today"}, "rendered_fields": {"x": "1"}}`,
			want:    &operator.Result{RenderedFields: map[string]any{"x": "1"}},
			wantErr: operator.ErrSkip, errText: "not today",
		},
		{
			name:    "AirflowFailException fails without retry",
			outcome: `{"state": "failed_no_retry", "error": {"types": ["AirflowFailException", "AirflowException"], "message": "bad input", "traceback": "Traceback (most recent call last):\n  File \"/dags/x.py\", line 3\nAirflowFailException: bad input\n"}}`,
			want:    &operator.Result{},
			wantErr: operator.ErrFail, errText: "AirflowFailException: bad input",
		},
		{
			name:    "any other exception is retried",
			outcome: `{"state": "failed", "error": {"types": ["ZeroDivisionError", "ArithmeticError"], "message": "division by zero", "traceback": "Traceback ...\nZeroDivisionError: division by zero\n"}}`,
			want:    &operator.Result{},
			errText: "ZeroDivisionError: division by zero",
		},
		{
			name:    "an unknown state",
			outcome: `{"state": "deferred"}`,
			errText: `unknown state "deferred"`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out Outcome
			if err := json.Unmarshal([]byte(c.outcome), &out); err != nil {
				t.Fatal(err)
			}
			got, err := result(&operator.Context{DAG: dagWithBranches()}, &out)
			if c.errText != "" || c.wantErr != nil {
				if err == nil || !strings.Contains(err.Error(), c.errText) {
					t.Fatalf("error %v, want one containing %q", err, c.errText)
				}
				if c.wantErr != nil && !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v does not wrap %v", err, c.wantErr)
				}
				if c.wantErr == nil && (errors.Is(err, operator.ErrFail) || errors.Is(err, operator.ErrSkip)) {
					t.Fatalf("error %v must leave retries to apply", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if c.want != nil {
				// The child ran the callbacks of whatever outcome it
				// reported, but a reschedule's, which has none yet.
				c.want.CallbacksRan = c.want.RescheduleAt == nil
				if got != nil && got.RescheduleAt != nil && got.RescheduleAt.Equal(*c.want.RescheduleAt) {
					got.RescheduleAt = c.want.RescheduleAt // same instant, any zone
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("result %#v\nwant %#v", got, c.want)
				}
			}
		})
	}
}

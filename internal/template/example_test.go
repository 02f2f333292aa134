package template_test

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

func ExampleRenderFields() {
	ctx := context.Background()
	dag := &windsock.DAG{DagID: "daily", Params: map[string]any{"target": "staging"},
		Schedule: windsock.Schedule{Kind: windsock.ScheduleCron, Cron: "0 0 * * *"}}
	task := &windsock.Task{TaskID: "report", OperatorClass: "BashOperator",
		Args: map[string]any{"bash_command": "report.py --day {{ ds }} --to {{ params.target }} --key {{ var.value.api_key }}"}}
	start, end := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	run := &windsock.DagRun{DagID: "daily", RunID: windsock.RunID(windsock.RunTypeScheduled, start),
		LogicalDate: start, DataIntervalStart: &start, DataIntervalEnd: &end,
		Conf: map[string]any{"target": "prod"}}
	ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "daily", TaskID: "report", RunID: run.RunID, MapIndex: -1}, TryNumber: 1}
	src := template.Sources{
		Variable: func(_ context.Context, key string) (string, error) {
			if key == "api_key" {
				return "k-123", nil
			}
			return "", windsock.Errorf(windsock.ENOTFOUND, "variable %s does not exist", key)
		},
	}
	tc, err := template.NewContext(ctx, dag, task, run, ti, src)
	if err != nil {
		panic(err)
	}
	spec := &operator.Spec{Class: "BashOperator", Args: []operator.Arg{{Name: "bash_command", Templated: true}}}
	args, _, err := template.RenderFields(ctx, spec, task.Args, tc)
	if err != nil {
		panic(err)
	}
	fmt.Println(args["bash_command"])
	// Output: report.py --day 2024-01-01 --to prod --key k-123
}

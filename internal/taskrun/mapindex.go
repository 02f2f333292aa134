package taskrun

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// maxRenderedMapIndex is the size of task_instance.rendered_map_index
// (VARCHAR(250) in Airflow's schema).
const maxRenderedMapIndex = 250

// renderMapIndex renders a mapped instance's map_index_template (Airflow
// 2.9) once its operator ran, with the task's rendered arguments in the
// context as {{ task.<arg> }}; "" when there is none. A template that fails
// to render is logged and leaves the instance unnamed, as the try's own
// outcome matters more. base is the context the fields were rendered
// with, reused when there is one.
func (r *Runner) renderMapIndex(ctx context.Context, try *Try, task *windsock.Task, args map[string]any, base template.Context, masker *tasklog.Masker, logf tryLog) string {
	if task.MapIndexTemplate == "" || try.TI.MapIndex < 0 {
		return ""
	}
	cp := *task
	cp.Args = args
	var tctx template.Context
	var err error
	if base != nil {
		tctx = base.WithTask(try.DAG, &cp)
	} else {
		tctx, err = template.NewContext(ctx, try.DAG, &cp, try.Run, try.TI, r.templateSources(try, masker))
	}
	if err == nil {
		var v any
		if v, err = template.Render(ctx, task.MapIndexTemplate, tctx); err == nil {
			return fmt.Sprint(v)
		}
	}
	logf.Infof("Could not render map_index_template: %v", err)
	return ""
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) tasksCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tasks", Short: "Manage tasks"}
	cmd.AddCommand(r.tasksListCommand(), r.tasksStateCommand(), r.tasksStatesForDagRunCommand(), r.tasksClearCommand(),
		r.tasksTestCommand(), r.tasksRunCommand(), r.tasksRenderCommand(), r.tasksFailedDepsCommand())
	return cmd
}

func (r *runner) tasksListCommand() *cobra.Command {
	var output string
	var tree bool
	cmd := &cobra.Command{
		Use:   "list DAG_ID",
		Short: "List a DAG's tasks (one id per line, or --tree, or -o json)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if output != "" {
				if err := checkFormat(output); err != nil {
					return err
				}
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if _, err := syncDAGs(cmd.Context(), env); err != nil {
					return err
				}
				d, err := loadDAG(cmd.Context(), env.Store, a[0])
				if err != nil {
					return err
				}
				if tree {
					return printTree(r.io.Stdout, d)
				}
				tasks := append([]*windsock.Task(nil), d.Tasks...)
				sort.Slice(tasks, func(i, j int) bool { return tasks[i].TaskID < tasks[j].TaskID })
				if output == "" {
					for _, t := range tasks {
						if _, err := fmt.Fprintln(r.io.Stdout, t.TaskID); err != nil {
							return err
						}
					}
					return nil
				}
				return taskListFields.print(r.io.Stdout, output, tasks)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: table, json, yaml or plain (default: one task id per line)")
	cmd.Flags().BoolVarP(&tree, "tree", "t", false, "print the tasks as a tree from the roots downstream")
	return cmd
}

// printTree prints each root task and, indented below it, its downstream
// tasks, as Airflow's `tasks list --tree` does.
func printTree(w io.Writer, d *windsock.DAG) error {
	downstream := map[string][]string{}
	for _, t := range d.Tasks {
		for _, up := range t.Upstream {
			downstream[up] = append(downstream[up], t.TaskID)
		}
	}
	var b strings.Builder
	var walk func(id string, depth int)
	walk = func(id string, depth int) {
		t := d.Task(id)
		fmt.Fprintf(&b, "%s<Task(%s): %s>\n", strings.Repeat("    ", depth), t.OperatorClass, id)
		kids := downstream[id]
		sort.Strings(kids)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	for _, t := range d.Tasks {
		if len(t.Upstream) == 0 {
			walk(t.TaskID, 0)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

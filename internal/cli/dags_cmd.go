package cli

import (
	"context"
	"fmt"
	"os/user"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) dagsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "dags", Short: "Manage DAGs"}
	cmd.AddCommand(
		r.dagsListCommand(),
		r.dagsListImportErrorsCommand(),
		r.dagsShowCommand(),
		r.dagsPauseCommand("pause", true),
		r.dagsPauseCommand("unpause", false),
		r.dagsReportCommand(),
		r.dagsTriggerCommand(),
		r.dagsTestCommand(),
		r.dagsBackfillCommand(),
		r.dagsListRunsCommand(),
		r.dagsStateCommand(),
	)
	return cmd
}

// syncDAGs parses the DAG folder into the store, as Airflow's CLI reads the
// DAG folder itself instead of relying on a running scheduler.
func syncDAGs(ctx context.Context, env *app.Environment) (*dagprocessor.Report, error) {
	p, err := env.NewDAGProcessor(nil)
	if err != nil {
		return nil, err
	}
	return p.Sync(ctx)
}

type dagRow struct {
	DagID    string `json:"dag_id"`
	Fileloc  string `json:"fileloc"`
	Owners   string `json:"owners"`
	IsPaused bool   `json:"is_paused"`
}

func (r *runner) dagsListCommand() *cobra.Command {
	return r.listCommand("list", "List the DAGs in the DAG folder", true,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			dags, err := env.Store.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
			if err != nil {
				return nil, err
			}
			rows := make([]dagRow, len(dags))
			for i, d := range dags {
				rows[i] = dagRow{DagID: d.DagID, Fileloc: d.Fileloc, Owners: d.Owners, IsPaused: d.IsPaused}
			}
			return rows, nil
		})
}

type importErrorRow struct {
	Filename   string `json:"filename"`
	StackTrace string `json:"stack_trace"`
}

func (r *runner) dagsListImportErrorsCommand() *cobra.Command {
	return r.listCommand("list-import-errors", "List the DAG files that could not be loaded, and why", true,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			errs, err := env.Store.ImportErrorList(ctx)
			if err != nil {
				return nil, err
			}
			rows := make([]importErrorRow, len(errs))
			for i, e := range errs {
				rows[i] = importErrorRow{Filename: e.Filename, StackTrace: e.Stacktrace}
			}
			return rows, nil
		})
}

// loadDAG returns the stored definition of an active DAG.
func loadDAG(ctx context.Context, q store.Queries, dagID string) (*windsock.DAG, error) {
	m, err := q.DAGGet(ctx, dagID)
	if err != nil {
		return nil, err
	}
	if !m.IsActive {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "DAG %q is not active: its file %s is gone", dagID, m.Fileloc)
	}
	sd, err := q.SerializedDAGGet(ctx, dagID)
	if err != nil {
		return nil, err
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		return nil, fmt.Errorf("decode serialized dag %s: %w", dagID, err)
	}
	return &d, nil
}

func (r *runner) dagsShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show DAG_ID",
		Short: "Print a DAG's tasks and dependencies as a DOT graph",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if _, err := syncDAGs(cmd.Context(), env); err != nil {
					return err
				}
				d, err := loadDAG(cmd.Context(), env.Store, a[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprint(r.io.Stdout, dot(d))
				return err
			})
		},
	}
}

// dot renders a DAG as Graphviz DOT, as `airflow dags show` does.
func dot(d *windsock.DAG) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n", d.DagID)
	fmt.Fprintf(&b, "\tgraph [label=%q labelloc=t rankdir=LR]\n", d.DagID)
	for _, t := range d.Tasks {
		fmt.Fprintf(&b, "\t%q [label=%q shape=rectangle]\n", t.TaskID, t.TaskID)
	}
	for _, t := range d.Tasks {
		for _, up := range t.Upstream {
			fmt.Fprintf(&b, "\t%q -> %q\n", up, t.TaskID)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func (r *runner) dagsPauseCommand(verb string, paused bool) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " DAG_ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a DAG",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := syncDAGs(ctx, env); err != nil {
					return err
				}
				m, err := env.Store.DAGGet(ctx, a[0])
				if err != nil {
					return err
				}
				if !m.IsActive {
					return windsock.Errorf(windsock.ENOTFOUND, "DAG %q is not active: its file %s is gone", a[0], m.Fileloc)
				}
				err = env.Store.InTx(ctx, func(q store.Queries) error {
					if err := q.DAGSetPaused(ctx, a[0], paused); err != nil {
						return err
					}
					return q.EventLogInsert(ctx, &windsock.EventLog{
						Dttm: env.Clock().UTC(), DagID: a[0], Event: "cli_" + verb, Owner: cliOwner(),
						Extra: fmt.Sprintf(`{"host_name": %q, "full_command": "windsock dags %s %s"}`, hostname(), verb, a[0]),
					})
				})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(r.io.Stdout, "Dag: %s, paused: %s\n", a[0], cellString(paused))
				return err
			})
		},
	}
}

type reportRow struct {
	File     string `json:"file"`
	Duration string `json:"duration"`
	DagNum   int    `json:"dag_num"`
	TaskNum  int    `json:"task_num"`
	Dags     string `json:"dags"`
}

func (r *runner) dagsReportCommand() *cobra.Command {
	return r.listCommand("report", "Show how long each DAG file takes to parse", true,
		func(_ context.Context, env *app.Environment, rep *dagprocessor.Report) (any, error) {
			files := rep.Files
			sort.SliceStable(files, func(i, j int) bool { return files[i].Duration > files[j].Duration })
			rows := make([]reportRow, len(files))
			for i, f := range files {
				rows[i] = reportRow{
					File: relToDagsFolder(env, f.Fileloc), Duration: f.Duration.String(),
					DagNum: len(f.DagIDs), TaskNum: f.Tasks, Dags: strings.Join(f.DagIDs, ", "),
				}
			}
			return rows, nil
		})
}

func relToDagsFolder(env *app.Environment, loc string) string {
	rel, err := filepath.Rel(env.Config.Core.DagsFolder, loc)
	if err != nil || strings.HasPrefix(rel, "..") {
		return loc
	}
	return "/" + filepath.ToSlash(rel)
}

func cliOwner() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "cli"
}

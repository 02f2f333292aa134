package cli

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
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
		r.dagsDeleteCommand(),
		r.dagsNextExecutionCommand(),
		r.dagsDetailsCommand(),
		r.dagsReserializeCommand(),
		r.dagsListJobsCommand(),
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

func (r *runner) dagsListCommand() *cobra.Command {
	var columns []string
	cmd := r.listCommand("list", "List the DAGs in the DAG folder", true,
		func(ctx context.Context, env *app.Environment, rep *dagprocessor.Report) (any, error) {
			// DAGs that load but hold tasks of providers this environment
			// lacks are named on stderr, so the table stays Airflow's.
			for _, f := range rep.Files {
				for _, w := range f.Warnings {
					fmt.Fprintf(r.io.Stderr, "Warning: DAG %s: %s\n", w.DagID, w.Message)
				}
			}
			fs, invalid := selectColumns(dagSchemaFields, columns)
			if len(invalid) > 0 {
				// Airflow warns and prints the valid columns.
				fmt.Fprintf(r.io.Stderr, "Error: Ignoring the following invalid columns: %s.  List of valid columns: %s\n",
					pyList(invalid), pyList(columnNames(dagSchemaFields)))
			}
			dags, err := env.Store.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
			if err != nil {
				return nil, err
			}
			return fs.records(dags), nil
		})
	cmd.Flags().StringSliceVar(&columns, "columns", dagsListColumns, "the columns to print, comma-separated")
	return cmd
}

func columnNames[T any](fs fields[T]) []string {
	out := make([]string, len(fs))
	for i, c := range fs {
		out[i] = c.name
	}
	return out
}

// pyList is Python's str() of a list of strings: ['a', 'b'].
func pyList(s []string) string {
	return "['" + strings.Join(s, "', '") + "']"
}

func (r *runner) dagsListImportErrorsCommand() *cobra.Command {
	return r.listCommand("list-import-errors", "List the DAG files that could not be loaded, and why (exit 1 if any)", true,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			errs, err := env.Store.ImportErrorList(ctx)
			if err != nil {
				return nil, err
			}
			if len(errs) > 0 {
				// Airflow exits 1 after the list, so that scripts can tell.
				err = silentExit{code: exitError}
			}
			return importErrorFields.records(errs), err
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
	var save string
	cmd := &cobra.Command{
		Use:   "show DAG_ID",
		Short: "Print a DAG's tasks and dependencies as a DOT graph",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			// Airflow renders other formats with Graphviz; Windsock ships
			// none, so only DOT text can be saved.
			if save != "" && !strings.EqualFold(filepath.Ext(save), ".dot") {
				return windsock.Errorf(windsock.EINVALID, "--save %s: only a .dot file can be saved (render it with Graphviz: dot -T%s)", save, strings.TrimPrefix(filepath.Ext(save), "."))
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if _, err := syncDAGs(cmd.Context(), env); err != nil {
					return err
				}
				d, err := loadDAG(cmd.Context(), env.Store, a[0])
				if err != nil {
					return err
				}
				if save != "" {
					if err := os.WriteFile(save, []byte(dot(d)), 0o644); err != nil {
						return err
					}
					_, err = fmt.Fprintf(r.io.Stdout, "File %s saved\n", save)
					return err
				}
				_, err = fmt.Fprint(r.io.Stdout, dot(d))
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&save, "save", "s", "", "save the graph to this .dot file instead of printing it")
	return cmd
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
	var output string
	var asRegex, yes bool
	cmd := &cobra.Command{
		Use:   verb + " DAG_ID",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " a DAG (or every DAG matching a regex)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			var re *regexp.Regexp
			if asRegex {
				var err error
				if re, err = regexp.Compile(a[0]); err != nil {
					return windsock.Errorf(windsock.EINVALID, "bad DAG id regex: %v", err)
				}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := syncDAGs(ctx, env); err != nil {
					return err
				}
				// As Airflow's set_is_paused: only the DAGs not yet in the
				// state are changed, and an unknown DAG is not an error
				// (scripts pause/unpause idempotently and check the message).
				var matched []*windsock.DAGModel
				if re == nil {
					m, err := env.Store.DAGGet(ctx, a[0])
					if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
						return err
					}
					if err == nil && m.IsPaused != paused {
						matched = append(matched, m)
					}
				} else {
					all, err := env.Store.DAGList(ctx, &store.DAGListParams{Paused: &[]bool{!paused}[0]})
					if err != nil {
						return err
					}
					for _, m := range all {
						if re.MatchString(m.DagID) { // SQL regexp_match searches, as MatchString
							matched = append(matched, m)
						}
					}
				}
				un := map[bool]string{true: "un", false: ""}
				if len(matched) == 0 {
					_, err := fmt.Fprintf(r.io.Stdout, "No %spaused DAGs were found\n", un[paused])
					return err
				}
				if re != nil && !yes {
					ids := make([]string, len(matched))
					for i, m := range matched {
						ids[i] = m.DagID
					}
					q := fmt.Sprintf("You are about to %spause %d DAGs:\n%s\n\nAre you sure? [y/n]", un[!paused], len(ids), strings.Join(ids, ","))
					if !r.confirm(q, "y", true) {
						_, err := fmt.Fprintln(r.io.Stdout, "Operation cancelled by user")
						return err
					}
				}
				// The audit row is written before the command runs (recordAudit).
				for _, m := range matched {
					if err := env.Store.DAGSetPaused(ctx, m.DagID, paused); err != nil {
						return err
					}
					m.IsPaused = paused
				}
				return dagPauseFields.print(r.io.Stdout, output, matched)
			})
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVar(&asRegex, "treat-dag-id-as-regex", false, "treat DAG_ID as a regular expression and act on every DAG it matches")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (with --treat-dag-id-as-regex)")
	return cmd
}

func (r *runner) dagsReportCommand() *cobra.Command {
	return r.listCommand("report", "Show how long each DAG file takes to parse", true,
		func(_ context.Context, env *app.Environment, rep *dagprocessor.Report) (any, error) {
			rows := make([]dagReportRow, len(rep.Files))
			for i, f := range rep.Files {
				rows[i] = dagReportRow{file: relToDagsFolder(env, f.Fileloc), FileReport: f}
			}
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].Duration > rows[j].Duration })
			return dagReportFields.records(rows), nil
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

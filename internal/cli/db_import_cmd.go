package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// dbImportCommand is `windsock db import SOURCE`: an Airflow or MWAA
// environment's metadata brought into this environment's store.
func (r *runner) dbImportCommand() *cobra.Command {
	var (
		fernetKeys    []string
		skipEncrypted bool
		onConflict    string
		dryRun        bool
		output        string
		batchSize     int
		format        string
		awsConnID     string
	)
	cmd := &cobra.Command{
		Use:   "import SOURCE",
		Short: "Import an Airflow environment's metadata (an airflow.db file or a postgresql:// URL)",
		Long: `Import an Airflow environment's metadata into this environment: runs, task
instances, task failures and reschedules, XComs, rendered fields, variables,
connections, pools, SLA misses, the audit log, jobs and paused states.

SOURCE is an Airflow 1.10-2.10 metadata database (a SQLite file, a
sqlite:/// URL or a postgresql:// URL), or a folder or s3://bucket/prefix of
per-table CSV files written by AWS's tools (mwaa-dr, export_data.py): its
layout is detected from the files, or named with --format. An s3:// source
is read with the aws connection --aws-conn-id (default: the one of
logging.remote_log_conn_id), or else the AWS_* variables. Every DAG is paused while the import
runs and given back its state afterwards. Each batch is committed with a
checkpoint: running the same command again resumes an interrupted import and
changes nothing after a finished one.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if onConflict != "skip" && onConflict != "overwrite" {
				return usageError{fmt.Errorf("--on-conflict must be skip or overwrite, got %q", onConflict)}
			}
			if output != formatTable && output != formatJSON {
				return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", output)}
			}
			srcKeys, err := fernet.Parse(strings.Join(fernetKeys, ","))
			if err != nil {
				return usageError{windsock.Errorf(windsock.EINVALID, "--fernet-key: %v", err)}
			}
			ctx := cmd.Context()
			var src metaport.Source
			switch fi, err := os.Stat(a[0]); {
			case isS3URL(a[0]):
				// Opened with the environment's connections, below.
			case err == nil && fi.IsDir():
				csvSrc, err := metaport.OpenCSVSource(a[0], format)
				if err != nil {
					return err
				}
				src = csvSrc
			default:
				if format != "" {
					return usageError{fmt.Errorf("--format names the layout of a folder of CSV files; %s is not a folder", a[0])}
				}
				db, dbSrc, err := openAirflowDB(ctx, a[0])
				if err != nil {
					return err
				}
				defer db.Close()
				src = dbSrc
			}
			return r.withEnv(ctx, func(env *app.Environment) error {
				if isS3URL(a[0]) {
					fsys, err := openS3(ctx, env, awsConnID, a[0])
					if err != nil {
						return err
					}
					dir, cleanup, err := downloadCSVs(fsys, a[0])
					if err != nil {
						return err
					}
					defer cleanup()
					csvSrc, err := metaport.OpenCSVSource(dir, format)
					if err != nil {
						return err
					}
					src = csvSrc.Named(strings.TrimSuffix(a[0], "/"))
				}
				opts := metaport.Options{SourceKeys: srcKeys, TargetKeys: env.Keys, SkipEncrypted: skipEncrypted,
					Overwrite: onConflict == "overwrite", DryRun: dryRun, BatchSize: batchSize}
				if f, ok := r.io.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					opts.Progress = &progressBar{w: f}
				}
				rep, err := metaport.Import(ctx, env.Store, src, opts)
				if rep != nil {
					if perr := printImportReport(r.io.Stdout, output, rep); perr != nil && err == nil {
						err = perr
					}
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&fernetKeys, "fernet-key", nil, "the source's core.fernet_key, to decrypt its variables and connections (repeat, or separate with commas, for several keys)")
	f.BoolVar(&skipEncrypted, "skip-encrypted", false, "leave out variables and connections no --fernet-key decrypts, instead of importing them unreadable")
	f.StringVar(&onConflict, "on-conflict", "skip", "what to do with a row whose key the environment already has: skip or overwrite")
	f.BoolVar(&dryRun, "dry-run", false, "read and check everything, write nothing, report what would be imported")
	f.StringVarP(&output, "output", "o", formatTable, "report format: table or json")
	f.IntVar(&batchSize, "batch-size", 2000, "source rows per transaction")
	f.StringVar(&format, "format", "", "layout of a CSV folder: "+strings.Join(metaport.LayoutNames(), ", ")+" (default: detected)")
	f.StringVar(&awsConnID, "aws-conn-id", "", "aws connection for an s3:// SOURCE (default: logging.remote_log_conn_id, else the AWS_* variables)")
	return cmd
}

// dbExportCommand is `windsock db export DEST --format`: the environment's
// metadata written in the layout of one of AWS's tools, for their restore
// (or an import) to read.
func (r *runner) dbExportCommand() *cobra.Command {
	var format, output, awsConnID string
	cmd := &cobra.Command{
		Use:   "export DEST",
		Short: "Export the environment's metadata as CSV files in an AWS tool's layout (mwaa-dr, export_data-2.x)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			l, ok := metaport.Layouts[format]
			if !ok {
				return usageError{fmt.Errorf("--format must be one of %s, got %q", strings.Join(metaport.LayoutNames(), ", "), format)}
			}
			if output != formatTable && output != formatJSON {
				return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", output)}
			}
			if strings.Contains(a[0], "://") && !isS3URL(a[0]) {
				return windsock.Errorf(windsock.EINVALID, "export to %s: want a folder or an s3:// URL", a[0])
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				dir := a[0]
				var fsys *awss3.FS
				if isS3URL(a[0]) {
					var err error
					if fsys, err = openS3(cmd.Context(), env, awsConnID, a[0]); err != nil {
						return err
					}
					if dir, err = os.MkdirTemp("", "windsock-export-*"); err != nil {
						return err
					}
					defer os.RemoveAll(dir)
				}
				rep, err := metaport.Export(cmd.Context(), env.Store, dir, l, env.Keys)
				if err != nil {
					return err
				}
				if fsys != nil {
					if err := uploadFolder(cmd.Context(), fsys, dir); err != nil {
						return fmt.Errorf("export to %s: %w", a[0], err)
					}
					rep.Dir = a[0]
				}
				if output == formatJSON {
					enc := json.NewEncoder(r.io.Stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				}
				fmt.Fprintf(r.io.Stdout, "Exported to %s (%s)\n\n", rep.Dir, rep.Format)
				for _, f := range slices.Sorted(maps.Keys(rep.Files)) {
					fmt.Fprintf(r.io.Stdout, "%-24s %10d rows\n", f, rep.Files[f])
				}
				if len(rep.Notes) > 0 {
					fmt.Fprintf(r.io.Stdout, "\nNotes:\n  %s\n", strings.Join(rep.Notes, "\n  "))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "mwaa-dr", "layout: "+strings.Join(metaport.LayoutNames(), ", "))
	cmd.Flags().StringVarP(&output, "output", "o", formatTable, "report format: table or json")
	cmd.Flags().StringVar(&awsConnID, "aws-conn-id", "", "aws connection for an s3:// DEST (default: logging.remote_log_conn_id, else the AWS_* variables)")
	return cmd
}

// openAirflowDB opens an Airflow metadata database read-only: a
// postgresql:// URL or a SQLite file.
func openAirflowDB(ctx context.Context, source string) (*sql.DB, *metaport.DBSource, error) {
	var db *sql.DB
	var name string
	isPG := postgres.IsURL(source)
	if isPG {
		conn, err := postgres.ConnString(source)
		if err != nil {
			return nil, nil, err
		}
		cfg, err := pgx.ParseConfig(conn)
		if err != nil {
			return nil, nil, windsock.Errorf(windsock.EINVALID, "source URL %s is not valid", postgres.Redact(source))
		}
		db, name = stdlib.OpenDB(*cfg), postgres.Redact(source)
	} else {
		path := source
		if strings.HasPrefix(source, "sqlite:") {
			p, err := sqlite.PathFromURL(source)
			if err != nil {
				return nil, nil, err
			}
			path = p
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, nil, err
		}
		if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
			return nil, nil, windsock.Errorf(windsock.EINVALID, "source %s: want an airflow.db file or a postgresql:// URL", source)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		// Read-only, and mapped into memory: task instances are read in
		// key order, which jumps between the table's pages; a mapped page
		// costs no read call.
		dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=mmap_size(1073741824)"
		if db, err = sql.Open("sqlite", dsn); err != nil {
			return nil, nil, fmt.Errorf("open %s: %w", source, err)
		}
		name = abs
	}
	src, err := metaport.OpenDBSource(ctx, db, isPG, name)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("source %s: %w", name, err)
	}
	return db, src, nil
}

// printImportReport writes the report as a table of counts per table,
// then the skip reasons and notes; or as JSON.
func printImportReport(w io.Writer, format string, rep *metaport.Report) error {
	if format == formatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	verb := "Imported"
	if rep.DryRun {
		verb = "Dry run (nothing written): would import"
	}
	fmt.Fprintf(w, "%s from %s (Airflow %s)\n\n", verb, rep.Source, rep.Version)
	fmt.Fprintf(w, "%-30s %10s %10s %10s %10s\n", "table", "read", "imported", "skipped", "kept aside")
	for _, t := range rep.Tables {
		var skipped int64
		for _, n := range t.Skipped {
			skipped += n
		}
		fmt.Fprintf(w, "%-30s %10d %10d %10d %10d\n", t.Table, t.Read, t.Imported, skipped, t.KeptAside)
	}
	var lines []string
	for _, t := range rep.Tables {
		for reason, n := range t.Skipped {
			lines = append(lines, fmt.Sprintf("  %s: %d %s", t.Table, n, reason))
		}
	}
	if len(lines) > 0 {
		slices.Sort(lines)
		fmt.Fprintf(w, "\nSkipped:\n%s\n", strings.Join(lines, "\n"))
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintf(w, "\nNotes:\n  %s\n", strings.Join(rep.Notes, "\n  "))
	}
	return nil
}

// progressBar shows an import's progress on a terminal.
type progressBar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *progressBar) Start(total int64) {
	p.bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
}

func (p *progressBar) Add(n int) { _ = p.bar.Add(n) }

func (p *progressBar) Finish() { _ = p.bar.Finish() }

// dbImportLogsCommand is `windsock db import-logs SOURCE --days N`: the
// task logs of imported task instances copied from an Airflow log folder
// into this environment's, where the UI and API read them.
func (r *runner) dbImportLogsCommand() *cobra.Command {
	var days int
	var allStates bool
	var output, awsConnID string
	cmd := &cobra.Command{
		Use:   "import-logs SOURCE",
		Short: "Copy the task logs of the last N days from an Airflow log folder, an s3:// prefix or a CloudWatch Logs export (failed task instances unless --all-states)",
		Long: `Copy the task logs of the last N days into this environment's log folder,
where the UI and API show them: by default only the tries of failed task
instances, as AWS's migration guide does.

SOURCE is a folder or an s3://bucket/prefix holding Airflow's log layout
(2.x's dag_id=/run_id=/task_id=/attempt=N.log or 1.10's
dag/task/date/N.log), or the export of MWAA's task log group written by
"aws logs create-export-task" (<prefix>/<task id>/<log stream>/000000.gz;
SOURCE may be the prefix or one task's folder). An s3:// source is read with
the aws connection --aws-conn-id (default: the one of
logging.remote_log_conn_id), or else the AWS_* variables.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if output != formatTable && output != formatJSON {
				return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", output)}
			}
			if strings.Contains(a[0], "://") && !isS3URL(a[0]) {
				return windsock.Errorf(windsock.EINVALID, "import logs from %s: want a folder or an s3:// URL", a[0])
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				var src fs.FS
				name := a[0]
				if isS3URL(a[0]) {
					fsys, err := openS3(cmd.Context(), env, awsConnID, a[0])
					if err != nil {
						return err
					}
					src = fsys
				} else {
					abs, err := filepath.Abs(a[0])
					if err != nil {
						return err
					}
					src, name = os.DirFS(abs), abs
				}
				rep, err := metaport.ImportLogs(cmd.Context(), env.Store, src, name, env.Config.Logging.BaseLogFolder,
					metaport.LogImportOptions{Days: days, AllStates: allStates, Now: r.clock()})
				if err != nil {
					return err
				}
				if output == formatJSON {
					enc := json.NewEncoder(r.io.Stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				}
				fmt.Fprintf(r.io.Stdout, "Copied %d task logs from %s (%d already there, %d not found).\n", rep.Copied, rep.Source, rep.Existing, rep.Missing)
				if rep.FromCloudWatch > 0 {
					fmt.Fprintf(r.io.Stdout, "%d of them from CloudWatch Logs export streams.\n", rep.FromCloudWatch)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&days, "days", 3, "copy the logs of runs of the last N days")
	cmd.Flags().BoolVar(&allStates, "all-states", false, "copy every task instance's logs, not only failed ones")
	cmd.Flags().StringVar(&awsConnID, "aws-conn-id", "", "aws connection for an s3:// SOURCE (default: logging.remote_log_conn_id, else the AWS_* variables)")
	cmd.Flags().StringVarP(&output, "output", "o", formatTable, "report format: table or json")
	return cmd
}

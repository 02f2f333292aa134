package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// confirm prints question and reads one line of stdin; it reports whether
// the answer is want (compared case-insensitively when fold is set).
func (r *runner) confirm(question, want string, fold bool) bool {
	fmt.Fprintln(r.io.Stdout, question)
	line, _ := bufio.NewReader(r.io.Stdin).ReadString('\n')
	line = strings.TrimSpace(line)
	if fold {
		return strings.EqualFold(line, want)
	}
	return line == want
}

// cleanTableNames picks the CleanTables named by --tables (all when
// empty), warning about names that are not cleanable, as Airflow does.
func (r *runner) cleanTableNames(tables []string) ([]string, error) {
	var known, unknown []string
	for _, t := range store.CleanTables {
		if len(tables) == 0 || slices.Contains(tables, t.Name) {
			known = append(known, t.Name)
		}
	}
	for _, t := range tables {
		if _, ok := store.CleanTableNamed(t); !ok {
			unknown = append(unknown, t)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		r.warnf("WARNING: The following table(s) are not valid choices and will be skipped: %s", pythonList(unknown))
	}
	if len(known) == 0 {
		return nil, windsock.Errorf(windsock.EINVALID, "No tables selected for db cleanup. Please choose valid table names.")
	}
	return known, nil
}

// pythonDate prints a time as Python's str() of an aware datetime.
func pythonDate(t time.Time) string {
	return t.Format("2006-01-02 15:04:05.999999-07:00")
}

// dbCleanCommand is Airflow's `db clean`: purge rows older than a
// timestamp from the tables that grow, moving them to archive tables
// first unless --skip-archive.
func (r *runner) dbCleanCommand() *cobra.Command {
	var (
		before                   string
		tables                   []string
		dryRun, skipArchive, yes bool
	)
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Purge old records in metastore tables",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if before == "" {
				return usageError{windsock.Errorf(windsock.EINVALID, "db clean: --clean-before-timestamp is required")}
			}
			names, err := r.cleanTableNames(tables)
			if err != nil {
				return err
			}
			cfg, err := r.loadConfig()
			if err != nil {
				return err
			}
			loc, err := cfg.DefaultTimezone()
			if err != nil {
				return err
			}
			cut, err := parseDate(before, loc)
			if err != nil {
				return err
			}
			out := r.io.Stdout
			if dryRun {
				fmt.Fprintln(out, "Performing dry run for db cleanup.")
				fmt.Fprintf(out, "Data prior to %s would be purged from tables %s with the following config:\n\n", pythonDate(cut), pythonSet(names))
				if err := printCleanConfig(r, names); err != nil {
					return err
				}
			} else if !yes {
				q := fmt.Sprintf("You have requested that we purge all data prior to %s for tables %s.\n"+
					"This is irreversible.  Consider backing up the tables first and / or doing a dry run with option --dry-run.\n"+
					"Enter 'delete rows' (without quotes) to proceed.", pythonDate(cut), pythonList(names))
				if !r.confirm(q, "delete rows", false) {
					return windsock.Errorf(windsock.EINVALID, "User did not confirm; exiting.")
				}
			}
			ctx := cmd.Context()
			st, err := r.openMigratedStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			at := r.clock().UTC()
			for _, name := range names {
				fmt.Fprintln(out)
				if dryRun {
					fmt.Fprintf(out, "Performing dry run for table %s\n", name)
				}
				fmt.Fprintf(out, "Checking table %s\n", name)
				n, err := st.DBClean(ctx, &store.DBCleanParams{Table: name, Before: cut, DryRun: dryRun, SkipArchive: skipArchive, At: at})
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Found %d rows meeting deletion criteria.\n", n)
				if n > 0 && !dryRun {
					fmt.Fprintf(out, "Performing Delete...\nMoving data to table %s\nFinished Performing Delete\n", store.ArchiveTableName(name, at))
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&before, "clean-before-timestamp", "", "the date or timestamp before which data is purged; without a time zone, in core.default_timezone (e.g. '2022-01-01 00:00:00+01:00')")
	f.StringSliceVarP(&tables, "tables", "t", nil, "comma-separated tables to clean (default: all): "+strings.Join(cleanTableList(), ", "))
	f.BoolVar(&dryRun, "dry-run", false, "count the rows that would be purged, change nothing")
	f.BoolVar(&skipArchive, "skip-archive", false, "do not keep the purged rows in an archive table")
	f.BoolVarP(&yes, "yes", "y", false, "do not prompt to confirm")
	f.BoolP("verbose", "v", false, "accepted for compatibility")
	return cmd
}

func cleanTableList() []string {
	names := make([]string, len(store.CleanTables))
	for i, t := range store.CleanTables {
		names[i] = t.Name
	}
	return names
}

// printCleanConfig prints the dry run's table of what each table keeps.
func printCleanConfig(r *runner, names []string) error {
	type row struct {
		Table           string  `json:"table"`
		RecencyColumn   string  `json:"recency_column"`
		KeepLast        bool    `json:"keep_last"`
		KeepLastFilters *string `json:"keep_last_filters"`
		KeepLastGroupBy *string `json:"keep_last_group_by"`
	}
	var rows []row
	for _, n := range names {
		t, _ := store.CleanTableNamed(n)
		rw := row{Table: t.Name, RecencyColumn: t.RecencyColumn, KeepLast: t.KeepLast}
		if t.KeepLast {
			filters, group := "['external_trigger = false']", "['dag_id']"
			rw.KeepLastFilters, rw.KeepLastGroupBy = &filters, &group
		}
		rows = append(rows, rw)
	}
	return printRows(r.io.Stdout, formatTable, rows)
}

// pythonSet prints names as Python prints a set of strings.
func pythonSet(names []string) string {
	l := pythonList(names)
	return "{" + l[1:len(l)-1] + "}"
}

// openMigratedStore opens the environment as every command does (migrating
// a schema that is behind, creating the default pool and roles) and hands
// over its store, which is all the db maintenance commands use.
func (r *runner) openMigratedStore(ctx context.Context) (store.Store, error) {
	env, err := r.openEnv(ctx, nil)
	if err != nil {
		return nil, err
	}
	return env.Store, nil
}

// archivedTables returns the archive tables of the chosen source tables.
func archivedTables(ctx context.Context, st store.Store, tables []string) ([]string, error) {
	all, err := st.ArchiveTableList(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range all {
		src, _ := store.ArchivedTable(a)
		if len(tables) == 0 || slices.Contains(tables, src) {
			out = append(out, a)
		}
	}
	return out, nil
}

// confirmDropArchives asks as Airflow's _confirm_drop_archives does.
func (r *runner) confirmDropArchives(names []string) error {
	what := "the following archived tables: " + strings.Join(names, ", ")
	if len(names) > 3 {
		what = fmt.Sprintf("%d archived tables prefixed with %s", len(names), store.ArchiveTablePrefix)
	}
	q := fmt.Sprintf("You have requested that we drop %s.\nThis is irreversible. Consider backing up the tables first.\n\n"+
		"Enter 'drop archived tables' (without quotes) to proceed.", what)
	if !r.confirm(q, "drop archived tables", false) {
		return windsock.Errorf(windsock.EINVALID, "User did not confirm; exiting.")
	}
	return nil
}

// dbExportArchivedCommand is Airflow's `db export-archived`: each archive
// table `db clean` left, written to <output-path>/<table>.csv.
func (r *runner) dbExportArchivedCommand() *cobra.Command {
	var (
		format, outDir    string
		tables            []string
		dropArchives, yes bool
	)
	cmd := &cobra.Command{
		Use:   "export-archived",
		Short: "Export archived data from the archive tables",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "csv" {
				return usageError{windsock.Errorf(windsock.EINVALID, "db export-archived: --export-format: invalid choice %q (choose from 'csv')", format)}
			}
			if outDir == "" {
				return usageError{windsock.Errorf(windsock.EINVALID, "db export-archived: --output-path is required")}
			}
			if fi, err := os.Stat(outDir); err != nil || !fi.IsDir() {
				return usageError{windsock.Errorf(windsock.EINVALID, "The directory '%s' does not exist!", outDir)}
			}
			ctx := cmd.Context()
			st, err := r.openMigratedStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			names, err := archivedTables(ctx, st, tables)
			if err != nil {
				return err
			}
			if dropArchives && len(names) > 0 && !yes {
				if err := r.confirmDropArchives(names); err != nil {
					return err
				}
			}
			dropped := 0
			for _, name := range names {
				if err := exportCSV(ctx, st, name, filepath.Join(outDir, name+".csv")); err != nil {
					return err
				}
				if dropArchives {
					if err := st.ArchiveTableDrop(ctx, name); err != nil {
						return err
					}
					dropped++
				}
			}
			_, err = fmt.Fprintf(r.io.Stdout, "Total exported tables: %d, Total dropped tables: %d\n", len(names), dropped)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "export-format", "csv", "the file format to export the archived data in: csv")
	f.StringVar(&outDir, "output-path", "", "the directory to write the files to; it must exist")
	f.StringSliceVarP(&tables, "tables", "t", nil, "comma-separated source tables whose archives to export (default: all)")
	f.BoolVar(&dropArchives, "drop-archives", false, "drop the archive tables after exporting them")
	f.BoolVarP(&yes, "yes", "y", false, "do not prompt to confirm")
	return cmd
}

// exportCSV writes an archive table to path, readable by its owner only:
// archived rows can hold secrets (event log extras, XComs).
func exportCSV(ctx context.Context, st store.Store, name, path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("export %s: %w", name, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export %s: %w", name, cerr)
		}
	}()
	w := csv.NewWriter(f)
	if err := st.ArchiveTableExport(ctx, name, w.Write); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

// dbDropArchivedCommand is Airflow's `db drop-archived`.
func (r *runner) dbDropArchivedCommand() *cobra.Command {
	var tables []string
	var yes bool
	cmd := &cobra.Command{
		Use:   "drop-archived",
		Short: "Drop archived tables created through the db clean command",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := r.openMigratedStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			names, err := archivedTables(ctx, st, tables)
			if err != nil {
				return err
			}
			if len(names) > 0 && !yes {
				if err := r.confirmDropArchives(names); err != nil {
					return err
				}
			}
			for _, name := range names {
				if err := st.ArchiveTableDrop(ctx, name); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(r.io.Stdout, "Total dropped tables: %d\n", len(names))
			return err
		},
	}
	cmd.Flags().StringSliceVarP(&tables, "tables", "t", nil, "comma-separated source tables whose archives to drop (default: all)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not prompt to confirm")
	return cmd
}

// dbResetCommand is Airflow's `db reset`: drop every table and build the
// schema again (unless --skip-init).
func (r *runner) dbResetCommand() *cobra.Command {
	var yes, skipInit bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Burn down and rebuild the metadata database",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes && !r.confirm("This will drop existing tables if they exist. Proceed? (y/n)", "y", true) {
				return windsock.Errorf(windsock.EINVALID, "Cancelled")
			}
			ctx := cmd.Context()
			st, err := r.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(r.io.Stdout, "Dropping tables that exist")
			if err := st.DBReset(ctx); err != nil {
				return err
			}
			if skipInit {
				return nil
			}
			if _, err := st.Migrate(ctx); err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			_, err = fmt.Fprintln(r.io.Stdout, "Initialization done")
			return err
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not prompt to confirm")
	cmd.Flags().BoolVarP(&skipInit, "skip-init", "s", false, "only remove tables; do not build the schema again")
	return cmd
}

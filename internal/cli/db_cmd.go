package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) dbCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Manage the metadata database"}
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the metadata database schema",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := r.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.Migrate(cmd.Context())
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			_, latest, err := st.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(r.io.Stdout, "Applied %d migration(s); schema is at version %d.\n", n, latest)
			return err
		},
	}
	check := &cobra.Command{
		Use:   "check",
		Short: "Check that the metadata database answers and its schema is current",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := r.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Ping(cmd.Context()); err != nil {
				return fmt.Errorf("metadata database does not answer: %w", err)
			}
			cur, latest, err := st.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			if cur != latest {
				return windsock.Errorf(windsock.EINVALID, "schema is at version %d, this binary needs %d: run `windsock db migrate`", cur, latest)
			}
			_, err = fmt.Fprintf(r.io.Stdout, "Connection successful; schema is at version %d.\n", cur)
			return err
		},
	}
	cmd.AddCommand(migrate, check, r.dbImportCommand(), r.dbExportCommand(), r.dbImportLogsCommand(), r.dbCheckMigrationsCommand(), r.dbCleanCommand(), r.dbExportArchivedCommand(), r.dbDropArchivedCommand(), r.dbResetCommand())
	// Airflow 2.10 still answers to its deprecated names for migrate;
	// scripts and images written for 2.x call them.
	for _, old := range []struct{ name, warning string }{
		{"init", "`db init` is deprecated.  Use `db migrate` instead to migrate the db"},
		{"upgrade", "`db upgrade` is deprecated. Use `db migrate` instead."},
	} {
		run := migrate.RunE
		warning := old.warning
		cmd.AddCommand(&cobra.Command{
			Use:   old.name,
			Short: "Deprecated name of db migrate",
			Args:  args(cobra.NoArgs),
			RunE: func(cmd *cobra.Command, a []string) error {
				fmt.Fprintf(r.io.Stderr, "DeprecationWarning: %s\n", warning)
				return run(cmd, a)
			},
		})
	}
	return cmd
}

// dbCheckMigrationsCommand is Airflow's db check-migrations, the readiness
// wait of container entrypoints (the Helm chart's wait-for-airflow-migrations):
// it succeeds once the schema is current, checking once a second for up to
// --migration-wait-timeout seconds.
func (r *runner) dbCheckMigrationsCommand() *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:   "check-migrations",
		Short: "Wait until the metadata database schema is current",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout < 0 {
				return usageError{fmt.Errorf("argument -t/--migration-wait-timeout: must be 0 or more")}
			}
			ctx := cmd.Context()
			st, err := r.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			deadline := time.Now().Add(time.Duration(timeout) * time.Second)
			for {
				cur, latest, err := st.MigrationStatus(ctx)
				if err == nil && cur == latest {
					_, err = fmt.Fprintln(r.io.Stdout, "DB migrations are done.")
					return err
				}
				if !time.Now().Before(deadline) {
					if err != nil {
						return err
					}
					return windsock.Errorf(windsock.EINVALID, "There are still unapplied migrations after %d seconds. Migration version in DB: %d | Migration version in this binary: %d", timeout, cur, latest)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Second): // Airflow checks once a second too
				}
			}
		},
	}
	cmd.Flags().IntVarP(&timeout, "migration-wait-timeout", "t", 60, "seconds to wait for the schema to be current")
	return cmd
}

// openStore opens the metadata database without migrating it, for the
// commands that manage the schema itself.
func (r *runner) openStore(ctx context.Context) (store.Store, error) {
	cfg, err := r.loadConfig()
	if err != nil {
		return nil, err
	}
	return app.OpenStore(ctx, cfg)
}

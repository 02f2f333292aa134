package cli

import (
	"context"
	"fmt"

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
	cmd.AddCommand(migrate, check, r.dbCleanCommand(), r.dbExportArchivedCommand(), r.dbDropArchivedCommand(), r.dbResetCommand())
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

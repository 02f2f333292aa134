package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/connprobe"
	"github.com/windsock/windsock/internal/windsock"
)

// connectionsTestCommand is Airflow's `connections test`: allowed only
// when core.test_connection is Enabled; exits 1 when the connection is
// missing or testing is disabled, 0 with the outcome printed otherwise.
func (r *runner) connectionsTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test CONN_ID",
		Short: "Test a connection",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if !strings.EqualFold(strings.TrimSpace(env.Config.Core.TestConnection), "Enabled") {
					return windsock.Errorf(windsock.EFORBIDDEN, "Testing connections is disabled in Windsock configuration. Contact your deployment admin to enable it.")
				}
				fmt.Fprintf(r.io.Stdout, "Retrieving connection: '%s'\n", a[0])
				c, err := env.Connections.Get(ctx, a[0])
				if windsock.ErrorCode(err) == windsock.ENOTFOUND {
					return windsock.Errorf(windsock.ENOTFOUND, "Connection not found.")
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(r.io.Stdout, "\nTesting...")
				ok, msg := connprobe.Probe(ctx, c)
				if ok {
					_, err = fmt.Fprintln(r.io.Stdout, "\nConnection success!")
				} else {
					_, err = fmt.Fprintf(r.io.Stdout, "\nConnection failed!\n%s\n", msg)
				}
				return err
			})
		},
	}
}

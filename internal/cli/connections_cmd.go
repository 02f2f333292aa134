package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) connectionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "connections", Short: "Manage connections (passwords and extras are encrypted at rest)"}
	cmd.AddCommand(r.connectionsAddCommand(), r.connectionsGetCommand(), r.connectionsDeleteCommand(),
		r.connectionsListCommand(), r.connectionsImportCommand(), r.connectionsExportCommand(), r.connectionsTestCommand())
	return cmd
}

func (r *runner) connectionsAddCommand() *cobra.Command {
	var uri, js string
	var c secrets.Connection
	cmd := &cobra.Command{
		Use:   "add CONN_ID",
		Short: "Add a connection from a URI, JSON, or separate fields",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			conn, err := connectionFromFlags(a[0], uri, js, &c, cmd.Flags().Changed("conn-type"))
			if err != nil {
				return err
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Connections.Add(cmd.Context(), conn); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Successfully added `conn_id`=%s : %s\n", conn.ConnID, maskURI(conn))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&uri, "conn-uri", "", "connection URI, e.g. postgres://user:pass@host:5432/db?param=x")
	f.StringVar(&js, "conn-json", "", `connection as JSON, e.g. {"conn_type": "http", "host": "example.com"}`)
	f.StringVar(&c.ConnType, "conn-type", "", "connection type (required unless --conn-uri or --conn-json)")
	f.StringVar(&c.Description, "conn-description", "", "description")
	f.StringVar(&c.Host, "conn-host", "", "host")
	f.StringVar(&c.Login, "conn-login", "", "login")
	f.StringVar(&c.Password, "conn-password", "", "password")
	f.StringVar(&c.Schema, "conn-schema", "", "schema")
	f.IntVar(&c.Port, "conn-port", 0, "port")
	f.StringVar(&c.Extra, "conn-extra", "", "extra fields as a JSON object")
	return cmd
}

func connectionFromFlags(id, uri, js string, fields *secrets.Connection, hasType bool) (*secrets.Connection, error) {
	given := 0
	for _, b := range []bool{uri != "", js != "", hasType} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, usageError{fmt.Errorf("give exactly one of --conn-uri, --conn-json or --conn-type (with the other --conn-* fields)")}
	}
	var conn *secrets.Connection
	var err error
	switch {
	case uri != "":
		conn, err = secrets.ParseURI(id, uri)
	case js != "":
		conn, err = secrets.ParseJSON(id, []byte(js))
	default:
		c := *fields
		c.ConnID = id
		conn = &c
	}
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "connection %q: %v", id, err)
	}
	return conn, nil
}

// maskURI renders a connection's URI with its secrets hidden.
func maskURI(c *secrets.Connection) string {
	return maskedConnection(c).URI()
}

// maskedPassword replaces secrets in CLI output; `connections export` is
// the way to read them back.
const maskedPassword = "***"

func (r *runner) connectionsGetCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get CONN_ID",
		Short: "Show a connection (environment variables first, then the database; password masked)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				ctx := cmd.Context()
				c, err := env.Connections.Get(ctx, a[0])
				if err != nil {
					return err
				}
				row := connectionRow{Connection: c}
				// The stored row describes c unless the environment overrides it.
				if stored, err := env.Connections.Stored(ctx, a[0]); err == nil && *stored == *c {
					if row.stored, err = env.Store.ConnectionGet(ctx, a[0]); err != nil {
						return err
					}
				}
				return connectionFields.print(r.io.Stdout, output, []connectionRow{row})
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func (r *runner) connectionsDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete CONN_ID",
		Short: "Delete a connection",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Connections.Delete(cmd.Context(), a[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Successfully deleted connection with `conn_id`=%s\n", a[0])
				return err
			})
		},
	}
}

func (r *runner) connectionsListCommand() *cobra.Command {
	var only string
	cmd := r.listCommand("list", "List connections stored in the database (passwords masked)", false,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			conns, err := env.Connections.List(ctx)
			if err != nil {
				return nil, err
			}
			stored, err := env.Store.ConnectionList(ctx)
			if err != nil {
				return nil, err
			}
			byID := map[string]*windsock.Connection{}
			for _, s := range stored {
				byID[s.ConnID] = s
			}
			rows := []connectionRow{}
			for _, c := range conns {
				if only == "" || c.ConnID == only {
					rows = append(rows, connectionRow{Connection: c, stored: byID[c.ConnID]})
				}
			}
			return connectionFields.records(rows), nil
		})
	cmd.Flags().StringVar(&only, "conn-id", "", "only this connection")
	return cmd
}

func (r *runner) connectionsImportCommand() *cobra.Command {
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import connections from a .json, .yaml or .env file",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			data, err := r.readInput(a[0])
			if err != nil {
				return err
			}
			conns, err := secrets.DecodeConnections(data, fileFormat("", a[0]))
			if err != nil {
				return windsock.Errorf(windsock.EINVALID, "%s: %v", a[0], err)
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				ctx := cmd.Context()
				for _, c := range conns {
					err := env.Connections.Add(ctx, c)
					if windsock.ErrorCode(err) == windsock.ECONFLICT {
						if !overwrite {
							fmt.Fprintf(r.io.Stdout, "Could not import connection %s: connection already exists.\n", c.ConnID)
							continue
						}
						err = env.Connections.Update(ctx, c)
					}
					if err != nil {
						return fmt.Errorf("import connection %s: %w", c.ConnID, err)
					}
					fmt.Fprintf(r.io.Stdout, "Imported connection %s\n", c.ConnID)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace connections that already exist")
	return cmd
}

func (r *runner) connectionsExportCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Export every connection, decrypted, as json, yaml or env (\"-\" for stdout)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ff := fileFormat(format, a[0])
			switch ff {
			case "json", "yaml", "env":
			default:
				return usageError{fmt.Errorf("--file-format must be json, yaml or env, got %q", format)}
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				conns, err := env.Connections.List(cmd.Context())
				if err != nil {
					return err
				}
				data, err := secrets.EncodeConnections(conns, ff)
				if err != nil {
					return err
				}
				if err := r.writeOutput(a[0], data); err != nil {
					return err
				}
				if a[0] != "-" {
					_, err = fmt.Fprintf(r.io.Stdout, "Connections successfully exported to %s.\n", a[0])
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "file-format", "", "json, yaml or env (default: from the file extension)")
	return cmd
}

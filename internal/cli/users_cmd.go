package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/windsock"
)

// generatedPasswordLength is the length of --use-random-password passwords.
const generatedPasswordLength = 20

func (r *runner) usersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage users, their roles and API tokens"}
	cmd.AddCommand(r.usersCreateCommand(), r.usersDeleteCommand(), r.usersListCommand(),
		r.usersRoleCommand(true), r.usersRoleCommand(false), r.usersTokenCommand(),
		r.usersResetPasswordCommand(), r.usersExportCommand(), r.usersImportCommand())
	return cmd
}

func (r *runner) usersCreateCommand() *cobra.Command {
	var nu auth.NewUser
	var role string
	var random bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a user",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var missing []string
			for _, f := range []string{"username", "firstname", "lastname", "email", "role"} {
				if !cmd.Flags().Changed(f) {
					missing = append(missing, "--"+f)
				}
			}
			if len(missing) > 0 {
				return usageError{fmt.Errorf("users create: missing %s", strings.Join(missing, ", "))}
			}
			if random == (nu.Password != "") {
				return usageError{fmt.Errorf("users create: give exactly one of --password and --use-random-password")}
			}
			if random {
				var err error
				if nu.Password, err = auth.GeneratePassword(generatedPasswordLength); err != nil {
					return err
				}
			}
			nu.Roles = []string{role}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if _, err := auth.CreateUser(cmd.Context(), env.Store, nu, env.Clock()); err != nil {
					return err
				}
				if random {
					fmt.Fprintf(r.io.Stdout, "Password: %s\n(shown once: it is not stored)\n", nu.Password)
				}
				_, err := fmt.Fprintf(r.io.Stdout, "User %q created with role %q\n", nu.Username, role)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&nu.Username, "username", "u", "", "username of the user")
	f.StringVarP(&nu.Password, "password", "p", "", "password of the user")
	f.StringVarP(&nu.FirstName, "firstname", "f", "", "first name of the user")
	f.StringVarP(&nu.LastName, "lastname", "l", "", "last name of the user")
	f.StringVarP(&nu.Email, "email", "e", "", "email of the user")
	f.StringVarP(&role, "role", "r", "", "role of the user (Admin, Op, User, Viewer, Public or a custom role)")
	f.BoolVar(&random, "use-random-password", false, "generate a random password and print it once")
	return cmd
}

func (r *runner) usersDeleteCommand() *cobra.Command {
	var username string
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete a user",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" {
				return usageError{fmt.Errorf("users delete: --username is required")}
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Store.UserDelete(cmd.Context(), username); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "User %q deleted\n", username)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "", "username of the user to delete")
	return cmd
}

func (r *runner) usersListCommand() *cobra.Command {
	return r.listCommand("list", "List users", false,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			users, _, err := env.Store.UserList(ctx, nil)
			if err != nil {
				return nil, err
			}
			return userListFields.records(users), nil
		})
}

// usersRoleCommand is add-role (add true) or remove-role.
func (r *runner) usersRoleCommand(add bool) *cobra.Command {
	var username, role string
	use, short := "remove-role", "Remove a role from a user"
	if add {
		use, short = "add-role", "Add a role to a user"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" || role == "" {
				return usageError{fmt.Errorf("users %s: --username and --role are required", use)}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if add {
					err := env.Store.UserAddRole(ctx, username, role)
					if windsock.ErrorCode(err) == windsock.ECONFLICT {
						return windsock.Errorf(windsock.ECONFLICT, "User %q is already a member of role %q", username, role)
					}
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(r.io.Stdout, "User %q added to role %q\n", username, role)
					return err
				}
				if _, err := env.Store.UserGet(ctx, username); err != nil {
					return err
				}
				if err := env.Store.UserRemoveRole(ctx, username, role); err != nil {
					if windsock.ErrorCode(err) == windsock.ENOTFOUND {
						return windsock.Errorf(windsock.ENOTFOUND, "User %q is not a member of role %q", username, role)
					}
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "User %q removed from role %q\n", username, role)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "", "username of the user")
	cmd.Flags().StringVarP(&role, "role", "r", "", "name of the role")
	return cmd
}

// usersTokenCommand manages API tokens: Windsock's addition to Airflow's
// users commands.
func (r *runner) usersTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage a user's API tokens (bearer credentials for the REST API)"}
	var username, name string
	var expiresIn time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token and print it once",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if username == "" || name == "" {
				return usageError{fmt.Errorf("users token create: --username and --name are required")}
			}
			if expiresIn < 0 {
				return usageError{fmt.Errorf("users token create: --expires-in must be positive")}
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				now := env.Clock()
				var exp *time.Time
				if expiresIn > 0 {
					t := now.Add(expiresIn)
					exp = &t
				}
				token, t, err := auth.CreateAPIToken(cmd.Context(), env.Store, username, name, exp, now)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(r.io.Stdout, "%s\nToken %d %q created for user %q; it is shown once: use it as \"Authorization: Bearer <token>\"\n",
					token, t.ID, t.Name, username)
				return err
			})
		},
	}
	create.Flags().StringVarP(&username, "username", "u", "", "owner of the token")
	create.Flags().StringVar(&name, "name", "", "name of the token (unique per user)")
	create.Flags().DurationVar(&expiresIn, "expires-in", 0, "lifetime of the token, e.g. 720h (default: no expiry)")

	var listUser string
	list := r.listCommand("list", "List a user's API tokens (never the tokens themselves)", false,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			if listUser == "" {
				return nil, usageError{fmt.Errorf("users token list: --username is required")}
			}
			u, err := env.Store.UserGet(ctx, listUser)
			if err != nil {
				return nil, err
			}
			tokens, err := env.Store.APITokenList(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			return apiTokenFields.records(tokens), nil
		})
	list.Flags().StringVarP(&listUser, "username", "u", "", "owner of the tokens")

	var revokeUser string
	var id int64
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke an API token",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if revokeUser == "" || id <= 0 {
				return usageError{fmt.Errorf("users token revoke: --username and --id are required")}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				u, err := env.Store.UserGet(ctx, revokeUser)
				if err != nil {
					return err
				}
				if err := env.Store.APITokenDelete(ctx, u.ID, id); err != nil {
					return err
				}
				_, err = fmt.Fprintf(r.io.Stdout, "Token %d of user %q revoked\n", id, revokeUser)
				return err
			})
		},
	}
	revoke.Flags().StringVarP(&revokeUser, "username", "u", "", "owner of the token")
	revoke.Flags().Int64Var(&id, "id", 0, "id of the token (see users token list)")
	cmd.AddCommand(create, list, revoke)
	return cmd
}

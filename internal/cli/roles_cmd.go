package cli

import (
	"context"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) rolesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Manage roles and their permissions"}
	create := &cobra.Command{
		Use:   "create ROLE...",
		Short: "Create roles (existing ones are left as they are)",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				for _, name := range a {
					err := env.Store.RoleCreate(ctx, &windsock.Role{Name: name})
					if err != nil && windsock.ErrorCode(err) != windsock.ECONFLICT {
						return err
					}
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Added %d role(s)\n", len(a))
				return err
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete ROLE...",
		Short: "Delete roles",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if err := checkRoles(ctx, env, a); err != nil {
					return err
				}
				for _, name := range a {
					if err := env.Store.RoleDelete(ctx, name); err != nil {
						return err
					}
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Deleted %d role(s)\n", len(a))
				return err
			})
		},
	}
	cmd.AddCommand(create, del, r.rolesListCommand(), r.rolesPermsCommand(true), r.rolesPermsCommand(false))
	return cmd
}

// checkRoles fails naming the first role that does not exist.
func checkRoles(ctx context.Context, env *app.Environment, names []string) error {
	have, err := env.Store.RolePermissionsList(ctx, names)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := have[n]; !ok {
			return windsock.Errorf(windsock.ENOTFOUND, "Role named %q does not exist", n)
		}
	}
	return nil
}

func (r *runner) rolesListCommand() *cobra.Command {
	var output string
	var withPerms bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List roles, optionally with their permissions",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				all, err := env.Store.RolePermissionsList(ctx, nil)
				if err != nil {
					return err
				}
				names := make([]string, 0, len(all))
				for n := range all {
					names = append(names, n)
				}
				sort.Strings(names)
				if !withPerms {
					return roleListFields.print(r.io.Stdout, output, names)
				}
				// One row per role and resource, its actions joined, as
				// Airflow's roles list -p prints them.
				rows := []rolePermission{}
				for _, n := range names {
					byResource := map[string][]string{}
					var resources []string
					for _, p := range all[n] {
						if _, ok := byResource[p.Resource]; !ok {
							resources = append(resources, p.Resource)
						}
						byResource[p.Resource] = append(byResource[p.Resource], p.Action)
					}
					sort.Strings(resources)
					for _, res := range resources {
						rows = append(rows, rolePermission{n, res, byResource[res]})
					}
				}
				return rolePermissionFields.print(r.io.Stdout, output, rows)
			})
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVarP(&withPerms, "permission", "p", false, "show each role's permissions")
	return cmd
}

// rolesPermsCommand is add-perms (add true) or del-perms.
func (r *runner) rolesPermsCommand(add bool) *cobra.Command {
	var resources, actions []string
	use, short, verb := "del-perms ROLE...", "Remove permissions from roles", "Deleted"
	if add {
		use, short, verb = "add-perms ROLE...", "Add permissions to roles", "Added"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(resources) == 0 || len(actions) == 0 {
				return usageError{fmt.Errorf("%s: --resource and --action are required", cmd.Name())}
			}
			var perms []windsock.Permission
			for _, res := range resources {
				for _, act := range actions {
					p := windsock.Permission{Action: act, Resource: res}
					if err := auth.CheckPermission(p); err != nil {
						return err
					}
					perms = append(perms, p)
				}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if err := checkRoles(ctx, env, a); err != nil {
					return err
				}
				for _, role := range a {
					var err error
					if add {
						err = env.Store.RolePermissionsAdd(ctx, role, perms)
					} else {
						err = env.Store.RolePermissionsRemove(ctx, role, perms)
					}
					if err != nil {
						return err
					}
					for _, p := range perms {
						fmt.Fprintf(r.io.Stdout, "%s %q on %q to role %q\n", verb, p.Action, p.Resource, role)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVarP(&resources, "resource", "r", nil, "resources, e.g. DAGs or DAG:etl (repeat or comma-separate)")
	cmd.Flags().StringSliceVarP(&actions, "action", "a", nil, "actions: can_read, can_edit, can_create, can_delete, menu_access")
	return cmd
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) variablesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "variables", Short: "Manage variables (values are encrypted at rest)"}

	var def string
	var hasDefault, deserialize bool
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a variable's value (environment variables first, then the database)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			hasDefault = cmd.Flags().Changed("default")
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				v, err := env.Variables.Get(cmd.Context(), a[0])
				if windsock.ErrorCode(err) == windsock.ENOTFOUND && hasDefault {
					v, err = def, nil
				}
				if err != nil {
					return err
				}
				if deserialize {
					var x any
					if err := windsock.DecodeJSON([]byte(v), &x); err != nil {
						return windsock.Errorf(windsock.EINVALID, "variable %q is not valid JSON: %v", a[0], err)
					}
					b, _ := json.MarshalIndent(x, "", "  ")
					v = string(b)
				}
				_, err = fmt.Fprintln(r.io.Stdout, v)
				return err
			})
		},
	}
	get.Flags().StringVarP(&def, "default", "d", "", "value to print when the variable does not exist")
	get.Flags().BoolVarP(&deserialize, "json", "j", false, "deserialize the value as JSON and pretty-print it")

	var desc string
	var serialize bool
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set a variable",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			val := a[1]
			if serialize {
				var x any
				if err := windsock.DecodeJSON([]byte(val), &x); err != nil {
					return windsock.Errorf(windsock.EINVALID, "value is not valid JSON: %v", err)
				}
				b, _ := json.Marshal(x)
				val = string(b)
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Variables.Set(cmd.Context(), a[0], val, desc); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Variable %s created\n", a[0])
				return err
			})
		},
	}
	set.Flags().StringVar(&desc, "description", "", "variable description")
	set.Flags().BoolVarP(&serialize, "json", "j", false, "check the value is JSON and store it normalized")

	del := &cobra.Command{
		Use:   "delete KEY",
		Short: "Delete a variable",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Variables.Delete(cmd.Context(), a[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Variable %s deleted\n", a[0])
				return err
			})
		},
	}

	list := r.listCommand("list", "List variable keys (values are not shown)", false,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			vars, err := env.Store.VariableList(ctx)
			if err != nil {
				return nil, err
			}
			return variableListFields.records(vars), nil
		})

	var onExisting string
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import variables from a JSON file ({\"key\": value})",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			switch onExisting {
			case "overwrite", "fail", "skip":
			default:
				return usageError{fmt.Errorf("--action-on-existing-key must be overwrite, fail or skip, got %q", onExisting)}
			}
			data, err := r.readInput(a[0])
			if err != nil {
				return err
			}
			vars, err := secrets.DecodeVariables(data)
			if err != nil {
				return windsock.Errorf(windsock.EINVALID, "%s: %v", a[0], err)
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				return r.importVariables(cmd, env, vars, onExisting)
			})
		},
	}
	imp.Flags().StringVarP(&onExisting, "action-on-existing-key", "a", "overwrite", "what to do when a key exists: overwrite, fail or skip")

	exp := &cobra.Command{
		Use:   "export FILE",
		Short: "Export every variable, decrypted, to a JSON file (\"-\" for stdout)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				vars, err := env.Variables.List(cmd.Context())
				if err != nil {
					return err
				}
				data, err := secrets.EncodeVariables(vars)
				if err != nil {
					return err
				}
				if err := r.writeOutput(a[0], data); err != nil {
					return err
				}
				if a[0] != "-" {
					_, err = fmt.Fprintf(r.io.Stdout, "%d variables successfully exported to %s\n", len(vars), a[0])
				}
				return err
			})
		},
	}
	cmd.AddCommand(get, set, del, list, imp, exp)
	return cmd
}

func (r *runner) importVariables(cmd *cobra.Command, env *app.Environment, vars []secrets.Variable, onExisting string) error {
	ctx := cmd.Context()
	existing := map[string]bool{}
	stored, err := env.Store.VariableList(ctx)
	if err != nil {
		return err
	}
	for _, v := range stored {
		existing[v.Key] = true
	}
	if onExisting == "fail" {
		for _, v := range vars {
			if existing[v.Key] {
				return windsock.Errorf(windsock.ECONFLICT, "variable %q already exists; nothing was imported", v.Key)
			}
		}
	}
	n := 0
	for _, v := range vars {
		if existing[v.Key] && onExisting == "skip" {
			continue
		}
		if err := env.Variables.Set(ctx, v.Key, v.Value, v.Description); err != nil {
			return fmt.Errorf("import variable %q: %w", v.Key, err)
		}
		n++
	}
	_, err = fmt.Fprintf(r.io.Stdout, "%d of %d variables successfully updated.\n", n, len(vars))
	return err
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/windsock"
)

// poolFileEntry is one pool in Airflow's pools import/export JSON.
type poolFileEntry struct {
	Slots           *int   `json:"slots"`
	Description     string `json:"description"`
	IncludeDeferred bool   `json:"include_deferred"`
}

func (r *runner) poolsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "pools", Short: "Manage pools"}

	var deferred bool
	set := &cobra.Command{
		Use:   "set NAME SLOTS DESCRIPTION",
		Short: "Create or update a pool",
		Args:  args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			slots, err := strconv.Atoi(a[1])
			if err != nil || slots < 0 {
				return windsock.Errorf(windsock.EINVALID, "slots must be a whole number >= 0, got %q", a[1])
			}
			if err := checkPoolName(a[0]); err != nil {
				return err
			}
			p := &windsock.Pool{Pool: a[0], Slots: slots, Description: a[2], IncludeDeferred: deferred}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Store.PoolUpsert(cmd.Context(), p); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Pool %s created\n", p.Pool)
				return err
			})
		},
	}
	set.Flags().BoolVar(&deferred, "include-deferred", false, "count deferred tasks against the pool's slots")

	var getOutput string
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a pool",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(getOutput); err != nil {
				return err
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				p, err := env.Store.PoolGet(cmd.Context(), a[0])
				if err != nil {
					return err
				}
				return poolFields.print(r.io.Stdout, getOutput, []*windsock.Pool{p})
			})
		},
	}
	outputFlag(get, &getOutput)

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a pool",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if a[0] == windsock.DefaultPoolName {
				return windsock.Errorf(windsock.EINVALID, "%s cannot be deleted", windsock.DefaultPoolName)
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				if err := env.Store.PoolDelete(cmd.Context(), a[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Pool %s deleted\n", a[0])
				return err
			})
		},
	}

	list := r.listCommand("list", "List pools", false,
		func(ctx context.Context, env *app.Environment, _ *dagprocessor.Report) (any, error) {
			pools, err := env.Store.PoolList(ctx)
			if err != nil {
				return nil, err
			}
			return poolFields.records(pools), nil
		})

	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Create or update pools from a JSON file ({\"name\": {\"slots\": 5, \"description\": \"...\"}})",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			data, err := r.readInput(a[0])
			if err != nil {
				return err
			}
			pools, err := decodePools(data)
			if err != nil {
				return windsock.Errorf(windsock.EINVALID, "%s: %v", a[0], err)
			}
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				for _, p := range pools {
					if err := env.Store.PoolUpsert(cmd.Context(), p); err != nil {
						return fmt.Errorf("import pool %s: %w", p.Pool, err)
					}
				}
				_, err := fmt.Fprintf(r.io.Stdout, "Uploaded %d pool(s)\n", len(pools))
				return err
			})
		},
	}

	exp := &cobra.Command{
		Use:   "export FILE",
		Short: "Export every pool to a JSON file (\"-\" for stdout)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return r.withEnv(cmd.Context(), func(env *app.Environment) error {
				pools, err := env.Store.PoolList(cmd.Context())
				if err != nil {
					return err
				}
				out := map[string]poolFileEntry{}
				for _, p := range pools {
					slots := p.Slots
					out[p.Pool] = poolFileEntry{Slots: &slots, Description: p.Description, IncludeDeferred: p.IncludeDeferred}
				}
				data, err := json.MarshalIndent(out, "", "    ")
				if err != nil {
					return err
				}
				if err := r.writeOutput(a[0], append(data, '\n')); err != nil {
					return err
				}
				if a[0] != "-" {
					_, err = fmt.Fprintf(r.io.Stdout, "Exported %d pools to %s\n", len(pools), a[0])
				}
				return err
			})
		},
	}
	cmd.AddCommand(set, get, del, list, imp, exp)
	return cmd
}

// checkPoolName applies Airflow's rule for pool names: at most 256
// characters of letters, digits, '_', '.', '-'.
func checkPoolName(name string) error {
	if name == "" || len(name) > 256 {
		return windsock.Errorf(windsock.EINVALID, "pool name must be 1 to 256 characters, got %d", len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return windsock.Errorf(windsock.EINVALID, "pool name %q may only hold letters, digits, '_', '.' and '-'", name)
		}
	}
	return nil
}

// decodePools reads Airflow's pools JSON: {"name": {"slots": n, "description": "...", "include_deferred": false}}.
func decodePools(data []byte) ([]*windsock.Pool, error) {
	var in map[string]poolFileEntry
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("invalid pools JSON: %w", err)
	}
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	pools := make([]*windsock.Pool, 0, len(in))
	for _, n := range names {
		e := in[n]
		if err := checkPoolName(n); err != nil {
			return nil, err
		}
		if e.Slots == nil || *e.Slots < 0 {
			return nil, fmt.Errorf("pool %q: slots must be a whole number >= 0", n)
		}
		pools = append(pools, &windsock.Pool{Pool: n, Slots: *e.Slots, Description: e.Description, IncludeDeferred: e.IncludeDeferred})
	}
	return pools, nil
}

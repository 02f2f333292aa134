package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/config"
)

func (r *runner) configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "View the effective configuration"}
	var section string
	var sources, sensitive bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every option with its effective value, in windsock.cfg form",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := r.loadConfig()
			if err != nil {
				return err
			}
			return writeConfig(r, cfg, section, sources, sensitive)
		},
	}
	list.Flags().StringVar(&section, "section", "", "only this section")
	list.Flags().BoolVar(&sources, "include-sources", false, "show where each value comes from (default, file or env)")
	list.Flags().BoolVar(&sensitive, "include-sensitive", false, "show secrets instead of masking them")

	var getSensitive bool
	get := &cobra.Command{
		Use:   "get-value SECTION OPTION",
		Short: "Print the effective value of one option",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			cfg, err := r.loadConfig()
			if err != nil {
				return err
			}
			opt, err := cfg.Get(a[0], a[1])
			if err != nil {
				return err
			}
			v := opt.Display()
			if getSensitive {
				v = opt.Value
			}
			_, err = fmt.Fprintln(r.io.Stdout, v)
			return err
		},
	}
	get.Flags().BoolVar(&getSensitive, "include-sensitive", false, "show a secret instead of masking it")
	cmd.AddCommand(list, get)
	return cmd
}

func writeConfig(r *runner, cfg *config.Config, section string, sources, sensitive bool) error {
	var b strings.Builder
	current := ""
	for _, o := range cfg.Options() {
		if section != "" && o.Section != section {
			continue
		}
		if o.Section != current {
			if current != "" {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "[%s]\n", o.Section)
			current = o.Section
		}
		v := o.Display()
		if sensitive {
			v = o.Value
		}
		if sources {
			fmt.Fprintf(&b, "# source: %s\n", o.Source)
		}
		fmt.Fprintf(&b, "%s = %s\n", o.Name, v)
	}
	if section != "" && current == "" {
		return fmt.Errorf("section %q has no options", section)
	}
	_, err := fmt.Fprint(r.io.Stdout, b.String())
	return err
}

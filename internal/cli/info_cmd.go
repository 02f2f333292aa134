package cli

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// infoRow is one line of `info`: Airflow prints each section as a table of
// key and value.
type infoRow struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type infoSection struct {
	Title string
	Rows  []infoRow
}

// infoCommand is Airflow's `info`: the version, the configuration that
// matters for a bug report, the system and the paths.
func (r *runner) infoCommand() *cobra.Command {
	var output string
	var anonymize bool
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show information about the current Windsock and environment",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			cfg, err := r.loadConfig()
			if err != nil {
				return err
			}
			anon := func(s string) string { return s }
			if anonymize {
				anon = func(s string) string {
					if s == "" {
						return s
					}
					return "..."
				}
			}
			exe, _ := os.Executable()
			host, _ := os.Hostname()
			self := r.program()
			_, lookErr := exec.LookPath("airflow")
			sections := []infoSection{
				{"Apache Airflow", []infoRow{
					{"version", Version},
					{"executor", cfg.Core.Executor},
					{"task_logging_handler", "windsock.tasklog"},
					{"sql_alchemy_conn", anon(redactPassword(cfg.Database.SQLAlchemyConn))},
					{"dags_folder", anon(cfg.Core.DagsFolder)},
					{"plugins_folder", anon(cfg.Core.PluginsFolder)},
					{"base_log_folder", anon(cfg.Logging.BaseLogFolder)},
					{"remote_base_log_folder", anon(cfg.Logging.RemoteBaseLogFolder)},
				}},
				{"System info", []infoRow{
					{"OS", runtime.GOOS},
					{"architecture", runtime.GOARCH},
					{"hostname", anon(host)},
					{"go_version", runtime.Version()},
					{"windsock_location", anon(exe)},
				}},
				{"Paths info", []infoRow{
					{"airflow_home", anon(cfg.Home)},
					{"system_path", anon(os.Getenv("PATH"))},
					{"airflow_on_path", cellText(normalize(lookErr == nil || strings.HasSuffix(self, "airflow")), formatTable)},
				}},
			}
			if output == formatJSON || output == formatYAML {
				all := map[string]map[string]string{}
				for _, s := range sections {
					m := map[string]string{}
					for _, row := range s.Rows {
						m[row.Key] = row.Value
					}
					all[s.Title] = m
				}
				return printRows(r.io.Stdout, output, []map[string]map[string]string{all})
			}
			for i, s := range sections {
				if i > 0 {
					fmt.Fprintln(r.io.Stdout)
				}
				fmt.Fprintln(r.io.Stdout, s.Title)
				if err := printRows(r.io.Stdout, output, s.Rows); err != nil {
					return err
				}
			}
			return nil
		},
	}
	outputFlag(cmd, &output)
	cmd.Flags().BoolVar(&anonymize, "anonymize", false, "hide paths and host names, to share the output publicly")
	cmd.Flags().Bool("file-io", false, "accepted for compatibility: nothing is uploaded")
	return cmd
}

// redactPassword hides the password of a database URL.
func redactPassword(conn string) string {
	u, err := url.Parse(conn)
	if err != nil || u.User == nil {
		return conn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

// cheatSheetCommand is Airflow's `cheat-sheet`: every command with its
// one-line description, grouped.
func (r *runner) cheatSheetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cheat-sheet",
		Short: "Display cheat sheet",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			root := cmd.Root()
			var misc []*cobra.Command
			var groups []*cobra.Command
			for _, c := range root.Commands() {
				if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
					continue
				}
				if c.HasSubCommands() {
					groups = append(groups, c)
				} else {
					misc = append(misc, c)
				}
			}
			sort.Slice(groups, func(i, j int) bool { return groups[i].Name() < groups[j].Name() })
			var b strings.Builder
			section := func(title string, cmds []*cobra.Command) {
				fmt.Fprintf(&b, "%s\n", title)
				width := 0
				for _, c := range cmds {
					width = max(width, len(c.CommandPath()))
				}
				for _, c := range cmds {
					fmt.Fprintf(&b, "%-*s | %s\n", width, c.CommandPath(), c.Short)
				}
				b.WriteString("\n")
			}
			section("Miscellaneous commands", misc)
			for _, g := range groups {
				var subs []*cobra.Command
				for _, c := range g.Commands() {
					if !c.Hidden {
						subs = append(subs, c)
					}
				}
				section(g.Short, subs)
			}
			_, err := fmt.Fprint(r.io.Stdout, strings.TrimRight(b.String(), "\n")+"\n")
			return err
		},
	}
}

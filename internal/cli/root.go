// Package cli is Windsock's command tree, modelled on Airflow's CLI. It is
// the one place that wires concrete adapters together (through package app);
// cmd/windsock only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/windsock"
)

// Version is Windsock's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// IO is what a command reads and writes; tests and the control plane pass
// their own.
type IO struct {
	// Program is the name the binary was invoked as (os.Args[0]):
	// "airflow" through a link of that name. Empty means "windsock".
	Program string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Environ []string
}

// runner carries the IO into every command and opens the environment on
// demand.
type runner struct {
	io    IO
	clock func() time.Time
	// argv is the command line after the program name, for the audit log.
	argv []string
}

// program returns the name the binary was invoked as.
func (r *runner) program() string {
	if r.io.Program == "" {
		return "windsock"
	}
	return r.io.Program
}

// warnf prints a warning line on stderr.
func (r *runner) warnf(format string, a ...any) {
	fmt.Fprintf(r.io.Stderr, format+"\n", a...)
}

// usageError marks errors in how a command was called. Main prints them as
// Airflow's argparse does: the command's usage line, then
// "<command>: error: <message>", and exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// silentExit ends a command with an exit code and no error message, for
// commands whose output already says what went wrong (Airflow's
// sys.exit(1) after printing).
type silentExit struct{ code int }

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the command line args (without the program name) and returns
// the process exit code. Errors are printed as one line on stderr; usage
// errors as a usage line and an error line.
func Main(ctx context.Context, args []string, stdio IO) int {
	r := &runner{io: stdio, clock: time.Now, argv: args}
	root := r.rootCommand()
	rejectUnknownSubcommands(root)
	acceptVerbose(root)
	root.SetArgs(args)
	root.SetIn(stdio.Stdin)
	root.SetOut(stdio.Stdout)
	root.SetErr(stdio.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return se.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(stdio.Stderr, "usage: %s\n%s: error: %s\n", usageLine(cmd), cmd.CommandPath(), strings.ReplaceAll(ue.Error(), "\n", "; "))
		return exitUsage
	}
	msg := windsock.ErrorMessage(err)
	if windsock.ErrorCode(err) == windsock.EINTERNAL {
		// Show the detail: on the command line the user is the operator.
		msg = err.Error()
	}
	fmt.Fprintf(stdio.Stderr, "Error: %s\n", strings.ReplaceAll(msg, "\n", "; "))
	return exitError
}

// usageLine is a command's argparse-style usage: "windsock dags [-h]
// COMMAND ..." for a group, its use line for a command.
func usageLine(cmd *cobra.Command) string {
	if cmd.HasAvailableSubCommands() {
		return cmd.CommandPath() + " [-h] COMMAND ..."
	}
	return cmd.UseLine()
}

// rejectUnknownSubcommands makes every command group fail with a usage
// error when the subcommand is missing or unknown: cobra would print the
// group's help and exit 0, where Airflow's argparse exits 2.
func rejectUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		rejectUnknownSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		if len(a) == 0 {
			name := "COMMAND"
			if !cmd.HasParent() {
				name = "GROUP_OR_COMMAND"
			}
			return usageError{fmt.Errorf("the following arguments are required: %s", name)}
		}
		var choices []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				choices = append(choices, "'"+c.Name()+"'")
			}
		}
		return usageError{fmt.Errorf("argument COMMAND: invalid choice: '%s' (choose from %s)", a[0], strings.Join(choices, ", "))}
	}
}

// acceptVerbose gives every command that runs Airflow's -v/--verbose
// (ARG_VERBOSE, on nearly every Airflow command), so scripts that pass it
// do not stop at a usage error. Windsock's log level comes from
// logging.logging_level, so the flag changes nothing.
func acceptVerbose(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		acceptVerbose(c)
	}
	if !cmd.Runnable() || !cmd.HasParent() || cmd.HasSubCommands() {
		return
	}
	if cmd.Flags().Lookup("verbose") == nil && cmd.Flags().ShorthandLookup("v") == nil {
		cmd.Flags().BoolP("verbose", "v", false, "accepted for compatibility: the log level is logging.logging_level")
	}
}

func (r *runner) rootCommand() *cobra.Command {
	root := &cobra.Command{
		// Named as invoked, so that help reads "airflow ..." through a
		// link named airflow.
		Use:           filepath.Base(r.program()),
		Short:         "Windsock runs Airflow-style workflows from one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })
	root.PersistentPreRun = func(cmd *cobra.Command, a []string) { r.recordAudit(cmd.Context(), cmd, a) }
	root.AddCommand(
		r.versionCommand(),
		r.configCommand(),
		r.dbCommand(),
		r.dagsCommand(),
		r.tasksCommand(),
		r.variablesCommand(),
		r.connectionsCommand(),
		r.poolsCommand(),
		r.usersCommand(),
		r.rolesCommand(),
		r.standaloneCommand(),
		r.schedulerCommand(),
		r.webserverCommand(),
		r.workerCommand(),
		r.dagProcessorCommand(),
		r.jobsCommand(),
		r.healthCommand(),
		r.cheatSheetCommand(),
		r.infoCommand(),
		r.datapipelineCommand(),
		r.controlPlaneCommand(),
		r.envCommand(),
	)
	return root
}

// flagError words pflag's unknown-flag errors as argparse does.
func flagError(err error) error {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "unknown flag: "); ok {
		return fmt.Errorf("unrecognized arguments: %s", f)
	}
	if _, f, ok := strings.Cut(msg, "unknown shorthand flag: "); ok {
		if _, in, ok := strings.Cut(f, " in "); ok {
			return fmt.Errorf("unrecognized arguments: %s", in)
		}
	}
	return err
}

// args wraps cobra's positional-argument checks so their errors count as
// usage errors, worded as argparse words them from the placeholders in the
// command's Use ("trigger DAG_ID", "test DAG_ID [LOGICAL_DATE]").
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{positionalError(cmd, a, err)}
		}
		return nil
	}
}

func positionalError(cmd *cobra.Command, a []string, err error) error {
	var required []string
	most := 0 // -1: any number
	for _, p := range strings.Fields(cmd.Use)[1:] {
		switch {
		case strings.HasSuffix(p, "..."):
			most = -1
			if !strings.HasPrefix(p, "[") {
				required = append(required, strings.TrimSuffix(p, "..."))
			}
		case strings.HasPrefix(p, "["):
			if most >= 0 {
				most++
			}
		default:
			required = append(required, p)
			if most >= 0 {
				most++
			}
		}
	}
	switch {
	case len(a) < len(required):
		return fmt.Errorf("the following arguments are required: %s", strings.Join(required[len(a):], ", "))
	case most >= 0 && len(a) > most:
		return fmt.Errorf("unrecognized arguments: %s", strings.Join(a[most:], " "))
	}
	return err
}

func (r *runner) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the version",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(r.io.Stdout, Version)
			return err
		},
	}
}

// loadConfig finds WINDSOCK_HOME, creates it and its config file on first
// use, and loads the effective configuration.
func (r *runner) loadConfig() (*config.Config, error) {
	home, err := config.Home(r.io.Environ)
	if err != nil {
		return nil, err
	}
	// A home the user cannot write (a read-only mount, every setting in
	// the environment) is used as it is: commands that only read must
	// work there, so nothing is generated into it.
	if writable(home) {
		if _, err := config.EnsureFile(home, r.io.Environ); err != nil {
			return nil, fmt.Errorf("prepare %s: %w", home, err)
		}
	}
	cfg, err := config.Load(home, r.io.Environ)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%v", err)
	}
	return cfg, nil
}

// openEnv loads the config and opens the environment (migrating the store).
func (r *runner) openEnv(ctx context.Context, logger *slog.Logger) (*app.Environment, error) {
	cfg, err := r.loadConfig()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, app.Options{Logger: logger, Clock: r.clock, Environ: r.io.Environ, Version: Version})
}

// openEnvWith opens the environment of a loaded config, without a logger.
func (r *runner) openEnvWith(ctx context.Context, cfg *config.Config) (*app.Environment, error) {
	return app.Open(ctx, cfg, app.Options{Clock: r.clock, Environ: r.io.Environ, Version: Version})
}

// withEnv runs fn with an open environment and closes it afterwards.
func (r *runner) withEnv(ctx context.Context, fn func(env *app.Environment) error) error {
	env, err := r.openEnv(ctx, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	return fn(env)
}

// listCommand builds a command without arguments that prints rows in the
// -o format. rows runs with an open environment; with parse set, the DAG
// folder is parsed into the store first and the pass's report handed over.
// rows returns []record (from a fields table) or a slice of structs whose
// json tags name the fields; returning silentExit as well prints the rows
// and then exits with its code.
func (r *runner) listCommand(use, short string, parse bool, rows func(context.Context, *app.Environment, *dagprocessor.Report) (any, error)) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				var rep *dagprocessor.Report
				if parse {
					var err error
					if rep, err = syncDAGs(ctx, env); err != nil {
						return err
					}
				}
				out, err := rows(ctx, env, rep)
				var exit silentExit
				if err != nil && !errors.As(err, &exit) {
					return err
				}
				if perr := printOutput(r.io.Stdout, output, out); perr != nil {
					return perr
				}
				return err
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// outputFlag adds Airflow's -o/--output flag.
func outputFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVarP(dst, "output", "o", formatTable, "output format: table, json, yaml or plain")
}

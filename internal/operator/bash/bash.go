// Package bash implements Airflow's BashOperator and BashSensor: a
// bash_command run with `bash -c` in its own process group, its output
// streamed line by line to the task log.
package bash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
)

// DefaultSkipExitCode is BashOperator's default skip_on_exit_code.
const DefaultSkipExitCode = 99

// Options configure the bash operators.
type Options struct {
	// Bash is the bash executable; "" looks "bash" up in PATH, once, when
	// the operator is made.
	Bash string
	// KillGrace is the time between SIGTERM and SIGKILL when a try is
	// killed or times out ([core] killed_task_cleanup_time); zero means
	// process.DefaultKillGrace (60 s).
	KillGrace time.Duration
}

// shell runs bash commands for both operators.
type shell struct {
	bash    string
	bashErr error
	proc    process.Runner
	dirs    *workDirs
}

func newShell(opts Options) shell {
	s := shell{bash: opts.Bash, proc: process.Runner{KillGrace: opts.KillGrace}, dirs: &workDirs{}}
	if s.bash == "" {
		s.bash, s.bashErr = exec.LookPath("bash")
		if s.bashErr != nil {
			s.bashErr = fmt.Errorf("find bash: %w", s.bashErr)
		}
	}
	return s
}

// Operator is BashOperator.
type Operator struct {
	shell
}

// New returns the BashOperator.
func New(opts Options) operator.Operator {
	return &Operator{shell: newShell(opts)}
}

// Execute runs bash_command. Its output goes to the log line by line and
// its last line is the return value. An exit code listed in
// skip_on_exit_code (default 99) skips the task; any other non-zero code
// fails it with Airflow's message.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	command, err := operator.StringArg(tc.Args, "bash_command", "")
	if err != nil {
		return nil, err
	}
	env, err := stringMapArg(tc.Args, "env")
	if err != nil {
		return nil, err
	}
	appendEnv, err := operator.BoolArg(tc.Args, "append_env", false)
	if err != nil {
		return nil, err
	}
	cwd, err := operator.StringArg(tc.Args, "cwd", "")
	if err != nil {
		return nil, err
	}
	if cwd != "" {
		st, err := os.Stat(cwd)
		if err != nil {
			return nil, fmt.Errorf("Can not find the cwd: %s", cwd)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("The cwd %s must be a directory", cwd)
		}
	}
	dec, err := decoderArg(tc.Args)
	if err != nil {
		return nil, err
	}
	skip, err := skipCodesArg(tc.Args)
	if err != nil {
		return nil, err
	}

	// Airflow: no env means Windsock's environment; env replaces it
	// unless append_env; the AIRFLOW_CTX_* variables are always set.
	base := process.BaseEnv(tc)
	if env != nil && !appendEnv {
		base = nil
	}
	code, last, err := o.run(ctx, tc, command, process.MergeEnv(base, env, process.ContextEnv(tc)), cwd, dec)
	if err != nil {
		return nil, err
	}
	if slices.Contains(skip, code) {
		return nil, fmt.Errorf("%w: Bash command returned exit code %d. Skipping.", operator.ErrSkip, code)
	}
	if code != 0 {
		return nil, fmt.Errorf("Bash command failed. The command returned a non-zero exit code %d.", code)
	}
	return &operator.Result{ReturnValue: last, HasReturn: true}, nil
}

// run runs command in cwd (an empty temporary directory when cwd is "", as
// Airflow does) and returns its exit code and the last
// line of its output, right-trimmed. A cancelled ctx returns ctx.Err().
func (s *shell) run(ctx context.Context, tc *operator.Context, command string, env []string, cwd string, dec decoder) (int, string, error) {
	if s.bashErr != nil {
		return 0, "", s.bashErr
	}
	if cwd == "" {
		tmp, err := s.dirs.get()
		if err != nil {
			return 0, "", fmt.Errorf("make working directory: %w", err)
		}
		defer s.dirs.put(tmp)
		cwd = tmp
	}
	operator.Logf(tc.Log, "Running command: ['%s', '-c', %s]", s.bash, strconv.Quote(command))
	var line, last []byte
	log := tc.Log
	if log == nil {
		log = io.Discard
	}
	code, err := s.proc.Run(ctx, &process.Command{
		Path: s.bash,
		Args: []string{"bash", "-c", command},
		Env:  env,
		Dir:  cwd,
		Line: func(raw []byte) {
			line = bytes.TrimRight(dec(line[:0], raw), " \t\r\n\v\f")
			last = append(last[:0], line...)
			line = append(line, '\n')
			_, _ = log.Write(line)
		},
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return 0, "", ctxErr
		}
		return 0, "", fmt.Errorf("run bash command: %w", err)
	}
	operator.Logf(tc.Log, "Command exited with return code %d", code)
	return code, string(last), nil
}

func decoderArg(args map[string]any) (decoder, error) {
	name, err := operator.StringArg(args, "output_encoding", "utf-8")
	if err != nil {
		return nil, err
	}
	return newDecoder(name)
}

// skipCodesArg reads skip_on_exit_code: an int or a list of them; absent
// means 99, null means none.
func skipCodesArg(args map[string]any) ([]int, error) {
	v, ok := args["skip_on_exit_code"]
	if !ok {
		return []int{DefaultSkipExitCode}, nil
	}
	if v == nil {
		return nil, nil
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	codes := make([]int, 0, len(items))
	for _, item := range items {
		n, ok := operator.AsInt(item)
		if !ok {
			return nil, fmt.Errorf("argument skip_on_exit_code: want an exit code or a list of them, got %v", v)
		}
		codes = append(codes, n)
	}
	return codes, nil
}

// stringMapArg reads a mapping of names to scalar values as KEY=value
// pairs, nil when absent.
func stringMapArg(args map[string]any, name string) ([]string, error) {
	m, err := operator.MapArg(args, name)
	if err != nil || m == nil {
		return nil, err
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		s, err := operator.StringArg(m, k, "")
		if err != nil || v == nil {
			return nil, fmt.Errorf("argument %s: value of %s must be a string, got %T", name, k, v)
		}
		out = append(out, k+"="+s)
	}
	slices.Sort(out)
	return out, nil
}

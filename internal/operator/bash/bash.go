// Package bash implements Airflow's BashOperator and BashSensor: a
// bash_command run with `bash -c` in its own process group, its output
// streamed line by line to the task log.
package bash

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/windsock/windsock/internal/pyvalue"
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
	// The limit applies to the value as stored: JSON, whose quotes and
	// escapes (\u003c for <, \n, ...) make it longer than the line.
	size := last.size
	if size <= MaxReturnBytes {
		if b, err := json.Marshal(last.text); err == nil {
			size = len(b)
		}
	}
	if size > MaxReturnBytes {
		if tc.Task != nil && !tc.Task.DoXComPush {
			return &operator.Result{}, nil // not pushed: its size does not matter
		}
		return nil, fmt.Errorf("the last line of the command's output, its return value, is %d bytes as stored, over the %d-byte XCom limit; write large output to a file and print its path, or set do_xcom_push: false", size, MaxReturnBytes)
	}
	return &operator.Result{ReturnValue: last.text, HasReturn: true}, nil
}

// MaxReturnBytes caps the last line BashOperator returns (and pushes as
// its XCom return_value); it is the runner's XCom limit
// (taskrun.MaxXComBytes), which this package cannot import. Only this
// much of a line is kept, so a command printing a huge last line costs
// bounded memory and fails with a clear error instead of being pushed as
// a fragment.
const MaxReturnBytes = 1 << 20

// lastLine is the last line of a command's output.
type lastLine struct {
	text string
	// size is the line's length in bytes (as printed, when that is over
	// MaxReturnBytes: the line was not kept whole, and text is empty).
	size int
}

// run runs command in cwd (an empty temporary directory when cwd is "", as
// Airflow does) and returns its exit code and the last line of its
// output, right-trimmed. A cancelled ctx returns ctx.Err().
func (s *shell) run(ctx context.Context, tc *operator.Context, command string, env []string, cwd string, dec decoder) (int, lastLine, error) {
	if s.bashErr != nil {
		return 0, lastLine{}, s.bashErr
	}
	if cwd == "" {
		tmp, err := s.dirs.get(process.TempDir(tc))
		if err != nil {
			return 0, lastLine{}, fmt.Errorf("make working directory: %w", err)
		}
		defer s.dirs.put(tmp)
		cwd = tmp
	}
	operator.Logf(tc.Log, "Running command: ['%s', '-c', %s]", s.bash, strconv.Quote(command))
	log := tc.Log
	if log == nil {
		log = io.Discard
	}
	var out lineCollector
	code, err := s.proc.Run(ctx, &process.Command{
		Path: s.bash,
		Args: []string{"bash", "-c", command},
		Env:  env,
		Dir:  cwd,
		Partial: func(raw []byte) {
			out.partial(log, dec, raw)
		},
		Line: func(raw []byte) {
			out.line(log, dec, raw)
		},
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return 0, lastLine{}, ctxErr
		}
		return 0, lastLine{}, fmt.Errorf("run bash command: %w", err)
	}
	operator.Logf(tc.Log, "Command exited with return code %d", code)
	return code, out.last(dec), nil
}

// keepBytes is how much of a line lineCollector keeps: the limit and some
// room for the trailing blanks that are trimmed off.
const keepBytes = MaxReturnBytes + 64<<10

// lineCollector logs a command's output line by line and keeps its last
// line, whole when it is not too large to be a return value.
type lineCollector struct {
	buf []byte // scratch for one decoded line or piece
	// cur is the raw current (or, once ended, last) line, up to
	// keepBytes of it.
	cur   []byte
	size  int
	ended bool
}

// partial takes a leading piece of a long line. It goes to the log
// without a newline: the log joins it with the rest of the line.
func (c *lineCollector) partial(log io.Writer, dec decoder, raw []byte) {
	c.keep(raw)
	c.buf = dec(c.buf[:0], raw)
	_, _ = log.Write(c.buf)
}

// line takes the end of a line.
func (c *lineCollector) line(log io.Writer, dec decoder, raw []byte) {
	c.keep(raw)
	c.ended = true
	c.buf = append(bytes.TrimRight(dec(c.buf[:0], raw), " \t\r\n\v\f"), '\n')
	_, _ = log.Write(c.buf)
}

// keep adds raw to the current line, starting a new one after a line
// ended.
func (c *lineCollector) keep(raw []byte) {
	if c.ended {
		c.cur, c.size, c.ended = c.cur[:0], 0, false
	}
	c.size += len(raw)
	if room := keepBytes - len(c.cur); room > 0 {
		c.cur = append(c.cur, raw[:min(room, len(raw))]...)
	}
}

// last returns the last line, decoded and right-trimmed as Airflow's
// SubprocessHook does.
func (c *lineCollector) last(dec decoder) lastLine {
	if c.size > len(c.cur) {
		return lastLine{size: c.size}
	}
	text := bytes.TrimRight(dec(nil, c.cur), " \t\r\n\v\f")
	if len(text) > MaxReturnBytes {
		return lastLine{size: len(text)}
	}
	return lastLine{text: string(text), size: len(text)}
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
			return nil, fmt.Errorf("argument skip_on_exit_code: want an exit code or a list of them, got %s", pyvalue.Repr(v))
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

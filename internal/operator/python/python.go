// Package python implements Airflow's PythonOperator, BranchPythonOperator
// and ShortCircuitOperator. The callable runs in a python3 subprocess (in
// its own process group, killed with it on timeout) through a small
// embedded runner script that imports it, passes op_args, op_kwargs,
// templates_dict and the template context as Airflow does, and reports the
// return value as JSON on a side channel so that prints go to the log.
package python

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/osenv"
	"github.com/windsock/windsock/internal/windsock"
)

//go:embed runner.py
var runnerScript string

// Options configure the python operators.
type Options struct {
	// Interpreter returns the environment's interpreter (its
	// core.python_executable, or the virtual environment of its
	// requirements). When nil, Python is used.
	Interpreter func(ctx context.Context) (string, error)
	// Python is the interpreter when Interpreter is nil: a path, or a name
	// looked up on the PATH of the try's environment (never this
	// process's, which other environments share); "" means "python3".
	Python string
	// KillGrace is the time between SIGTERM and SIGKILL when a try is
	// killed or times out; zero means process.DefaultKillGrace (60 s).
	KillGrace time.Duration
}

type kind int

const (
	plain kind = iota
	branch
	shortCircuit
)

// Operator is PythonOperator, BranchPythonOperator or
// ShortCircuitOperator, depending on the constructor.
type Operator struct {
	kind        kind
	interpreter func(ctx context.Context) (string, error)
	python      string
	proc        process.Runner
}

// New returns the PythonOperator: the callable's return value (unless
// None) is the task's return value.
func New(opts Options) operator.Operator { return newOperator(plain, opts) }

// NewBranch returns the BranchPythonOperator: the callable returns a task
// id, a list of them, or None, and only those direct downstream tasks run.
func NewBranch(opts Options) operator.Operator { return newOperator(branch, opts) }

// NewShortCircuit returns the ShortCircuitOperator: a falsy return value
// skips the downstream tasks.
func NewShortCircuit(opts Options) operator.Operator { return newOperator(shortCircuit, opts) }

func newOperator(k kind, opts Options) *Operator {
	o := &Operator{kind: k, interpreter: opts.Interpreter, python: opts.Python, proc: process.Runner{KillGrace: opts.KillGrace}}
	if o.python == "" {
		o.python = "python3"
	}
	return o
}

// pythonFor returns the interpreter a try of tc runs.
func (o *Operator) pythonFor(ctx context.Context, tc *operator.Context) (string, error) {
	if o.interpreter != nil {
		return o.interpreter(ctx)
	}
	path, err := osenv.LookPath(o.python, tc.Environ)
	if err != nil {
		return "", fmt.Errorf("find the python interpreter: %w", err)
	}
	return path, nil
}

// callable says where the function to call is: a module, a file or a
// lambda's source.
type callable struct {
	Kind     string `json:"kind"` // "module", "file" or "lambda"
	Module   string `json:"module,omitempty"`
	File     string `json:"file,omitempty"`
	Function string `json:"function,omitempty"`
	Source   string `json:"source,omitempty"`
}

// input is what the runner script reads.
type input struct {
	Callable      callable       `json:"callable"`
	DagsFolder    string         `json:"dags_folder"`
	OpArgs        []any          `json:"op_args"`
	OpKwargs      map[string]any `json:"op_kwargs"`
	TemplatesDict map[string]any `json:"templates_dict"`
	Context       map[string]any `json:"context"`
}

// output is what the runner script writes.
type output struct {
	OK     bool            `json:"ok"`
	Value  json.RawMessage `json:"value"`
	Truthy bool            `json:"truthy"`
	Text   string          `json:"text"`
	Error  *struct {
		Types   []string `json:"types"`
		Message string   `json:"message"`
	} `json:"error"`
}

// Execute runs python_callable and maps its outcome: an exception fails
// the try (AirflowSkipException skips it, AirflowFailException fails it
// without retry), a return value that JSON cannot hold fails it.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	in, showReturn, ignoreRules, err := o.readArgs(tc)
	if err != nil {
		return nil, err
	}
	out, err := o.run(ctx, tc, in)
	if err != nil {
		return nil, err
	}
	value, err := decodeValue(out.Value)
	if err != nil {
		return nil, err
	}
	if showReturn {
		operator.Logf(tc.Log, "Done. Returned value was: %s", out.Text)
	} else {
		operator.Logf(tc.Log, "Done. Returned value not shown")
	}
	res := &operator.Result{ReturnValue: value, HasReturn: value != nil}
	switch o.kind {
	case branch:
		ids, err := branchIDs(tc, value)
		if err != nil {
			return nil, err
		}
		operator.Logf(tc.Log, "Branch into %s", strings.Join(ids, ", "))
		res.Branch = ids
	case shortCircuit:
		operator.Logf(tc.Log, "Condition result is %s", out.Text)
		if out.Truthy {
			operator.Logf(tc.Log, "Proceeding with downstream tasks...")
		} else {
			operator.Logf(tc.Log, "Skipping downstream tasks")
			res.SkipDownstream = true
			res.IgnoreDownstreamTriggerRules = ignoreRules
		}
	}
	return res, nil
}

func (o *Operator) readArgs(tc *operator.Context) (in input, showReturn, ignoreRules bool, err error) {
	spec, err := operator.StringArg(tc.Args, "python_callable", "")
	if err != nil {
		return in, false, false, err
	}
	if in.Callable, err = parseCallable(spec, tc.DagsFolder); err != nil {
		return in, false, false, err
	}
	in.DagsFolder = tc.DagsFolder
	if v := tc.Args["op_args"]; v != nil {
		list, ok := v.([]any)
		if !ok {
			return in, false, false, fmt.Errorf("argument op_args: want a list, got %T", v)
		}
		in.OpArgs = list
	}
	if in.OpKwargs, err = operator.MapArg(tc.Args, "op_kwargs"); err != nil {
		return in, false, false, err
	}
	if in.TemplatesDict, err = operator.MapArg(tc.Args, "templates_dict"); err != nil {
		return in, false, false, err
	}
	in.Context = tc.Template
	if showReturn, err = operator.BoolArg(tc.Args, "show_return_value_in_logs", true); err != nil {
		return in, false, false, err
	}
	if ignoreRules, err = operator.BoolArg(tc.Args, "ignore_downstream_trigger_rules", true); err != nil {
		return in, false, false, err
	}
	return in, showReturn, ignoreRules, nil
}

// run runs the runner script on in and returns its outcome.
func (o *Operator) run(ctx context.Context, tc *operator.Context, in input) (*output, error) {
	python, err := o.pythonFor(ctx, tc)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(process.TempDir(tc), "windsock-python")
	if err != nil {
		return nil, fmt.Errorf("make python work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	inPath, outPath := filepath.Join(dir, "input.json"), filepath.Join(dir, "output.json")
	// Python's json reads 5 as an int: floats are written as Python
	// writes them (5.0) so that a float stays a float.
	in.OpArgs, _ = windsock.KeepFloats(in.OpArgs).([]any)
	in.OpKwargs, _ = windsock.KeepFloats(in.OpKwargs).(map[string]any)
	in.TemplatesDict, _ = windsock.KeepFloats(in.TemplatesDict).(map[string]any)
	in.Context, _ = windsock.KeepFloats(in.Context).(map[string]any)
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode python_callable arguments: %w", err)
	}
	if err := os.WriteFile(inPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("write python_callable arguments: %w", err)
	}

	log := tc.Log
	if log == nil {
		log = io.Discard
	}
	var line []byte
	env := process.MergeEnv(process.BaseEnv(tc), process.ContextEnv(tc))
	code, err := o.proc.Run(ctx, &process.Command{
		Path: python,
		Args: []string{"python3", "-u", "-c", runnerScript, inPath, outPath},
		Env:  env,
		Line: func(raw []byte) {
			line = append(append(line[:0], raw...), '\n')
			_, _ = log.Write(line)
		},
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("run python_callable: %w", err)
	}
	b, err = os.ReadFile(outPath)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("python_callable: python exited with return code %d without reporting a result", code)
	}
	var out output
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("python_callable: read result: %w", err)
	}
	if out.OK {
		return &out, nil
	}
	if out.Error == nil || len(out.Error.Types) == 0 {
		return nil, fmt.Errorf("python_callable failed (return code %d)", code)
	}
	name, msg := out.Error.Types[0], out.Error.Message
	switch {
	case slices.Contains(out.Error.Types, "AirflowSkipException"):
		return nil, fmt.Errorf("%w: %s", operator.ErrSkip, msg)
	case slices.Contains(out.Error.Types, "AirflowFailException"):
		return nil, fmt.Errorf("%w: %s: %s", operator.ErrFail, name, msg)
	}
	return nil, fmt.Errorf("python_callable raised %s: %s", name, msg)
}

// decodeValue decodes the return value, keeping numbers exact
// (json.Number) so that the XCom stores what Python returned.
func decodeValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("python_callable: decode return value: %w", err)
	}
	return v, nil
}

// parseCallable reads python_callable:
//
//   - "package.module:function" or "package.module.function": a module
//     importable with the DAG folder on sys.path;
//   - "path/to/file.py:function": a file, relative to the DAG folder or
//     absolute inside it;
//   - "lambda ...": a lambda's source (dag-factory's python_callable_lambda).
//
// The function may be a dotted attribute path ("Class.method").
func parseCallable(spec, dagsFolder string) (callable, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return callable{}, errors.New("argument python_callable is required")
	}
	if strings.HasPrefix(spec, "lambda") && (len(spec) == 6 || !isIdentRune(rune(spec[6]))) {
		return callable{Kind: "lambda", Source: spec}, nil
	}
	target, fn, ok := cut(spec)
	if !ok || !isDotted(fn) {
		return callable{}, fmt.Errorf("argument python_callable %q: want module:function or file.py:function", spec)
	}
	if strings.HasSuffix(target, ".py") || strings.ContainsRune(target, '/') {
		file, err := resolveFile(target, dagsFolder)
		if err != nil {
			return callable{}, fmt.Errorf("argument python_callable %q: %w", spec, err)
		}
		return callable{Kind: "file", File: file, Function: fn}, nil
	}
	if !isDotted(target) {
		return callable{}, fmt.Errorf("argument python_callable %q: %q is not a module name", spec, target)
	}
	return callable{Kind: "module", Module: target, Function: fn}, nil
}

// cut splits spec into target and function at the last ':' or, without
// one, at the last '.'.
func cut(spec string) (string, string, bool) {
	if i := strings.LastIndexByte(spec, ':'); i >= 0 {
		return spec[:i], spec[i+1:], i > 0
	}
	if i := strings.LastIndexByte(spec, '.'); i > 0 {
		return spec[:i], spec[i+1:], true
	}
	return "", "", false
}

// resolveFile resolves a callable's file against the DAG folder and
// rejects files outside it: DAG authors control python_callable, and the
// DAG folder is what they are allowed to run code from.
func resolveFile(file, dagsFolder string) (string, error) {
	if dagsFolder == "" {
		return "", errors.New("no DAG folder to resolve the file against")
	}
	root, err := filepath.Abs(dagsFolder)
	if err != nil {
		return "", fmt.Errorf("resolve DAG folder: %w", err)
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	file = filepath.Clean(file)
	if rel, err := filepath.Rel(root, file); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("file %s is outside the DAG folder %s", file, root)
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("file %s: %w", file, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("file %s is a directory", file)
	}
	return file, nil
}

func isDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			if !isIdentRune(r) || (i == 0 && unicode.IsDigit(r)) {
				return false
			}
		}
	}
	return true
}

func isIdentRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

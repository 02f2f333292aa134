// Package taskrun runs one try of a task instance: it renders the task's
// templated fields, opens the try's log, executes the operator under the
// task's execution timeout, and records the outcome (state, XCom, failure,
// reschedule, skipped branches) in one transaction. Executors call it;
// it knows nothing about slots or scheduling.
package taskrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/taskmap"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// Runner runs tries. Every field but Logger and Clock is required.
type Runner struct {
	Store       store.Store
	Operators   *operator.Registry
	Specs       *operator.Catalog
	Variables   *secrets.Variables
	Connections *secrets.Connections
	Callbacks   *callback.Runner
	LogFolder   string
	DagsFolder  string
	Environ     []string
	// EnvironmentID is the environment's id (store.EnvironmentID), part
	// of every try's process mark.
	EnvironmentID string
	Hostname      string
	// BaseURL is webserver.base_url: alert emails link to the try's page
	// under it (no link when empty).
	BaseURL string
	Logger  *slog.Logger
	Clock   func() time.Time
	// RemoteLogs, when set (logging.remote_logging), receives a copy of
	// every try's log once it is closed; DeleteLocalLogs then removes the
	// local file of a finished try (logging.delete_local_logs).
	RemoteLogs      logstore.Store
	DeleteLocalLogs bool
	// AnnounceTries makes the transaction recording a try's outcome also
	// notify store.ChannelTryDone, so that schedulers in other processes
	// (sharing PostgreSQL) evaluate what follows as it commits.
	AnnounceTries bool
	// MaxMapLength is core.max_map_length: the most entries a value may
	// have that a mapped task downstream maps over (0: Airflow's 1024).
	MaxMapLength int
	// Journal, when set, keeps on disk every finished try's outcome the
	// database does not take at once, until it has it: a worker's tries
	// that end while the database is away are recorded when it is back
	// (Outcome.Pending, RecordLate) instead of being given up and run
	// again.
	Journal *Journal
	// DagRuns, when set, lets operators trigger and follow runs of other
	// DAGs (TriggerDagRunOperator).
	DagRuns operator.DagRunTrigger

	// logCreate makes the tries of one run create their log folders and
	// files one at a time (a run's tries share a lock of these, picked by
	// hashing the run). The kernel serialises changes to one folder
	// anyway, and tries starting together would spin on its lock: on ext4
	// here, 16 goroutines creating in one folder used twice the system
	// time of the same work behind a mutex. Runs hashed apart, and so a
	// slow log folder, hold up no one else.
	logCreate [16]sync.Mutex
}

// logLock returns the lock the tries of key's run create their logs under.
func (r *Runner) logLock(key windsock.TaskInstanceKey) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(key.DagID))
	h.Write([]byte{0})
	h.Write([]byte(key.RunID))
	return &r.logCreate[h.Sum32()%uint32(len(r.logCreate))]
}

// Try is one claimed (running) task instance with its DAG and run.
type Try struct {
	TI  *windsock.TaskInstance
	DAG *windsock.DAG
	Run *windsock.DagRun
}

// Outcome is how a try ended.
type Outcome struct {
	// State is the task instance's new state: success, skipped, failed,
	// up_for_retry or up_for_reschedule.
	State windsock.TaskInstanceState
	// Err is why the try failed, for failed and up_for_retry.
	Err error
	// Recorded is false when the task instance was changed by someone else
	// while it ran (cleared, marked): the outcome was not written.
	Recorded bool
	// Skipped lists downstream tasks skipped by a branch or short circuit.
	Skipped []string
	// TI is the task instance as recorded, when Recorded.
	TI *windsock.TaskInstance
	// Pending is set when the outcome could not be recorded because the
	// database is unreachable: it is in the runner's Journal, for
	// RecordLate once the database is back.
	Pending *Finish
}

func (r *Runner) now() time.Time {
	if r.Clock != nil {
		return r.Clock().UTC()
	}
	return time.Now().UTC()
}

func (r *Runner) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// tryLog is where a try's log goes: the try's log file, or a terminal
// for tasks test.
type tryLog interface {
	io.Writer
	Infof(format string, args ...any)
}

// Run executes a try and records its outcome. The error is for failures to
// record (the store is gone); a failing task is an Outcome, not an error.
func (r *Runner) Run(ctx context.Context, try *Try) (*Outcome, error) {
	masker := tasklog.NewMasker()
	lock := r.logLock(try.TI.TaskInstanceKey)
	lock.Lock()
	logf, err := tasklog.Open(r.LogFolder, try.TI.TaskInstanceKey, try.TI.TryNumber, masker)
	lock.Unlock()
	if err != nil {
		return r.finish(ctx, try, nil, &result{err: fmt.Errorf("open task log: %w", err)}, nil)
	}
	var out *Outcome
	defer func() { r.closeLog(ctx, try, logf, out) }()
	var res *result
	var rendered map[string]any
	if err := r.clearXCom(ctx, try.TI); err != nil {
		res = &result{err: err}
		logf.Infof("%v", err)
	} else {
		res, rendered = r.execute(ctx, try, logf, masker)
	}
	if res.err != nil && errors.Is(context.Cause(ctx), ErrHandBack) {
		res.handBack = true
	}
	// The rendered fields are kept (and shown in the UI) with the secrets
	// the try fetched masked, as Airflow redacts them.
	rendered = maskRendered(masker, rendered)
	// The outcome is recorded even when ctx was cancelled (a killed try).
	out, err = r.finish(context.WithoutCancel(ctx), try, logf, res, rendered)
	if err == nil && out.Recorded {
		if res.callbacksRan {
			// A Python try ran its callbacks itself; the alert email is
			// Windsock's to send.
			r.alertEmail(ctx, try, out, logf)
		} else {
			r.runCallbacks(ctx, try, out, logf, masker)
		}
	}
	return out, err
}

// clearXCom removes what earlier tries of the task instance pushed before
// this one executes, as Airflow does at the start of every execution: a
// try that fails must not leave the previous try's values for downstream
// tasks to pull. A first try has nothing to clear and skips the write; a
// rescheduled sensor clears again at each poke of a later try, as in
// Airflow, which is harmless since it pushes only when it succeeds.
func (r *Runner) clearXCom(ctx context.Context, ti *windsock.TaskInstance) error {
	if ti.TryNumber <= 1 {
		return nil
	}
	if err := r.Store.XComClear(ctx, ti.TaskInstanceKey); err != nil {
		return fmt.Errorf("clear the xcom of earlier tries: %w", err)
	}
	return nil
}

// Test executes a try without recording anything (no state, XCom or log
// file), writing its log to w, as Airflow's tasks test does.
func (r *Runner) Test(ctx context.Context, try *Try, w io.Writer) *Outcome {
	masker := tasklog.NewMasker()
	mw := masker.Writer(w)
	defer mw.Close()
	lw := &plainLog{w: mw, now: r.now}
	res, _ := r.execute(ctx, try, lw, masker)
	out := &Outcome{State: windsock.TaskStateSuccess, Err: res.err}
	switch {
	case res.err == nil && res.op != nil && res.op.RescheduleAt != nil:
		out.State = windsock.TaskStateUpForReschedule
	case res.err == nil:
	case errors.Is(res.err, operator.ErrSkip):
		out.State, out.Err = windsock.TaskStateSkipped, nil
	default:
		out.State = windsock.TaskStateFailed
		lw.Infof("Task failed with exception: %v", res.err)
	}
	if res.err == nil && res.op != nil && res.op.HasReturn {
		lw.Infof("Returned value was: %s", pyvalue.Str(res.op.ReturnValue))
	}
	return out
}

// Render renders a task's templated fields for a run, as tasks render
// shows them.
func (r *Runner) Render(ctx context.Context, try *Try) (map[string]any, error) {
	task := try.DAG.Task(try.TI.TaskID)
	if task == nil {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "task %q not found in DAG %q", try.TI.TaskID, try.DAG.DagID)
	}
	spec, ok := r.Specs.Lookup(task.Operator)
	if !ok {
		return nil, windsock.Errorf(windsock.EINVALID, "unknown operator %q", task.Operator)
	}
	task, mapped, err := r.indexTask(ctx, try, task)
	if err != nil {
		return nil, err
	}
	tctx, err := template.NewContext(ctx, try.DAG, task, try.Run, try.TI, r.templateSources(try, tasklog.NewMasker()))
	if err != nil {
		return nil, err
	}
	withMapped(tctx, mapped)
	// An operator that renders its own fields (a Python task) is asked.
	if op, ok := r.Operators.Get(task.Operator); ok {
		if fr, ok := op.(operator.FieldRenderer); ok {
			masker := tasklog.NewMasker()
			tc := r.operatorContext(try, try.TI, io.Discard, masker)
			tc.Task, tc.Args, tc.Mapped, tc.Template = task, task.Args, mapped.mappedArgs(), tctx.JSON()
			rendered, err := fr.RenderFields(ctx, tc)
			return maskRendered(masker, rendered), err
		}
	}
	_, rendered, err := renderFields(ctx, try.DAG, spec, task.Args, tctx)
	return rendered, err
}

// execute renders the task's fields and runs its operator under the
// execution timeout.
func (r *Runner) execute(ctx context.Context, try *Try, logf tryLog, masker *tasklog.Masker) (*result, map[string]any) {
	ti, task := try.TI, try.DAG.Task(try.TI.TaskID)
	if task == nil {
		res := &result{err: fmt.Errorf("%w: task %q is no longer in DAG %q", operator.ErrFail, ti.TaskID, try.DAG.DagID)}
		logf.Infof("%v", res.err)
		return res, nil
	}
	task, mapped, err := r.indexTask(ctx, try, task)
	if err != nil {
		logf.Infof("%v", err)
		return &result{err: err}, nil
	}
	logf.Infof("Starting attempt %d of %d", ti.TryNumber, ti.MaxTries+1)
	logf.Infof("Executing <Task(%s): %s> on %s", task.OperatorClass, task.TaskID, windsock.ISOFormat(try.Run.LogicalDate))

	op, ok := r.Operators.Get(task.Operator)
	if !ok {
		res := &result{err: fmt.Errorf("%w: operator %q (%s) cannot run in this version", operator.ErrFail, task.Operator, task.OperatorClass)}
		logf.Infof("%v", res.err)
		return res, nil
	}
	spec, _ := r.Specs.Lookup(task.Operator)

	// Building the template context costs queries (the previous successful
	// run); tasks whose fields hold no template and whose operator does not
	// take the context skip it.
	args, rendered := task.Args, map[string]any(nil)
	var tctxJSON map[string]any
	var tctx template.Context
	// Native rendering turns even plain text into values ("42" is an
	// int), so it always renders.
	if spec != nil && (spec.WantsContext() || try.DAG.RenderTemplateAsNativeObj || hasTemplates(spec, task.Args)) {
		var err error
		tctx, err = template.NewContext(ctx, try.DAG, task, try.Run, ti, r.templateSources(try, masker))
		if err == nil {
			withMapped(tctx, mapped)
			args, rendered, err = renderFields(ctx, try.DAG, spec, task.Args, tctx)
		}
		if err != nil {
			res := &result{err: fmt.Errorf("render templates: %w", err)}
			logf.Infof("%v", res.err)
			return res, rendered
		}
		tctxJSON = tctx.JSON()
	}

	runCtx := ctx
	if task.ExecutionTimeout > 0 {
		limit := task.ExecutionTimeout.Std()
		if te, ok := op.(operator.TimeoutEnforcer); ok {
			limit += te.TimeoutGrace()
		}
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	firstStart := r.now()
	if ti.StartDate != nil {
		firstStart = *ti.StartDate
	}
	if spec != nil && spec.Sensor {
		if fs, err := r.firstTryStart(ctx, ti); err == nil && !fs.IsZero() {
			firstStart = fs
		}
	}
	tc := r.operatorContext(try, ti, logf, masker)
	tc.Task, tc.Args, tc.Mapped, tc.Template, tc.FirstTryStart = task, args, mapped.mappedArgs(), tctxJSON, firstStart
	opRes, opErr := op.Execute(runCtx, tc)
	if opErr != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		opErr = fmt.Errorf("timeout: the task ran longer than its execution_timeout of %s", task.ExecutionTimeout.Std())
	}
	// An operator that renders its own fields (a Python task) reports
	// them, on success or failure alike.
	if opRes != nil && opRes.RenderedFields != nil {
		rendered = opRes.RenderedFields
	}
	callbacksRan := opRes != nil && opRes.CallbacksRan
	res := &result{op: opRes, err: opErr, callbacksRan: callbacksRan}
	if opRes != nil {
		res.renderedMapIndex = opRes.RenderedMapIndex
	}
	if res.renderedMapIndex == "" && task.Python == nil {
		res.renderedMapIndex = r.renderMapIndex(ctx, try, task, args, tctx, masker, logf)
	}
	if opErr != nil {
		res.op = nil
	}
	return res, rendered
}

// operatorContext returns what an operator (or a Python callback) of try
// sees, but for its arguments and template context: the try, its log,
// and the sources of connections, variables, XCom and other runs, whose
// secrets go to masker.
func (r *Runner) operatorContext(try *Try, ti *windsock.TaskInstance, logf io.Writer, masker *tasklog.Masker) *operator.Context {
	return &operator.Context{
		DAG: try.DAG, Task: try.DAG.Task(ti.TaskID), Run: try.Run, TI: ti,
		Log: logf, Environ: r.Environ, EnvironmentID: r.EnvironmentID, DagsFolder: r.DagsFolder,
		Connections: &connectionSource{conns: r.Connections, masker: masker},
		Variables:   &variableSource{vars: r.Variables, masker: masker},
		XCom:        &xcomSource{store: r.Store, try: try, now: r.now},
		Runs:        &runStateSource{store: r.Store},
		DagRuns:     r.DagRuns,
		Now:         r.now,
	}
}

// indexTask returns the task as one instance of it runs: for an instance of
// a mapped task, a copy whose arguments are the shared (partial) ones with
// the instance's mapped ones on top, so operators need not know about
// mapping, those mapped arguments alone, and the number of instances.
func (r *Runner) indexTask(ctx context.Context, try *Try, task *windsock.Task) (*windsock.Task, *mappedInstance, error) {
	if !task.Mapped() || try.TI.MapIndex < 0 {
		return task, nil, nil
	}
	kw, n, err := taskmap.IndexArgs(ctx, r.Store, try.DAG, task, try.TI.RunID, try.TI.MapIndex)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: expand %s[%d]: %w", operator.ErrFail, task.TaskID, try.TI.MapIndex, err)
	}
	m := &mappedInstance{args: kw, count: n}
	if task.ExpandGroup != "" {
		// A task of a mapped task group: the mapped arguments are the
		// group function's, which the task reads through its own
		// arguments (resolved in Python), not operator arguments.
		return task, m, nil
	}
	cp := *task
	cp.Args = make(map[string]any, len(task.Args)+len(kw))
	maps.Copy(cp.Args, task.Args)
	maps.Copy(cp.Args, kw)
	return &cp, m, nil
}

// mappedInstance is what one instance of a mapped task gets: its mapped
// arguments and the number of instances (expanded_ti_count).
type mappedInstance struct {
	args  map[string]any
	count int
}

// withMapped adds what the template context says about mapping.
func withMapped(tctx template.Context, m *mappedInstance) {
	if m != nil {
		tctx["expanded_ti_count"] = m.count
	}
}

// mappedArgs returns the instance's mapped arguments, nil when unmapped.
func (m *mappedInstance) mappedArgs() map[string]any {
	if m == nil {
		return nil
	}
	return m.args
}

// renderFields renders a task's templated fields as its DAG asks: to
// strings, or to native values with render_template_as_native_obj.
func renderFields(ctx context.Context, dag *windsock.DAG, spec *operator.Spec, args map[string]any, tctx template.Context) (map[string]any, map[string]any, error) {
	if dag.RenderTemplateAsNativeObj {
		return template.RenderFieldsNative(ctx, spec, args, tctx)
	}
	return template.RenderFields(ctx, spec, args, tctx)
}

// hasTemplates reports whether any templated argument of the task holds
// Jinja markup.
func hasTemplates(spec *operator.Spec, args map[string]any) bool {
	for _, a := range spec.Args {
		if a.Templated && holdsTemplate(args[a.Name]) {
			return true
		}
	}
	return false
}

func holdsTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{") || strings.Contains(x, "{%") || strings.Contains(x, "{#")
	case []any:
		for _, e := range x {
			if holdsTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holdsTemplate(e) {
				return true
			}
		}
	}
	return false
}

// maskRendered returns the rendered fields with the masker's secrets
// replaced in every string, at any depth; it leaves rendered unchanged.
func maskRendered(m *tasklog.Masker, rendered map[string]any) map[string]any {
	if rendered == nil || m.Empty() {
		return rendered
	}
	return maskValue(m, rendered).(map[string]any)
}

func maskValue(m *tasklog.Masker, v any) any {
	switch x := v.(type) {
	case string:
		return m.Mask(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(m, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(m, e)
		}
		return out
	}
	return v
}

// plainLog writes Windsock's own log lines to a terminal in the log file's
// format.
type plainLog struct {
	w   io.Writer
	now func() time.Time
}

func (l *plainLog) Write(p []byte) (int, error) { return l.w.Write(p) }

func (l *plainLog) Infof(format string, args ...any) {
	fmt.Fprintf(l.w, "[%s] {windsock} INFO - %s\n", l.now().Format("2006-01-02T15:04:05.000-0700"), fmt.Sprintf(format, args...))
}

// result is what Execute returned.
type result struct {
	op  *operator.Result
	err error
	// handBack is set when the try was stopped because its executor (a
	// worker, a scheduler's local executor) shuts down: it runs again as
	// the same try.
	handBack bool
	// callbacksRan is set when the operator ran the task's callback
	// itself.
	callbacksRan bool
	// renderedMapIndex is the instance's map_index_template rendered.
	renderedMapIndex string
}

// ErrHandBack is the cause an executor (a worker, a scheduler's local
// executor) cancels a try's context with when it shuts down before the
// try ends: the try is recorded scheduled again with the same try number,
// so that it runs again without using up one of the task's retries.
var ErrHandBack = errors.New("its executor shut down before the try ended")

// firstTryStart returns when a sensor's current try first started, from its
// reschedules, so its timeout spans them all.
func (r *Runner) firstTryStart(ctx context.Context, ti *windsock.TaskInstance) (time.Time, error) {
	rs, err := r.Store.TaskRescheduleList(ctx, ti.TaskInstanceKey, ti.TryNumber)
	if err != nil || len(rs) == 0 {
		return time.Time{}, err
	}
	return rs[0].StartDate, nil
}

// marshalXCom encodes an XCom value, refusing what is too large to be a
// sensible XCom.
func marshalXCom(key string, v any, limit int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("xcom %q: value is not JSON-serializable: %w", key, err)
	}
	if limit > 0 && len(b) > limit {
		return nil, fmt.Errorf("xcom %q: value is %d bytes, over the %d-byte limit; store large data elsewhere and push its location", key, len(b), limit)
	}
	return b, nil
}

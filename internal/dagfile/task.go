package dagfile

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// fieldKeys are the BaseOperator arguments that become windsock.Task
// fields, plus dag-factory's own task keys.
var fieldKeys = []string{
	"task_id", "operator", "dependencies", "task_group_name", "trigger_rule", "owner",
	"retries", "retry_delay", "retry_delay_sec", "retry_exponential_backoff", "max_retry_delay",
	"execution_timeout", "execution_timeout_secs", "depends_on_past", "wait_for_downstream",
	"pool", "pool_slots", "priority_weight", "weight_rule", "queue", "sla", "sla_secs",
	"start_date", "end_date", "do_xcom_push",
}

// callbackKeys are the task callbacks; dag-factory also accepts each as a
// <callback>_name plus <callback>_file pair.
var callbackKeys = []string{
	"on_execute_callback", "on_success_callback", "on_failure_callback", "on_retry_callback", "on_skipped_callback",
}

// passKeys are BaseOperator arguments windsock.Task has no field for; they
// are kept in Task.Args as written.
var passKeys = append([]string{
	"email", "email_on_failure", "email_on_retry", "doc_md", "doc", "doc_json", "doc_yaml", "doc_rst",
	"task_display_name", "params", "inlets", "outlets", "max_active_tis_per_dag",
	"max_active_tis_per_dagrun", "task_concurrency", "executor_config", "run_as_user",
	"ignore_first_depends_on_past",
}, callbackKeys...)

// boolArgs are kept in Task.Args but read as booleans, so YAML 1.1's
// yes/no (which PyYAML reads as booleans) do not stay strings.
var boolArgs = map[string]bool{
	"email_on_failure": true, "email_on_retry": true, "ignore_first_depends_on_past": true,
	"append_env": true, "show_return_value_in_logs": true, "ignore_downstream_trigger_rules": true,
	"log_response": true, "recursive": true, "fail_on_empty": true, "check_existence": true,
	"soft_fail": true, "exponential_backoff": true, "silent_fail": true,
}

// secondsKeys are dag-factory's plain-seconds spellings of timedelta
// arguments; when both spellings are set the seconds one wins, as in
// dag-factory.
var secondsKeys = map[string]string{
	"retry_delay_sec":        "retry_delay",
	"execution_timeout_secs": "execution_timeout",
	"sla_secs":               "sla",
	"execution_delta_secs":   "execution_delta",
}

// callableAliases maps dag-factory's <prefix>_name/_file/_lambda keys to
// the operator argument they fill. A name and file pair becomes
// "file:name"; a lambda is kept as its source text.
var callableAliases = map[string]string{
	"python_callable":   "python_callable",
	"response_check":    "response_check",
	"response_filter":   "response_filter",
	"execution_date_fn": "execution_date_fn",
	"success_check":     "success",
	"failure_check":     "failure",
}

var groupKeys = []string{
	"group_name", "tooltip", "dependencies", "prefix_group_id", "parent_group_name",
	"default_args", "ui_color", "ui_fgcolor", "add_suffix_on_collision",
	// A mapped task group (Windsock's form of @task_group.expand): every
	// task inside is mapped with the group's indexes.
	"expand", "expand_kwargs",
}

// argNode is one argument as written, at one layer (default_args, a task
// group's default_args, or the task itself).
type argNode struct {
	key, val *yaml.Node
	// seconds says the value came from a *_sec(s) key.
	seconds bool
}

// layer is one level of task arguments, *_sec(s) keys folded into their
// timedelta names.
type layer map[string]argNode

func newLayer(ps []pair) layer {
	l := layer{}
	for _, e := range ps {
		if _, ok := secondsKeys[e.key.Value]; !ok {
			l[e.key.Value] = argNode{key: e.key, val: e.val}
		}
	}
	for _, e := range ps {
		if base, ok := secondsKeys[e.key.Value]; ok && !isNull(e.val) {
			l[base] = argNode{key: e.key, val: e.val, seconds: true}
		}
	}
	return l
}

func (l layer) get(k string) *yaml.Node {
	if a, ok := l[k]; ok {
		return a.val
	}
	return nil
}

// accepted returns every key a task with operator spec may set, computed
// once per operator and file.
func (p *fileParser) accepted(spec *operator.Spec) map[string]bool {
	if ok, done := p.acceptedBySpec[spec]; done {
		return ok
	}
	if p.acceptedBySpec == nil {
		p.acceptedBySpec = map[*operator.Spec]map[string]bool{}
	}
	ok := acceptedKeys(spec)
	p.acceptedBySpec[spec] = ok
	return ok
}

// argKeys returns the callable aliases (prefix -> argument) and the keys
// that never go into Task.Args, computed once per file.
func (p *fileParser) argKeys() (aliases map[string]string, skip map[string]bool) {
	if p.aliases != nil {
		return p.aliases, p.argSkip
	}
	aliases = map[string]string{}
	for prefix, target := range callableAliases {
		aliases[prefix] = target
	}
	for _, c := range callbackKeys {
		aliases[c] = c
	}
	skip = map[string]bool{}
	for _, k := range fieldKeys {
		skip[k] = true
	}
	for _, k := range mappingKeys {
		skip[k] = true
	}
	for prefix := range aliases {
		skip[prefix+"_name"], skip[prefix+"_file"], skip[prefix+"_lambda"] = true, true, true
	}
	p.aliases, p.argSkip = aliases, skip
	return aliases, skip
}

func acceptedKeys(spec *operator.Spec) map[string]bool {
	ok := map[string]bool{}
	for _, k := range fieldKeys {
		ok[k] = true
	}
	for _, k := range passKeys {
		ok[k] = true
	}
	for k := range secondsKeys {
		ok[k] = true
	}
	for _, k := range mappingKeys {
		ok[k] = true
	}
	for _, c := range callbackKeys {
		ok[c+"_name"], ok[c+"_file"] = true, true
	}
	if spec == nil {
		return ok
	}
	for _, a := range spec.Args {
		ok[a.Name] = true
	}
	for prefix, target := range callableAliases {
		if _, has := spec.Arg(target); has {
			ok[prefix+"_name"], ok[prefix+"_file"], ok[prefix+"_lambda"] = true, true, true
		}
	}
	if _, has := spec.Arg("execution_delta"); !has {
		delete(ok, "execution_delta_secs")
	}
	return ok
}

// task builds one task from its arguments layered over the DAG's and its
// groups' default_args. As in Airflow, default_args the operator does not
// accept are ignored, while unknown keys on the task itself are errors.
func (p *dagParser) task(dag *windsock.DAG, t *rawTask, defArgs layer) *windsock.Task {
	task := &windsock.Task{
		TaskID:         t.id,
		TriggerRule:    windsock.TriggerAllSuccess,
		Owner:          p.d.Owner,
		Retries:        p.d.Retries,
		RetryDelay:     windsock.Duration(p.d.RetryDelay),
		Pool:           p.d.Pool,
		PoolSlots:      1,
		PriorityWeight: 1,
		WeightRule:     windsock.WeightDownstream,
		Queue:          p.d.Queue,
		DoXComPush:     true,
	}
	var spec *operator.Spec
	if n := t.f["operator"]; n == nil || isNull(n) {
		if d := t.f["decorator"]; d != nil {
			p.errorf(t.at, "task %q uses a decorator, which is not supported: set operator instead", t.name)
		} else {
			p.errorf(t.at, "task %q has no operator: set operator (e.g. bash or airflow.operators.bash.BashOperator)", t.name)
		}
	} else if name, err := asString(n); err != nil {
		p.errorf(n, "operator %v", err)
	} else if s, ok := p.ops.Lookup(name); !ok {
		p.errorf(n, "unknown operator %q%s: use a short name such as bash or an Airflow class path such as airflow.operators.bash.BashOperator", name, suggest(name, p.ops.Names()))
	} else {
		spec = s
		task.Operator, task.OperatorClass = s.Name, s.Class
	}

	ok := p.accepted(spec)
	if spec != nil {
		for _, k := range keys(t.f) {
			if !ok[k] && k != "decorator" {
				p.errorf(keyNode(t, k), "unknown task key %q for %s%s", k, spec.Class, suggest(k, keys(ok)))
			}
		}
		if n := t.f["partial"]; n != nil && isMapping(n) && t.f[pythonTaskKey] == nil {
			for _, e := range pairs(n) {
				if !ok[e.key.Value] {
					p.errorf(e.key, "partial() got an unexpected keyword argument %q for %s%s", e.key.Value, spec.Class, suggest(e.key.Value, keys(ok)))
				}
			}
		}
	}

	// Later layers win: DAG default_args, then groups outermost first,
	// then the task.
	eff := layer{}
	var chain []*rawGroup
	for g := t.group; g != nil; g = g.parent {
		chain = append([]*rawGroup{g}, chain...)
	}
	layers := []layer{defArgs}
	for _, g := range chain {
		layers = append(layers, g.args)
	}
	for _, l := range layers {
		for k, a := range l {
			if ok[k] && k != "task_id" && k != "operator" && k != "dependencies" && k != "task_group_name" {
				eff[k] = a
			}
		}
	}
	for k, a := range t.own {
		if ok[k] {
			eff[k] = a
		}
	}
	p.taskFields(dag, task, eff)
	if spec != nil {
		task.Expand = p.expand(t, ok)
	} else {
		task.Expand = p.expand(t, nil)
	}
	task.Args = p.taskArgs(t, spec, eff, task.Expand)
	if g := p.mappedGroup(t); g != nil {
		// After the arguments: the group's mapped names are its
		// function's, which the operator's required arguments are not.
		task.Expand, task.ExpandGroup = p.groupExpand(t, g), g.id
	}
	if n := t.f["map_index_template"]; n != nil && !isNull(n) {
		if s, err := asString(n); err != nil {
			p.errorf(n, "map_index_template %v", err)
		} else {
			task.MapIndexTemplate = s
		}
	}
	if tp, ok := task.Args["params"].(map[string]any); ok {
		task.Args["params"], _ = splitParams(tp)
	}
	if spec != nil && spec.Name == windsock.PythonFileTaskOperator {
		p.pythonTask(t, task)
	}
	if a, ok := eff["outlets"]; ok {
		task.Outlets = p.outlets(a.val)
	}
	return task
}

func keyNode(t *rawTask, k string) *yaml.Node {
	if n, ok := t.keys[k]; ok {
		return n
	}
	return t.at
}

// taskFields sets the windsock.Task fields from the effective arguments.
func (p *dagParser) taskFields(dag *windsock.DAG, task *windsock.Task, eff layer) {
	get := func(k string) (argNode, bool) {
		a, ok := eff[k]
		return a, ok && !isNull(a.val)
	}
	duration := func(k string) (time.Duration, bool) {
		a, ok := get(k)
		if !ok {
			return 0, false
		}
		var d time.Duration
		var err error
		if a.seconds {
			d, err = asSeconds(a.val)
		} else {
			d, err = asDuration(a.val)
		}
		if err != nil {
			p.errorf(a.val, "%s: %v", a.key.Value, err)
			return 0, false
		}
		return d, true
	}
	boolean := func(k string, dst *bool) {
		if a, ok := get(k); ok {
			b, err := asBool(a.val)
			if err != nil {
				p.errorf(a.val, "%s %v", k, err)
				return
			}
			*dst = b
		}
	}
	integer := func(k string, lo int, dst *int) {
		if a, ok := get(k); ok {
			i, err := asInt(a.val)
			if err != nil {
				p.errorf(a.val, "%s %v", k, err)
				return
			}
			if i < lo {
				p.errorf(a.val, "%s must be at least %d, got %d", k, lo, i)
				return
			}
			*dst = i
		}
	}
	str := func(k string, dst *string) {
		if a, ok := get(k); ok {
			s, err := asString(a.val)
			if err != nil {
				p.errorf(a.val, "%s %v", k, err)
				return
			}
			if s == "" {
				p.errorf(a.val, "%s must not be empty", k)
				return
			}
			*dst = s
		}
	}

	if a, ok := get("trigger_rule"); ok {
		s, err := asString(a.val)
		rule, valid := windsock.ParseTriggerRule(s)
		if err != nil || !valid {
			names := make([]string, 0, 12)
			for _, r := range windsock.TriggerRules() {
				names = append(names, string(r))
			}
			p.errorf(a.val, "bad trigger_rule %s%s: use one of %s", kindName(a.val), suggest(s, names), strings.Join(names, ", "))
		} else {
			task.TriggerRule = rule
		}
	}
	if a, ok := get("weight_rule"); ok {
		s, err := asString(a.val)
		rule, valid := windsock.ParseWeightRule(s)
		if err != nil || !valid {
			p.errorf(a.val, "bad weight_rule %s: use downstream, upstream or absolute", kindName(a.val))
		} else {
			task.WeightRule = rule
		}
	}
	str("owner", &task.Owner)
	str("pool", &task.Pool)
	str("queue", &task.Queue)
	integer("retries", 0, &task.Retries)
	integer("pool_slots", 1, &task.PoolSlots)
	integer("priority_weight", -1<<31, &task.PriorityWeight)
	boolean("retry_exponential_backoff", &task.RetryExponentialBackoff)
	boolean("depends_on_past", &task.DependsOnPast)
	boolean("wait_for_downstream", &task.WaitForDownstream)
	boolean("do_xcom_push", &task.DoXComPush)
	if task.WaitForDownstream {
		task.DependsOnPast = true
	}
	if d, ok := duration("retry_delay"); ok {
		task.RetryDelay = windsock.Duration(d)
	}
	if d, ok := duration("max_retry_delay"); ok {
		task.MaxRetryDelay = windsock.Duration(d)
	} else if task.RetryExponentialBackoff {
		task.MaxRetryDelay = windsock.Duration(p.d.MaxRetryDelay)
	}
	if d, ok := duration("execution_timeout"); ok {
		task.ExecutionTimeout = windsock.Duration(d)
	}
	if d, ok := duration("sla"); ok {
		task.SLA = windsock.Duration(d)
	}
	task.StartDate = p.taskDate(eff, "start_date")
	task.EndDate = p.taskDate(eff, "end_date")
	// Airflow's DAG.add_task: a task starts no earlier and ends no later
	// than its DAG.
	if dag.StartDate != nil && (task.StartDate == nil || task.StartDate.Before(*dag.StartDate)) {
		task.StartDate = dag.StartDate
	}
	if dag.EndDate != nil && (task.EndDate == nil || task.EndDate.After(*dag.EndDate)) {
		task.EndDate = dag.EndDate
	}
}

func (p *dagParser) taskDate(eff layer, k string) *time.Time {
	a, ok := eff[k]
	if !ok || isNull(a.val) {
		return nil
	}
	d, err := parseDate(a.val, p.loc, p.d.Now)
	if err != nil {
		p.errorf(a.val, "%s: %v", k, err)
		return nil
	}
	t := d.t.In(p.loc)
	return &t
}

// taskArgs collects the operator's own arguments and the BaseOperator
// arguments without a Task field, and checks the required ones.
func (p *dagParser) taskArgs(t *rawTask, spec *operator.Spec, eff layer, ex *windsock.Expand) map[string]any {
	aliases, skip := p.argKeys()
	args := map[string]any{}
	for k, a := range eff {
		if skip[k] {
			continue
		}
		if a.seconds {
			d, err := asSeconds(a.val)
			if err != nil {
				p.errorf(a.val, "%s %v", a.key.Value, err)
				continue
			}
			args[k] = d.Seconds()
			continue
		}
		if boolArgs[k] {
			b, err := asBool(a.val)
			if err != nil {
				p.errorf(a.val, "%s %v", k, err)
				continue
			}
			args[k] = b
			continue
		}
		args[k] = value(a.val)
	}
	for prefix, target := range aliases {
		name, hasName := eff[prefix+"_name"]
		file, hasFile := eff[prefix+"_file"]
		lambda, hasLambda := eff[prefix+"_lambda"]
		switch {
		case hasName && hasFile:
			n, err1 := asString(name.val)
			f, err2 := asString(file.val)
			if err1 != nil || err2 != nil {
				p.errorf(name.val, "%s_name and %s_file must be strings", prefix, prefix)
				continue
			}
			args[target] = f + ":" + n
		case hasName:
			p.errorf(name.key, "%s_name needs %s_file too (the absolute path of the Python file defining it)", prefix, prefix)
		case hasFile:
			p.errorf(file.key, "%s_file needs %s_name too (the function to call in that file)", prefix, prefix)
		case hasLambda:
			s, err := asString(lambda.val)
			if err != nil {
				p.errorf(lambda.val, "%s_lambda %v", prefix, err)
				continue
			}
			args[target] = s
		}
	}
	if spec == nil {
		return args
	}
	for _, r := range spec.Required() {
		if args[r] == nil && !expands(ex, r) {
			hint := ""
			if _, ok := callableAliases[r]; ok {
				hint = fmt.Sprintf(" (or %s_name and %s_file)", r, r)
			}
			p.errorf(t.at, "task %q: %s needs %s%s", t.name, spec.Class, r, hint)
		}
	}
	if spec.Sensor {
		p.sensorArgs(eff)
	}
	if len(args) == 0 {
		return nil
	}
	return args
}

func (p *dagParser) sensorArgs(eff layer) {
	if a, ok := eff["mode"]; ok && !isNull(a.val) {
		if s, _ := asString(a.val); s != "poke" && s != "reschedule" {
			p.errorf(a.val, "bad sensor mode %s: use poke or reschedule", kindName(a.val))
		}
	}
	for _, k := range []string{"poke_interval", "timeout", "max_wait"} {
		if a, ok := eff[k]; ok && !isNull(a.val) {
			if _, err := asDuration(a.val); err != nil {
				p.errorf(a.val, "%s: %v", k, err)
			}
		}
	}
}

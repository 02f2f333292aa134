package dagfile

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/windsock"
)

// dagKeys are the keys a DAG mapping may hold. dag_display_name,
// default_view, orientation, template_searchpath and
// max_consecutive_failed_dag_runs are accepted and checked but not kept:
// windsock.DAG has no field for them yet.
var dagKeys = []string{
	"default_args", "description", "doc_md", "schedule", "schedule_interval", "timetable",
	"start_date", "end_date", "timezone", "catchup", "max_active_runs", "max_active_tasks",
	"concurrency", "dagrun_timeout", "dagrun_timeout_sec", "tags", "params",
	"is_paused_upon_creation", "default_view", "orientation", "render_template_as_native_obj",
	"access_control", "template_searchpath", "max_consecutive_failed_dag_runs", "tasks",
	"task_groups", "dag_display_name",
	"on_success_callback", "on_success_callback_name", "on_success_callback_file",
	"on_failure_callback", "on_failure_callback_name", "on_failure_callback_file",
	"sla_miss_callback", "sla_miss_callback_name", "sla_miss_callback_file",
}

// dagParser builds one DAG and records whether anything was wrong with it.
type dagParser struct {
	*fileParser
	id     string
	failed bool
	loc    *time.Location
}

func (p *dagParser) errorf(n *yaml.Node, format string, args ...any) {
	p.failed = true
	p.add(n, p.id, format, args...)
}

// fields indexes a mapping's entries by key, reporting repeated keys and,
// when known is given, keys not in it.
func (p *dagParser) fields(n *yaml.Node, what string, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	keyAt := map[string]*yaml.Node{}
	for _, e := range pairs(n) {
		k := e.key.Value
		if e.key.Kind != yaml.ScalarNode {
			p.errorf(e.key, "%s keys must be plain names, got %s", what, kindName(e.key))
			continue
		}
		if prev, dup := keyAt[k]; dup {
			p.errorf(e.key, "%s key %q is already set at line %d", what, k, prev.Line)
			continue
		}
		keyAt[k] = e.key
		if known != nil && !contains(known, k) {
			p.errorf(e.key, "unknown %s key %q%s", what, k, suggest(k, known))
			continue
		}
		out[k] = e.val
	}
	return out
}

// parse builds the DAG defined under key, or returns nil when it is too
// broken to look at further. Problems are recorded as errors.
func (p *dagParser) parse(key, val, defaults *yaml.Node) *windsock.DAG {
	if err := checkID("dag_id", p.id); err != nil {
		p.errorf(key, "bad DAG id: %v", err)
	}
	if !isMapping(val) {
		p.errorf(val, "DAG %q must be a mapping of DAG settings (default_args, schedule, tasks, ...), got %s", p.id, kindName(val))
		return nil
	}
	f := p.fields(mergeDefaults(val, defaults), "DAG", dagKeys)
	d := p.d
	dag := &windsock.DAG{
		DagID:                p.id,
		Fileloc:              p.path,
		Owners:               []string{},
		Catchup:              d.Catchup,
		MaxActiveRuns:        d.MaxActiveRuns,
		MaxActiveTasks:       d.MaxActiveTasks,
		IsPausedUponCreation: d.PausedAtCreation,
		Tasks:                []*windsock.Task{},
	}

	var defArgs layer
	if n := f["default_args"]; n != nil && !isNull(n) {
		if !isMapping(n) {
			p.errorf(n, "default_args must be a mapping of task arguments, got %s", kindName(n))
		} else {
			defArgs = newLayer(pairs(n))
			dag.DefaultArgs, _ = value(n).(map[string]any)
		}
	}

	p.loc = d.Timezone
	tzNode := f["timezone"]
	if tzNode == nil {
		tzNode = defArgs.get("timezone")
	}
	if tzNode != nil && !isNull(tzNode) {
		if loc, err := loadZone(tzNode); err != nil {
			p.errorf(tzNode, "%v", err)
		} else {
			p.loc = loc
		}
	}
	p.dates(dag, f, defArgs)
	dag.Timezone = p.loc.String()
	p.schedule(dag, f)
	p.settings(dag, f)
	p.graph(dag, f["tasks"], f["task_groups"], defArgs)
	return dag
}

func loadZone(n *yaml.Node) (*time.Location, error) {
	s, err := asString(n)
	if err != nil {
		return nil, fmt.Errorf("timezone %v", err)
	}
	if s == "" || s == "Local" {
		return nil, fmt.Errorf("timezone %q is not an IANA time zone name such as Europe/Paris", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q: use an IANA name such as UTC or Europe/Paris", s)
	}
	return loc, nil
}

// dates sets the DAG's start and end dates and settles its time zone: a
// start_date written with an offset decides the zone, as in Airflow.
func (p *dagParser) dates(dag *windsock.DAG, f map[string]*yaml.Node, defArgs layer) {
	pick := func(k string) *yaml.Node {
		if n := f[k]; n != nil {
			return n
		}
		return defArgs.get(k)
	}
	if n := pick("start_date"); n != nil && !isNull(n) {
		sd, err := parseDate(n, p.loc, p.d.Now)
		switch {
		case err != nil:
			p.errorf(n, "start_date: %v", err)
		case sd.zoned:
			loc, err := zoneFor(sd.t, p.loc)
			if err != nil {
				p.errorf(n, "start_date: %v", err)
				break
			}
			p.loc = loc
			fallthrough
		default:
			t := sd.t.In(p.loc)
			dag.StartDate = &t
		}
	}
	if n := pick("end_date"); n != nil && !isNull(n) {
		ed, err := parseDate(n, p.loc, p.d.Now)
		if err != nil {
			p.errorf(n, "end_date: %v", err)
			return
		}
		// An end_date before start_date is legal in Airflow (the DAG just
		// never runs), and dag-factory's README example relies on it.
		t := ed.t.In(p.loc)
		dag.EndDate = &t
	}
}

// defaultSchedule is Airflow 2's schedule for a DAG that names none:
// timedelta(days=1), shown as Python prints it.
func defaultSchedule() windsock.Schedule {
	return windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: "1 day, 0:00:00", Interval: windsock.Duration(24 * time.Hour)}
}

func (p *dagParser) schedule(dag *windsock.DAG, f map[string]*yaml.Node) {
	dag.Schedule = defaultSchedule()
	n, si := f["schedule"], f["schedule_interval"]
	if n != nil && si != nil && fmt.Sprint(value(n)) != fmt.Sprint(value(si)) {
		p.errorf(si, "set either schedule or schedule_interval, not both (schedule_interval is the older name)")
		return
	}
	if n == nil {
		n = si
	}
	if n == nil {
		return
	}
	if isDatasetSchedule(n) {
		if s, ok := p.datasetSchedule(n); ok {
			dag.Schedule = s
		}
		return
	}
	v := value(n)
	switch x := v.(type) {
	case map[string]any:
		if t, ok := x["__type__"].(string); ok && t != "datetime.timedelta" && t != "timedelta" {
			p.errorf(n, "schedule object %s is not supported: use a cron expression, a preset such as @daily, an interval or null", t)
			return
		}
		d, err := asDuration(n)
		if err != nil {
			p.errorf(n, "bad schedule interval: %v", err)
			return
		}
		if d <= 0 {
			p.errorf(n, "bad schedule interval: must be longer than zero")
			return
		}
		dag.Schedule = windsock.Schedule{Kind: windsock.ScheduleInterval, Expr: fmtDuration(d), Interval: windsock.Duration(d)}
		return
	}
	s, err := schedule.Parse(v)
	if err != nil {
		p.errorf(n, "%v", err)
		return
	}
	dag.Schedule = s
}

// fmtDuration prints an interval the way Python prints a timedelta.
func fmtDuration(d time.Duration) string {
	days := d / (24 * time.Hour)
	rest := d - days*24*time.Hour
	h, m, s := int(rest/time.Hour), int(rest%time.Hour/time.Minute), int(rest%time.Minute/time.Second)
	clock := fmt.Sprintf("%d:%02d:%02d", h, m, s)
	switch days {
	case 0:
		return clock
	case 1:
		return "1 day, " + clock
	}
	return fmt.Sprintf("%d days, %s", days, clock)
}

// settings reads the DAG's scalar and small structured settings.
func (p *dagParser) settings(dag *windsock.DAG, f map[string]*yaml.Node) {
	str := func(k string, dst *string) {
		if n := f[k]; n != nil && !isNull(n) {
			s, err := asString(n)
			if err != nil {
				p.errorf(n, "%s %v", k, err)
				return
			}
			if dst != nil {
				*dst = s
			}
		}
	}
	boolean := func(k string, dst *bool) {
		if n := f[k]; n != nil {
			b, err := asBool(n)
			if err != nil {
				p.errorf(n, "%s %v", k, err)
				return
			}
			*dst = b
		}
	}
	atLeast := func(k string, lo int, dst *int) {
		if n := f[k]; n != nil {
			i, err := asInt(n)
			if err != nil {
				p.errorf(n, "%s %v", k, err)
				return
			}
			if i < lo {
				p.errorf(n, "%s must be at least %d, got %d", k, lo, i)
				return
			}
			*dst = i
		}
	}
	str("description", &dag.Description)
	str("doc_md", &dag.DocMD)
	str("dag_display_name", nil)
	boolean("catchup", &dag.Catchup)
	boolean("is_paused_upon_creation", &dag.IsPausedUponCreation)
	boolean("render_template_as_native_obj", &dag.RenderTemplateAsNativeObj)
	atLeast("max_active_runs", 1, &dag.MaxActiveRuns)
	atLeast("max_active_tasks", 1, &dag.MaxActiveTasks)
	// dag-factory lets the deprecated concurrency win over max_active_tasks.
	atLeast("concurrency", 1, &dag.MaxActiveTasks)
	var failedRuns int
	atLeast("max_consecutive_failed_dag_runs", 0, &failedRuns)

	if dag.Schedule.Kind == windsock.ScheduleContinuous && dag.MaxActiveRuns != 1 {
		n := f["schedule"]
		if n == nil {
			n = f["schedule_interval"]
		}
		p.errorf(n, "schedule @continuous needs max_active_runs: 1 (got %d)", dag.MaxActiveRuns)
	}

	if n := f["dagrun_timeout"]; n != nil && !isNull(n) {
		d, err := asDuration(n)
		if err != nil {
			p.errorf(n, "dagrun_timeout: %v", err)
		}
		dag.DagrunTimeout = windsock.Duration(d)
	}
	if n := f["dagrun_timeout_sec"]; n != nil && !isNull(n) {
		d, err := asSeconds(n)
		if err != nil {
			p.errorf(n, "dagrun_timeout_sec %v", err)
		}
		dag.DagrunTimeout = windsock.Duration(d)
	}
	if n := f["tags"]; n != nil && !isNull(n) {
		p.tags(dag, n)
	}
	if n := f["params"]; n != nil && !isNull(n) {
		if !isMapping(n) {
			p.errorf(n, "params must be a mapping of parameter names to values, got %s", kindName(n))
		} else {
			params, _ := value(n).(map[string]any)
			dag.Params, dag.ParamSpecs = splitParams(params)
		}
	}
	p.enum(f, "default_view", []string{"grid", "graph", "duration", "gantt", "landing_times", "tree"})
	p.enum(f, "orientation", []string{"LR", "TB", "RL", "BT"})
	if n := f["template_searchpath"]; n != nil && !isNull(n) {
		if !stringOrList(n) {
			p.errorf(n, "template_searchpath must be a path or a list of paths, got %s", kindName(n))
		}
	}
	if n := f["access_control"]; n != nil && !isNull(n) {
		dag.AccessControl = p.accessControl(n)
	}
	for _, c := range []string{"on_success_callback", "on_failure_callback", "sla_miss_callback"} {
		v := any(nil)
		if n := f[c]; n != nil && !isNull(n) {
			v = value(n)
		} else if name, file := f[c+"_name"], f[c+"_file"]; name != nil && file != nil {
			v = fmt.Sprintf("%v:%v", value(file), value(name))
		}
		if v != nil {
			if dag.Callbacks == nil {
				dag.Callbacks = map[string]any{}
			}
			dag.Callbacks[c] = v
		}
	}
	if n := f["timetable"]; n != nil {
		p.errorf(n, "custom timetables are not supported: use schedule with a cron expression, a preset or an interval")
	}
}

func stringOrList(n *yaml.Node) bool {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		return false
	}
	for _, c := range n.Content {
		if resolve(c).Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

func (p *dagParser) enum(f map[string]*yaml.Node, k string, allowed []string) {
	n := f[k]
	if n == nil || isNull(n) {
		return
	}
	s, err := asString(n)
	if err != nil {
		p.errorf(n, "%s %v", k, err)
		return
	}
	if !contains(allowed, s) {
		p.errorf(n, "bad %s %q: use one of %s", k, s, strings.Join(allowed, ", "))
	}
}

// maxTagLength is Airflow's TAG_MAX_LEN.
const maxTagLength = 100

func (p *dagParser) tags(dag *windsock.DAG, n *yaml.Node) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "tags must be a list of strings, got %s", kindName(n))
		return
	}
	for _, c := range n.Content {
		s, err := asString(c)
		if err != nil {
			p.errorf(c, "tag %v", err)
			continue
		}
		if len(s) > maxTagLength {
			p.errorf(c, "tag %q is longer than %d characters", s, maxTagLength)
			continue
		}
		if !contains(dag.Tags, s) {
			dag.Tags = append(dag.Tags, s)
		}
	}
}

// accessControl reads role -> permissions, where permissions are a list
// (Airflow 2's form) or a mapping of resource -> list (2.10's form, of
// which only the "DAGs" resource maps onto windsock.DAG.AccessControl;
// "DAG Runs" permissions are checked and dropped).
func (p *dagParser) accessControl(n *yaml.Node) map[string][]string {
	if !isMapping(n) {
		p.errorf(n, "access_control must map role names to permissions such as [can_read, can_edit], got %s", kindName(n))
		return nil
	}
	out := map[string][]string{}
	for _, e := range pairs(n) {
		role := e.key.Value
		v := resolve(e.val)
		if v.Kind == yaml.MappingNode {
			for _, r := range pairs(v) {
				switch r.key.Value {
				case "DAGs":
					out[role] = p.permissions(r.val, []string{"can_read", "can_edit", "can_delete"})
				case "DAG Runs":
					p.permissions(r.val, []string{"can_create", "can_read", "can_edit", "can_delete", "menu_access"})
				default:
					p.errorf(r.key, "unknown access_control resource %q for role %q: use DAGs or \"DAG Runs\"", r.key.Value, role)
				}
			}
			continue
		}
		out[role] = p.permissions(v, []string{"can_read", "can_edit", "can_delete"})
	}
	return out
}

func (p *dagParser) permissions(n *yaml.Node, allowed []string) []string {
	n = resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	} else if isNull(n) {
		return []string{}
	}
	out := []string{}
	for _, c := range items {
		s, err := asString(c)
		if err != nil {
			p.errorf(c, "permission %v", err)
			continue
		}
		// Airflow 2 still accepts the pre-2.0 permission names.
		switch s {
		case "can_dag_read":
			s = "can_read"
		case "can_dag_edit":
			s = "can_edit"
		}
		if !contains(allowed, s) {
			p.errorf(c, "unknown permission %q: use %s", s, strings.Join(allowed, ", "))
			continue
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

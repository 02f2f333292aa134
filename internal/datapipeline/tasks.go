package datapipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// task is one task of the DAG being built.
type task struct {
	id, objID, objType, operator string
	args                         []kv
	deps                         []string
	retries                      *int
	retryDelay, timeout, sla     *Period
	queue                        string
	onFailure, onSuccess         []any
	comments                     []string
	// placeholder says the task only fails, saying why.
	placeholder bool
	// retriesWhy is the comment on retries ("" means maximumRetries).
	retriesWhy string
}

// kv is one ordered mapping entry; comment goes above it.
type kv struct {
	k       string
	v       any
	comment string
}

func (t *task) arg(k string, v any) { t.args = append(t.args, kv{k: k, v: v}) }

func (t *task) dependOn(ids ...string) {
	for _, id := range ids {
		if id != t.id && !containsString(t.deps, id) {
			t.deps = append(t.deps, id)
		}
	}
}

var taskIDChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// taskID makes a unique, valid task id from an object id.
func (c *converter) taskID(objID string) string {
	base := strings.Trim(taskIDChars.ReplaceAllString(objID, "_"), "_")
	if base == "" {
		base = "task"
	}
	if len(base) > 200 {
		base = base[:200]
	}
	id := base
	for i := 2; c.ids[id]; i++ {
		id = fmt.Sprintf("%s_%d", base, i)
	}
	c.ids[id] = true
	return id
}

// buildTasks makes a task per activity and a sensor per precondition,
// then the edges between them.
func (c *converter) buildTasks() {
	var activities []*node
	for _, o := range c.def.Objects {
		if n := c.nodes[o.ID]; n != nil && c.kinds[o.ID] == kActivity && c.byID[o.ID] == o {
			activities = append(activities, n)
		}
	}
	for _, n := range activities {
		t := &task{id: c.taskID(n.ID), objID: n.ID, objType: n.Type}
		c.taskOf[n.ID] = t
	}
	for _, o := range c.def.Objects {
		n := c.nodes[o.ID]
		if n != nil && c.kinds[o.ID] == kUnknown && o.Type != "" {
			t := &task{id: c.taskID(n.ID), objID: n.ID, objType: n.Type}
			c.taskOf[n.ID] = t
			c.placeholder(t, fmt.Sprintf("object type %s is not known to the converter", n.Type))
		}
	}
	// Tasks in definition order; sensors go right before the first task
	// that waits for them.
	for _, o := range c.def.Objects {
		n := c.nodes[o.ID]
		t := c.taskOf[o.ID]
		if t == nil || n == nil {
			continue
		}
		if c.kinds[o.ID] == kActivity {
			c.preconditionSensors(n, t)
			c.activity(n, t)
			c.settings(n, t)
		}
		c.tasks = append(c.tasks, t)
	}
	c.edges(activities)
	c.reportLeftovers()
}

// placeholder makes t a task that fails at once, saying why: the report
// names it too.
func (c *converter) placeholder(t *task, why string) {
	c.placeholderOf(t, why)
	c.problem(Unsupported, t.objID, "type", "%s", why)
}

// placeholderOf makes t a failing placeholder without a new problem, for
// reasons already reported.
func (c *converter) placeholderOf(t *task, why string) {
	msg := fmt.Sprintf("Data Pipeline object %s (%s) was not converted: %s", t.objID, t.objType, why)
	t.operator = "bash"
	t.placeholder = true
	t.retriesWhy = "a placeholder fails once"
	t.args = nil
	t.arg("bash_command", jinjaOpen.Replace("echo "+shellQuote(msg)+" >&2; exit 1"))
	zero := 0
	t.retries = &zero
	t.comments = append(t.comments, "NOT CONVERTED: "+why)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellWord quotes translated pieces as one shell word: literal text in
// single quotes, rendered values in double quotes.
func shellWord(ps []piece) string {
	if len(ps) == 0 {
		return "''"
	}
	var b strings.Builder
	for _, p := range ps {
		if p.jinja {
			b.WriteString(`"{{ ` + p.text + ` }}"`)
		} else {
			b.WriteString(jinjaOpen.Replace(shellQuote(p.text)))
		}
	}
	return b.String()
}

// field translates one string field of n into a template.
func (c *converter) field(n *node, f string) string {
	s, _ := c.tr.template(n.str(f), scope{obj: n}, site{n.ID, f})
	return s
}

// list translates every value of a list field. A value that is just an
// isArray parameter with several values stands for all of them, as Data
// Pipeline expands it into repeated fields.
func (c *converter) list(n *node, f string) []string {
	var out []string
	for i, v := range n.values(f) {
		if v.IsRef {
			continue
		}
		if vals := c.arrayValues(v.Str); vals != nil {
			for j, x := range vals {
				s, _ := c.tr.template(x, scope{obj: n}, site{n.ID, fmt.Sprintf("%s[%d][%d]", f, i, j)})
				out = append(out, s)
			}
			continue
		}
		s, _ := c.tr.template(v.Str, scope{obj: n}, site{n.ID, fmt.Sprintf("%s[%d]", f, i)})
		out = append(out, s)
	}
	return out
}

// arrayValues returns the values of the isArray parameter s consists of
// ("#{myList}"), nil when s is anything else.
func (c *converter) arrayValues(s string) []string {
	segs, err := splitExpressions(strings.TrimSpace(s))
	if err != nil || len(segs) != 1 || !segs[0].isEx {
		return nil
	}
	p := c.params[strings.TrimPrefix(strings.TrimSpace(segs[0].expr), "*")]
	if p == nil || !p.p.IsArray || strings.HasPrefix(p.p.ID, "*") {
		return nil
	}
	vals := p.values
	if vals == nil && p.p.HasDefault {
		vals = []string{p.p.Default}
	}
	if len(vals) < 2 {
		return nil
	}
	p.used = true
	return vals
}

// queue is where a task runs: its workerGroup, else the resource it runs on.
func queueOf(n *node) (string, string) {
	if r := n.refs("runsOn"); len(r) > 0 {
		return taskIDChars.ReplaceAllString(r[0], "_"), fmt.Sprintf("runsOn %s: a Windsock worker serving queue %q runs it", r[0], taskIDChars.ReplaceAllString(r[0], "_"))
	}
	if g := n.str("workerGroup"); g != "" {
		return g, fmt.Sprintf("workerGroup %s: a Windsock worker serving queue %q runs it (as a Task Runner of that group did)", g, g)
	}
	return "", ""
}

// settings carries retries, timeouts, lateness, actions and placement.
func (c *converter) settings(n *node, t *task) {
	if i, ok := intOf(n, "maximumRetries"); ok && t.retries == nil {
		t.retries = &i
	}
	if p, ok := c.periodOf(n, "retryDelay"); ok {
		t.retryDelay = &p
	}
	if p, ok := c.periodOf(n, "attemptTimeout"); ok {
		t.timeout = &p
	}
	if p, ok := c.periodOf(n, "reportProgressTimeout"); ok {
		c.problem(Warning, n.ID, "reportProgressTimeout", "%s: Windsock's own heartbeat detects stalled tasks; not carried over", p)
	}
	if p, ok := c.periodOf(n, "lateAfterTimeout"); ok {
		c.lateness(n, t, p)
	}
	t.queue, _ = queueOf(n)
	if _, why := queueOf(n); why != "" {
		t.comments = append(t.comments, why)
	}
	t.onFailure = c.actions(n, "onFail")
	t.onSuccess = c.actions(n, "onSuccess")
	if why, bad := c.failed[n.ID]; bad && !t.placeholder {
		c.placeholderOf(t, why)
	}
}

// lateness maps lateAfterTimeout (measured from the instance's scheduled
// start) to an SLA (measured by Windsock from the end of the run's data
// interval), and onLateAction to the DAG's SLA-miss handling.
func (c *converter) lateness(n *node, t *task, p Period) {
	sla := p
	if c.sched.typ == "timeseries" {
		d := p.Duration() - c.sched.period.Duration()
		if d <= 0 {
			c.problem(Warning, n.ID, "lateAfterTimeout", "%s is shorter than the period: the instance is late before its run is due; no SLA set", p)
			return
		}
		sla = Period{N: int(d.Minutes()), Unit: "minute"}
	}
	if c.sched.typ == "ondemand" {
		c.problem(Warning, n.ID, "lateAfterTimeout", "ignored for on-demand pipelines, as Data Pipeline does")
		return
	}
	t.sla = &sla
	for _, a := range n.refs("onLateAction") {
		an := c.nodes[a]
		switch {
		case an == nil:
		case an.Type == "Terminate":
			c.problem(Unsupported, n.ID, "onLateAction", "Terminate %s: Windsock reports an SLA miss but does not cancel the late task", a)
		case an.Type == "SnsAlarm" && !slices.Contains(c.lateAlarms, a):
			// One sla_miss_callback per DAG: an alarm several activities
			// share is sent once per check, naming every late task.
			c.lateAlarms = append(c.lateAlarms, a)
			c.lateActions = append(c.lateActions, c.alarmCallback(an, n))
		}
	}
}

// alarmCallback maps an SnsAlarm to an sns callback, or an email one with
// Options.AlarmEmail.
func (c *converter) alarmCallback(an, owner *node) map[string]any {
	subject, message := c.alarmText(an, owner, "subject"), c.alarmText(an, owner, "message")
	if c.opt.AlarmEmail != "" {
		return map[string]any{"email": map[string]any{"to": c.opt.AlarmEmail, "subject": subject, "message": message}}
	}
	return map[string]any{"sns": map[string]any{"topic_arn": an.str("topicArn"), "aws_conn_id": "aws_default", "subject": subject, "message": message}}
}

// actions maps onFail/onSuccess to task callbacks.
func (c *converter) actions(n *node, f string) []any {
	var out []any
	for _, a := range n.refs(f) {
		an := c.nodes[a]
		if an == nil {
			continue
		}
		switch an.Type {
		case "SnsAlarm":
			out = append(out, c.alarmCallback(an, n))
		case "Terminate":
			c.problem(Warning, n.ID, f, "Terminate %s as %s does nothing (Data Pipeline only uses it for lateness)", a, f)
		}
	}
	return out
}

// alarmText translates an SnsAlarm's subject or message for an sns
// callback, which is not rendered with Jinja: the instance's fields become
// the callback's {dag_id}, {task_id}, {logical_date}, {state}
// placeholders, other expressions are evaluated when they are constant.
func (c *converter) alarmText(an, owner *node, field string) string {
	segs, err := splitExpressions(an.str(field))
	if err != nil {
		c.problem(Warning, an.ID, field, "%v: sent as written", err)
		return an.str(field)
	}
	var b strings.Builder
	for _, sg := range segs {
		if !sg.isEx {
			b.WriteString(sg.lit)
			continue
		}
		e, err := parseExpr(sg.expr)
		if err == nil && e.kind == eRef {
			parts := e.parts
			if parts[0] == "node" {
				parts = parts[1:]
			}
			if len(parts) == 1 && strings.HasPrefix(parts[0], "@") {
				if ph, ok := c.alarmPlaceholder(an, parts[0]); ok {
					b.WriteString(ph)
					continue
				}
			}
		}
		j, _, err := c.tr.compileSource(sg.expr, scope{obj: an, owner: owner})
		if lit, ok := unquote(j); err == nil && ok {
			b.WriteString(lit)
			continue
		} else if err == nil && plainNumber.MatchString(j) {
			b.WriteString(j)
			continue
		}
		c.problem(Warning, an.ID, field, "#{%s} cannot be evaluated when the notification is sent: sent as written", sg.expr)
		b.WriteString("#{" + sg.expr + "}")
	}
	return b.String()
}

// alarmPlaceholder maps an instance field to an sns callback placeholder.
func (c *converter) alarmPlaceholder(an *node, name string) (string, bool) {
	switch name {
	case "@scheduledStartTime", "@scheduledEndTime", "@actualStartTime", "@actualEndTime":
		if name != "@scheduledStartTime" || c.sched.typ == "cron" {
			c.problem(Warning, an.ID, "message", "%s is sent as the run's logical date (the start of its data interval)", name)
		}
		return "{logical_date}", true
	case "@pipelineId":
		return "{dag_id}", true
	case "@id":
		return "{task_id}", true
	case "@status":
		return "{state}", true
	}
	return "", false
}

// preconditionSensors adds a sensor per precondition of the activity and
// of its input data nodes.
func (c *converter) preconditionSensors(n *node, t *task) {
	for _, p := range n.refs("precondition") {
		if s := c.sensor(c.nodes[p], n, n.ID+"_"+p); s != "" {
			t.dependOn(s)
		}
	}
	for _, in := range n.refs("input") {
		dn := c.nodes[in]
		if dn == nil {
			continue
		}
		if _, done := c.sensors[in]; !done {
			c.sensors[in] = []string{}
			for _, p := range dn.refs("precondition") {
				if s := c.sensor(c.nodes[p], dn, in+"_"+p); s != "" {
					c.sensors[in] = append(c.sensors[in], s)
				}
			}
		}
		t.dependOn(c.sensors[in]...)
	}
}

// sensor adds the task for precondition p of owner and returns its id.
func (c *converter) sensor(p, owner *node, name string) string {
	if p == nil {
		return ""
	}
	t := &task{id: c.taskID(name), objID: p.ID, objType: p.Type}
	sc := scope{obj: p, owner: owner}
	t.comments = append(t.comments, fmt.Sprintf("precondition %s of %s", p.ID, owner.ID))
	switch p.Type {
	case "S3KeyExists":
		t.operator = "s3_key_sensor"
		key, _ := c.tr.template(p.str("s3Key"), sc, site{p.ID, "s3Key"})
		t.arg("bucket_key", key)
	case "S3PrefixNotEmpty":
		t.operator = "s3_key_sensor"
		prefix, _ := c.tr.template(p.str("s3Prefix"), sc, site{p.ID, "s3Prefix"})
		t.arg("bucket_key", strings.TrimSuffix(prefix, "*")+"*")
		t.arg("wildcard_match", true)
	case "Exists":
		path := owner.str("filePath")
		wild := false
		if path == "" {
			path, wild = owner.str("directoryPath"), true
		}
		if owner.Type != "S3DataNode" || path == "" {
			c.placeholder(t, fmt.Sprintf("Exists on %s %s: only S3 data nodes can be checked", owner.Type, owner.ID))
			break
		}
		t.operator = "s3_key_sensor"
		key, _ := c.tr.template(path, scope{obj: owner, owner: owner}, site{owner.ID, "filePath"})
		if wild {
			key = strings.TrimSuffix(key, "/") + "/*"
			t.arg("wildcard_match", true)
		}
		t.args = append([]kv{{k: "bucket_key", v: key}}, t.args...)
	case "ShellCommandPrecondition":
		if p.has("scriptUri") {
			c.placeholder(t, "ShellCommandPrecondition with scriptUri: use command")
			break
		}
		t.operator = "bash_sensor"
		cmd, _ := c.tr.template(p.str("command"), sc, site{p.ID, "command"})
		if args := p.values("scriptArgument"); len(args) > 0 {
			cmd = c.setArgs(p, sc) + cmd
		}
		t.arg("bash_command", cmd)
	case "DynamoDBTableExists", "DynamoDBDataExists":
		t.operator = "dynamodb_value_sensor"
		t.arg("table_name", p.str("tableName"))
		t.arg("partition_key_name", "FILL_IN")
		t.arg("partition_key_value", "FILL_IN")
		t.comments = append(t.comments, "NEEDS THE AMAZON PROVIDER: Windsock has no DynamoDB support; this sensor fails until it does.")
		c.problem(Unsupported, p.ID, "type", "%s needs Amazon DynamoDB, which Windsock does not support: the sensor fails saying so", p.Type)
	default:
		c.placeholder(t, p.Type+" has no Windsock sensor")
	}
	if !t.placeholder {
		t.arg("mode", "reschedule")
		interval := Period{N: 10, Unit: "minute"}
		if d, ok := c.periodOf(p, "retryDelay"); ok {
			interval = d
		}
		t.arg("poke_interval", int(interval.Duration().Seconds()))
		if d, ok := c.periodOf(p, "preconditionTimeout"); ok {
			t.arg("timeout", int(d.Duration().Seconds()))
		} else {
			t.comments = append(t.comments, "no preconditionTimeout: Data Pipeline waits forever; the sensor gives up after Windsock's default 7 days")
		}
		zero := 0
		t.retries = &zero
		t.retriesWhy = "the sensor's own pokes are the retries"
	}
	if why, bad := c.failed[p.ID]; bad && !t.placeholder {
		c.placeholderOf(t, why)
	}
	t.queue, _ = queueOf(owner)
	c.taskOf[p.ID+"@"+owner.ID] = t
	c.tasks = append(c.tasks, t)
	return t.id
}

// setArgs is a "set --" line giving a command its scriptArgument values
// as $1, $2, ...
func (c *converter) setArgs(n *node, sc scope) string {
	var words []string
	for i, v := range n.values("scriptArgument") {
		vals := c.arrayValues(v.Str)
		if vals == nil {
			vals = []string{v.Str}
		}
		for _, x := range vals {
			ps, _ := c.tr.pieces(x, sc, site{n.ID, fmt.Sprintf("scriptArgument[%d]", i)})
			words = append(words, shellWord(ps))
		}
	}
	return "set -- " + strings.Join(words, " ") + "\n"
}

// edges adds dependsOn edges and producer -> consumer data edges.
func (c *converter) edges(activities []*node) {
	producers := map[string][]string{}
	for _, n := range activities {
		for _, out := range n.refs("output") {
			producers[out] = append(producers[out], c.taskOf[n.ID].id)
		}
	}
	for _, n := range activities {
		t := c.taskOf[n.ID]
		for _, d := range n.refs("dependsOn") {
			switch {
			case c.taskOf[d] != nil:
				t.dependOn(c.taskOf[d].id)
			case c.kinds[d] == kDataNode:
				t.dependOn(producers[d]...)
				t.dependOn(c.sensors[d]...)
			}
		}
		for _, in := range n.refs("input") {
			if ps := producers[in]; len(ps) > 0 {
				before := len(t.deps)
				t.dependOn(ps...)
				if len(t.deps) > before {
					t.comments = append(t.comments, fmt.Sprintf("waits for the producer of its input %s, as Data Pipeline does", in))
				}
			}
		}
		if mode := n.str("failureAndRerunMode"); len(t.deps) > 0 && (mode == "" || strings.EqualFold(mode, "none")) {
			t.comments = append(t.comments, "failureAndRerunMode none: Data Pipeline would leave this task waiting after an upstream failure; Windsock marks it upstream_failed (clear the failed task to rerun both).")
		}
	}
}

// reportLeftovers reports objects that become no task.
func (c *converter) reportLeftovers() {
	used := map[string]bool{}
	for _, n := range c.nodes {
		for _, vs := range n.fields {
			for _, v := range vs {
				if v.IsRef {
					used[v.Ref] = true
				}
			}
		}
	}
	for _, o := range c.def.Objects {
		n := c.nodes[o.ID]
		if n == nil || c.byID[o.ID] != o {
			continue
		}
		switch c.kinds[o.ID] {
		case kDataNode:
			if !used[o.ID] {
				c.problem(Warning, o.ID, "", "data node is not used by any activity: dropped")
			}
		case kResource:
			c.problem(Warning, o.ID, "type", "%s is not provisioned: Windsock runs tasks on its own workers (settings kept as comments in the DAG file)", o.Type)
		}
	}
}

package datapipeline

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// emit writes the DAG file: dag-factory YAML with comments where a person
// should look.
func (c *converter) emit(rep *Report) []byte {
	dag := mapping()
	m := c.sched
	desc := "Converted from AWS Data Pipeline definition"
	if c.opt.Source != "" {
		desc += " " + baseName(c.opt.Source)
	}
	add(dag, "description", str(desc), "")
	sched := scalarNull()
	switch v := m.schedule.(type) {
	case string:
		sched = str(v)
	case map[string]int:
		sched = intMap(v)
	}
	add(dag, "schedule", sched, strings.Join(m.comments, "\n"))
	if m.start != nil {
		add(dag, "start_date", str(m.start.UTC().Format(time.RFC3339)), "")
	}
	if m.end != nil {
		add(dag, "end_date", str(m.end.UTC().Format(time.RFC3339)), "")
	}
	if m.typ != "ondemand" {
		add(dag, "catchup", boolean(true), "Data Pipeline runs every interval since the start (backfill)")
	}
	add(dag, "max_active_runs", num(c.maxActive()), "maxActiveInstances (Data Pipeline's default is 1)")
	add(dag, "tags", seq(str("datapipeline")), "")
	if params := c.dagParams(); len(params.Content) > 0 {
		add(dag, "params", params, "Parameters without a value at conversion time: set them when triggering a run")
	}
	if len(c.lateActions) > 0 {
		add(dag, "sla_miss_callback", value(c.lateActions), "onLateAction: sent when an activity has not succeeded lateAfterTimeout after its scheduled start")
	}
	defaults := mapping()
	add(defaults, "owner", str("datapipeline"), "")
	add(defaults, "retries", num(c.defaultRetries()), "Data Pipeline's default maximumRetries (when unset) is 2")
	add(defaults, "retry_delay", duration(c.defaultRetryDelay()), "")
	add(dag, "default_args", defaults, "")
	tasks := &yaml.Node{Kind: yaml.SequenceNode}
	for _, t := range c.tasks {
		tasks.Content = append(tasks.Content, c.taskNode(t))
	}
	add(dag, "tasks", tasks, "")

	root := mapping()
	key := str(c.opt.DagID)
	key.HeadComment = c.header(rep)
	root.Content = append(root.Content, key, dag)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		// Nodes built here always encode; a failure is a bug.
		panic(fmt.Sprintf("encode DAG file: %v", err))
	}
	return b.Bytes()
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// header is the comment at the top: where the file came from, what needs
// a person, and the resources Windsock does not provision.
func (c *converter) header(rep *Report) string {
	var lines []string
	lines = append(lines, "Converted by `windsock datapipeline convert` from "+orDefault(baseName(c.opt.Source), "a Data Pipeline definition")+".")
	lines = append(lines, "Schedule: "+rep.Schedule)
	var todo []string
	for _, p := range rep.Problems {
		if p.Kind == Warning {
			continue
		}
		todo = append(todo, fmt.Sprintf("- %s %s: %s", p.ObjectID, p.Field, p.Message))
	}
	if len(todo) > 0 {
		lines = append(lines, "", "NOT CONVERTED (these tasks fail saying why):")
		lines = append(lines, todo...)
	}
	for _, cr := range rep.Connections {
		lines = append(lines, "", fmt.Sprintf("Connection %s (from %s): conn_type %s, host %s, port %d, schema %s, login %s; set its password.",
			cr.ConnID, cr.ObjectID, cr.ConnType, cr.Host, cr.Port, cr.Schema, cr.Login))
	}
	if len(rep.Variables) > 0 {
		lines = append(lines, "", "Encrypted values are read from these Variables (create them): "+strings.Join(rep.Variables, ", "))
	}
	for _, o := range c.def.Objects {
		if c.kinds[o.ID] != kResource || c.byID[o.ID] != o {
			continue
		}
		n := c.nodes[o.ID]
		lines = append(lines, "", fmt.Sprintf("%s %s (not provisioned: tasks that ran on it run on Windsock's workers, queue %q):", o.Type, o.ID, taskIDChars.ReplaceAllString(o.ID, "_")))
		for _, k := range o.Order {
			if strings.HasPrefix(k, "*") {
				continue
			}
			var vals []string
			for _, v := range n.fields[k] {
				if v.IsRef {
					vals = append(vals, "ref "+v.Ref)
				} else {
					vals = append(vals, oneLine(v.Str))
				}
			}
			lines = append(lines, fmt.Sprintf("  %s: %s", k, strings.Join(vals, ", ")))
		}
	}
	return strings.Join(lines, "\n")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (c *converter) taskNode(t *task) *yaml.Node {
	n := mapping()
	add(n, "task_id", str(t.id), "")
	add(n, "operator", str(t.operator), "")
	for _, a := range t.args {
		add(n, a.k, value(a.v), a.comment)
	}
	if len(t.deps) > 0 {
		deps := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, d := range t.deps {
			deps.Content = append(deps.Content, str(d))
		}
		add(n, "dependencies", deps, "")
	}
	if t.retries != nil && *t.retries != c.defaultRetries() {
		add(n, "retries", num(*t.retries), orDefault(t.retriesWhy, "maximumRetries"))
	}
	if t.retryDelay != nil && *t.retryDelay != c.defaultRetryDelay() {
		add(n, "retry_delay", duration(*t.retryDelay), "retryDelay")
	}
	if t.timeout != nil {
		add(n, "execution_timeout", duration(*t.timeout), "attemptTimeout")
	}
	if t.sla != nil {
		add(n, "sla", duration(*t.sla), "lateAfterTimeout, counted from the end of the run's data interval")
	}
	if t.queue != "" {
		add(n, "queue", str(t.queue), "")
	}
	if len(t.onFailure) > 0 {
		add(n, "on_failure_callback", value(t.onFailure), "onFail")
	}
	if len(t.onSuccess) > 0 {
		add(n, "on_success_callback", value(t.onSuccess), "onSuccess")
	}
	n.Content[0].HeadComment = strings.Join(append([]string{fmt.Sprintf("%s %s", t.objType, t.objID)}, t.comments...), "\n")
	return n
}

// defaultRetries is Default's maximumRetries, else Data Pipeline's 2.
func (c *converter) defaultRetries() int {
	if d := c.nodes["Default"]; d != nil {
		if i, ok := intOf(d, "maximumRetries"); ok {
			return i
		}
	}
	return 2
}

// defaultRetryDelay is Default's retryDelay, else Data Pipeline's 10
// minutes.
func (c *converter) defaultRetryDelay() Period {
	if d := c.nodes["Default"]; d != nil {
		if p, ok := c.periodOf(d, "retryDelay"); ok {
			return p
		}
	}
	return Period{N: 10, Unit: "minute"}
}

func (c *converter) maxActive() int {
	best := 1
	for _, t := range c.tasks {
		if n := c.nodes[t.objID]; n != nil {
			if i, ok := intOf(n, "maxActiveInstances"); ok && i > best {
				best = i
			}
		}
	}
	return best
}

// dagParams are the parameters used without a value at conversion time,
// with their defaults.
func (c *converter) dagParams() *yaml.Node {
	n := mapping()
	ids := make([]string, 0, len(c.params))
	for id, p := range c.params {
		if p.used && p.values == nil && !strings.HasPrefix(p.p.ID, "*") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := c.params[id]
		var v *yaml.Node
		switch {
		case !p.p.HasDefault:
			v = str("")
		case strings.EqualFold(p.p.Type, "integer"):
			if i, err := strconv.Atoi(p.p.Default); err == nil {
				v = num(i)
			}
		case strings.EqualFold(p.p.Type, "double"):
			if f, err := strconv.ParseFloat(p.p.Default, 64); err == nil {
				v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(f, 'g', -1, 64)}
			}
		}
		if v == nil {
			v = str(p.p.Default)
		}
		add(n, p.p.ID, v, oneLine(p.p.Description))
	}
	return n
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func add(m *yaml.Node, k string, v *yaml.Node, comment string) {
	key := str(k)
	key.HeadComment = comment
	m.Content = append(m.Content, key, v)
}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

func num(i int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(i)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func scalarNull() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"} }

func seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle, Content: items}
}

func intMap(m map[string]int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, k := range sortedKeys(m) {
		n.Content = append(n.Content, str(k), num(m[k]))
	}
	return n
}

// duration is a period as a timedelta mapping ({minutes: 10}); months and
// years, which a timedelta cannot hold, as 30 and 365 days.
func duration(p Period) *yaml.Node {
	switch p.Unit {
	case "month":
		return intMap(map[string]int{"days": 30 * p.N})
	case "year":
		return intMap(map[string]int{"days": 365 * p.N})
	}
	return intMap(map[string]int{p.Unit + "s": p.N})
}

// value turns argument values (strings, numbers, lists, maps) into nodes.
func value(v any) *yaml.Node {
	switch x := v.(type) {
	case string:
		return str(x)
	case int:
		return num(x)
	case bool:
		return boolean(x)
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, it := range x {
			n.Content = append(n.Content, value(it))
		}
		return n
	case map[string]any:
		n := mapping()
		for _, k := range sortedKeys(x) {
			n.Content = append(n.Content, str(k), value(x[k]))
		}
		return n
	}
	return str(fmt.Sprint(v))
}

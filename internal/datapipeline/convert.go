package datapipeline

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Options tune one conversion.
type Options struct {
	// DagID is the DAG's id; empty means one derived from Source.
	DagID string
	// Source is the definition's file name, shown in the DAG file.
	Source string
	// Now is the activation time: where a FIRST_ACTIVATION_DATE_TIME
	// schedule starts.
	Now time.Time
	// Parameters, when non-nil, replace the definition's parameter
	// objects (--parameter-objects).
	Parameters []*Parameter
	// Values, when non-nil, replace the definition's values
	// (--parameter-values, --values).
	Values map[string][]string
	// AlarmEmail, when set, sends each SnsAlarm to these addresses through
	// the environment's email (SMTP) instead of publishing to its SNS
	// topic (--alarm-email).
	AlarmEmail string
}

// Problem kinds, from worst to mildest.
const (
	// Invalid: Data Pipeline itself would reject the definition.
	Invalid = "invalid"
	// Unsupported: converted into a task that fails saying why, or a
	// setting that is not carried over.
	Unsupported = "unsupported"
	// Warning: converted, but a person should look.
	Warning = "warning"
)

// Problem is one thing the report says about an object.
type Problem struct {
	Kind     string `json:"kind"`
	ObjectID string `json:"object_id,omitempty"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message"`
}

// TaskReport says which task an object became.
type TaskReport struct {
	TaskID   string `json:"task_id"`
	ObjectID string `json:"object_id"`
	Type     string `json:"type"`
	Operator string `json:"operator"`
}

// ConnectionReport is a connection the DAG uses, made from a database
// object, for the user to create (passwords are never written out).
type ConnectionReport struct {
	ConnID   string `json:"conn_id"`
	ConnType string `json:"conn_type"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Schema   string `json:"schema,omitempty"`
	Login    string `json:"login,omitempty"`
	ObjectID string `json:"object_id"`
	Native   bool   `json:"native"`
}

// Report is what a conversion says about a definition.
type Report struct {
	File  string `json:"file,omitempty"`
	DagID string `json:"dag_id"`
	// Status is converted, partial (unsupported parts) or invalid.
	Status      string             `json:"status"`
	Schedule    string             `json:"schedule,omitempty"`
	Tasks       []TaskReport       `json:"tasks"`
	Connections []ConnectionReport `json:"connections,omitempty"`
	// Variables are the Variables encrypted values are read from.
	Variables []string  `json:"variables,omitempty"`
	Repairs   []string  `json:"repairs,omitempty"`
	Problems  []Problem `json:"problems"`
}

// ExitCode is the CLI's exit status for the report: 0 converted, 3 with
// unsupported parts, 2 invalid.
func (r *Report) ExitCode() int {
	switch r.Status {
	case "invalid":
		return 2
	case "partial":
		return 3
	}
	return 0
}

// Result is a conversion's outcome: the DAG file (nil when invalid) and
// the report.
type Result struct {
	YAML   []byte
	Report *Report
}

// converter holds one conversion's state.
type converter struct {
	def      *Definition
	opt      Options
	byID     map[string]*Object
	nodes    map[string]*node
	kinds    map[string]kind
	params   map[string]*paramInfo
	problems []Problem
	tr       *translator
	// failed marks objects whose translation failed, so their task
	// becomes a failing placeholder.
	failed map[string]string
	sched  *scheduleMapping
	tasks  []*task
	taskOf map[string]*task
	conns  map[string]*ConnectionReport
	// lateActions are the DAG's sla_miss_callback: the onLateAction
	// SnsAlarms (lateAlarms, by id) of its activities.
	lateActions []any
	lateAlarms  []string
	// sensors are the sensor task ids guarding each data node.
	sensors map[string][]string
	ids     map[string]bool
}

func (c *converter) problem(k, obj, field, format string, args ...any) {
	c.problems = append(c.problems, Problem{Kind: k, ObjectID: obj, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Convert turns a parsed definition into a DAG file and a report.
func Convert(def *Definition, opt Options) *Result {
	c := &converter{def: def, opt: opt, byID: map[string]*Object{}, kinds: map[string]kind{},
		failed: map[string]string{}, taskOf: map[string]*task{}, conns: map[string]*ConnectionReport{},
		sensors: map[string][]string{}, ids: map[string]bool{}}
	if c.opt.Now.IsZero() {
		c.opt.Now = time.Now()
	}
	c.opt.Now = c.opt.Now.UTC().Truncate(time.Second)
	if c.opt.DagID == "" {
		c.opt.DagID = DagIDFor(opt.Source)
	}
	rep := &Report{File: opt.Source, DagID: c.opt.DagID, Repairs: def.Repairs, Tasks: []TaskReport{}}
	c.index()
	c.nodes = resolveAll(def.Objects, c.byID, func(id, field, msg string) { c.problem(Invalid, id, field, "%s", msg) })
	c.readParameters()
	c.tr = &translator{nodes: c.nodes, params: c.params, secrets: map[string]string{},
		fail: func(at site, msg string) {
			c.problem(Unsupported, at.obj, at.field, "%s", msg)
			if _, done := c.failed[at.obj]; !done {
				c.failed[at.obj] = fmt.Sprintf("field %s: %s", at.field, msg)
			}
		}}
	c.validate()
	if !c.has(Invalid) {
		c.sched = c.mapSchedule()
	}
	if !c.has(Invalid) {
		c.tr.ss, c.tr.se = c.sched.ss, c.sched.se
		c.buildTasks()
	}
	rep.Problems = c.sortedProblems()
	switch {
	case c.has(Invalid):
		rep.Status = "invalid"
		return &Result{Report: rep}
	case c.has(Unsupported):
		rep.Status = "partial"
	default:
		rep.Status = "converted"
	}
	rep.Schedule = c.sched.describe
	for _, t := range c.tasks {
		rep.Tasks = append(rep.Tasks, TaskReport{TaskID: t.id, ObjectID: t.objID, Type: t.objType, Operator: t.operator})
	}
	for _, id := range sortedKeys(c.conns) {
		rep.Connections = append(rep.Connections, *c.conns[id])
	}
	rep.Variables = sortedKeys(c.tr.secrets)
	return &Result{YAML: c.emit(rep), Report: rep}
}

func (c *converter) has(k string) bool {
	for _, p := range c.problems {
		if p.Kind == k {
			return true
		}
	}
	return false
}

func (c *converter) sortedProblems() []Problem {
	rank := map[string]int{Invalid: 0, Unsupported: 1, Warning: 2}
	out := append([]Problem{}, c.problems...)
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Kind] < rank[out[j].Kind] })
	return out
}

var dagIDChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// DagIDFor derives a DAG id from a definition's file name.
func DagIDFor(source string) string {
	base := source
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	base = strings.TrimSuffix(base, ".json")
	id := strings.Trim(dagIDChars.ReplaceAllString(base, "_"), "_.-")
	if id == "" {
		id = "datapipeline"
	}
	if len(id) > 200 {
		id = id[:200]
	}
	return id
}

// index checks ids and types and indexes objects by id.
func (c *converter) index() {
	for i, o := range c.def.Objects {
		if o.ID == "" {
			where := fmt.Sprintf("objects[%d]", i)
			if o.Name != "" {
				where += fmt.Sprintf(" (name %q)", o.Name)
			}
			c.problem(Invalid, where, "id", "object on line %d has no id", o.Line)
			continue
		}
		if _, dup := c.byID[o.ID]; dup {
			c.problem(Invalid, o.ID, "id", "id %q is used by more than one object", o.ID)
			continue
		}
		c.byID[o.ID] = o
		if o.Type == "" {
			continue
		}
		canon, k := canonicalType(o.Type)
		o.Type = canon
		c.kinds[o.ID] = k
	}
}

// readParameters merges parameter objects and values, command-line ones
// replacing the definition's.
func (c *converter) readParameters() {
	decl := c.def.Parameters
	if c.opt.Parameters != nil {
		decl = c.opt.Parameters
	}
	values := c.def.Values
	if c.opt.Values != nil {
		values = c.opt.Values
	}
	c.params = map[string]*paramInfo{}
	for _, p := range decl {
		id := strings.TrimPrefix(p.ID, "*")
		if _, dup := c.params[id]; dup {
			c.problem(Invalid, "parameters", p.ID, "parameter %q is declared twice", p.ID)
			continue
		}
		pi := &paramInfo{p: p}
		if v, ok := values[p.ID]; ok {
			pi.values = v
		} else if v, ok := values[id]; ok {
			pi.values = v
		}
		c.params[id] = pi
		c.checkParameter(pi)
	}
	for _, k := range sortedKeys(values) {
		if c.params[strings.TrimPrefix(k, "*")] == nil {
			c.problem(Warning, "values", k, "value for %q, which no parameter declares: kept as a DAG param", k)
			c.params[strings.TrimPrefix(k, "*")] = &paramInfo{p: &Parameter{ID: k, Type: "String", Default: strings.Join(values[k], ","), HasDefault: true}}
		}
	}
}

var paramName = regexp.MustCompile(`^\*?my[A-Z_]`)

func (c *converter) checkParameter(pi *paramInfo) {
	p := pi.p
	if !paramName.MatchString(p.ID) {
		c.problem(Warning, "parameters", p.ID, "parameter ids must start with \"my\" followed by a capital letter or '_'")
	}
	switch strings.ToLower(p.Type) {
	case "string", "integer", "double", "aws::s3::objectkey":
	default:
		c.problem(Invalid, "parameters", p.ID, "unknown parameter type %q: use String, Integer, Double or AWS::S3::ObjectKey", p.Type)
	}
	vals := pi.values
	if vals == nil && p.HasDefault {
		vals = []string{p.Default}
	}
	if vals == nil && !p.Optional {
		if strings.HasPrefix(p.ID, "*") {
			c.problem(Warning, "parameters", p.ID, "encrypted parameter %s is read at run time from the Variable %s: create it", p.ID, strings.TrimPrefix(p.ID, "*"))
		} else {
			c.problem(Warning, "parameters", p.ID, "parameter %s has no value and no default: a DAG param to set when triggering a run", p.ID)
		}
		return
	}
	if len(vals) > 1 && !p.IsArray {
		c.problem(Invalid, "parameters", p.ID, "parameter %s has %d values but is not isArray", p.ID, len(vals))
	}
	for _, v := range vals {
		if hasExpressions(v) {
			continue
		}
		switch strings.ToLower(p.Type) {
		case "integer":
			if _, err := strconv.Atoi(v); err != nil {
				c.problem(Invalid, "parameters", p.ID, "value %q of Integer parameter %s is not an integer", v, p.ID)
			}
		case "double":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				c.problem(Invalid, "parameters", p.ID, "value %q of Double parameter %s is not a number", v, p.ID)
			}
		}
		if len(p.AllowedValues) > 0 && !containsString(p.AllowedValues, v) {
			c.problem(Invalid, "parameters", p.ID, "value %q of %s is not one of its allowedValues (%s)", v, p.ID, strings.Join(p.AllowedValues, ", "))
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// staticValue evaluates a field at conversion time for the settings that
// must be known then (a Schedule's period and start): only parameter
// references are allowed.
func (c *converter) staticValue(s string) (string, error) {
	segs, err := splitExpressions(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, sg := range segs {
		if !sg.isEx {
			b.WriteString(sg.lit)
			continue
		}
		p := c.params[strings.TrimPrefix(strings.TrimSpace(sg.expr), "*")]
		if p == nil {
			return "", fmt.Errorf("#{%s} must be known when the pipeline is activated: only parameters may be used here", sg.expr)
		}
		p.used = true
		switch {
		case p.values != nil:
			b.WriteString(strings.Join(p.values, ","))
		case p.p.HasDefault:
			b.WriteString(p.p.Default)
		default:
			return "", fmt.Errorf("#{%s}: parameter %s has no value, and this field must be known when the pipeline is activated", sg.expr, p.p.ID)
		}
	}
	return b.String(), nil
}

package dagfile

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/windsock"
)

// dag-factory's ways of writing datasets, read here into
// windsock.DatasetCondition and Task.Outlets (what to do with them is the
// scheduler's business):
//
//	schedule: [s3://a, s3://b]                      # every one (DatasetAll)
//	schedule: {datasets: [s3://a, s3://b]}          # the same
//	schedule: {datasets: "(s3://a & s3://b) | s3://c"}
//	schedule: {datasets: !or [!and [s3://a, s3://b], s3://c]}
//	schedule: {datasets: {__or__: [{__and__: [s3://a, s3://b]}, s3://c]}}
//	schedule: {datasets: ..., cron: "0 1 * * 5"}    # DatasetOrTimeSchedule
//	schedule: {datasets: ..., timetable: {cron: "0 1 * * 5"}}
//	outlets: [s3://a, {uri: s3://b}]
//
// A dataset is a URI string or a mapping with uri (and an optional
// __type__ naming airflow.datasets.Dataset). dag-factory's file: form,
// which names datasets in another YAML file, is not supported.

// isDatasetSchedule reports whether a schedule value is written as
// datasets.
func isDatasetSchedule(n *yaml.Node) bool {
	n = resolve(n)
	switch n.Kind {
	case yaml.SequenceNode:
		return true
	case yaml.MappingNode:
		for _, e := range pairs(n) {
			if e.key.Value == "datasets" || e.key.Value == "file" {
				return true
			}
		}
	}
	return false
}

// datasetSchedule reads a dataset schedule; ok is false when it was wrong
// (the errors are recorded).
func (p *dagParser) datasetSchedule(n *yaml.Node) (windsock.Schedule, bool) {
	n = resolve(n)
	if n.Kind == yaml.SequenceNode {
		c, ok := p.datasetCondition(n, 0)
		return windsock.Schedule{Kind: windsock.ScheduleDatasets, Expr: "Dataset", Datasets: c}, ok
	}
	f := p.fields(n, "dataset schedule", []string{"datasets", "file", "timetable", "cron"})
	if fn := f["file"]; fn != nil {
		p.errorf(fn, "dataset schedules read from another file (file:) are not supported: list the dataset URIs under datasets")
		return windsock.Schedule{}, false
	}
	dn := f["datasets"]
	if dn == nil || isNull(dn) {
		p.errorf(n, "a dataset schedule needs datasets: a list of dataset URIs or a condition such as \"s3://a & s3://b\"")
		return windsock.Schedule{}, false
	}
	c, ok := p.datasetCondition(dn, 0)
	if !ok {
		return windsock.Schedule{}, false
	}
	s := windsock.Schedule{Kind: windsock.ScheduleDatasets, Expr: "Dataset", Datasets: c}
	cron := f["cron"]
	if tt := f["timetable"]; tt != nil && !isNull(tt) {
		if cron != nil {
			p.errorf(tt, "set either cron or timetable in a dataset schedule, not both")
			return windsock.Schedule{}, false
		}
		if !isMapping(tt) {
			p.errorf(tt, "timetable must be a mapping with cron (and optionally __type__ and timezone), got %s", kindName(tt))
			return windsock.Schedule{}, false
		}
		tf := p.fields(tt, "timetable", []string{"__type__", "cron", "timezone"})
		if cron = tf["cron"]; cron == nil {
			p.errorf(tt, "timetable needs cron: only cron timetables can be combined with datasets")
			return windsock.Schedule{}, false
		}
	}
	if cron != nil && !isNull(cron) {
		expr, err := asString(cron)
		if err != nil {
			p.errorf(cron, "cron %v", err)
			return windsock.Schedule{}, false
		}
		ts, err := schedule.Parse(expr)
		if err != nil {
			p.errorf(cron, "%v", err)
			return windsock.Schedule{}, false
		}
		if ts.Kind != windsock.ScheduleCron {
			p.errorf(cron, "a dataset schedule can be combined with a cron expression or a preset such as @daily only, got %q", expr)
			return windsock.Schedule{}, false
		}
		ts.Datasets = c
		return ts, true
	}
	return s, true
}

// maxConditionDepth bounds nested conditions, against hostile files.
const maxConditionDepth = 32

// datasetCondition reads one condition node.
func (p *dagParser) datasetCondition(n *yaml.Node, depth int) (*windsock.DatasetCondition, bool) {
	n = resolve(n)
	if depth > maxConditionDepth {
		p.errorf(n, "dataset condition is nested more than %d levels deep", maxConditionDepth)
		return nil, false
	}
	switch n.Kind {
	case yaml.SequenceNode:
		var list func(...*windsock.DatasetCondition) *windsock.DatasetCondition = windsock.DatasetAll
		switch n.Tag {
		case "!or":
			list = windsock.DatasetAny
		case "!and", "!!seq", "":
		default:
			p.errorf(n, "unknown dataset condition tag %s: use !and or !or", n.Tag)
			return nil, false
		}
		return p.datasetList(n, depth, list)
	case yaml.MappingNode:
		return p.datasetMapping(n, depth)
	case yaml.ScalarNode:
		s, err := asString(n)
		if err != nil {
			p.errorf(n, "dataset %v", err)
			return nil, false
		}
		c, err := parseDatasetExpression(s)
		if err != nil {
			p.errorf(n, "dataset condition %q: %v", s, err)
			return nil, false
		}
		return c, true
	}
	p.errorf(n, "a dataset condition must be a URI, a list or a mapping, got %s", kindName(n))
	return nil, false
}

func (p *dagParser) datasetList(n *yaml.Node, depth int, list func(...*windsock.DatasetCondition) *windsock.DatasetCondition) (*windsock.DatasetCondition, bool) {
	if len(n.Content) == 0 {
		p.errorf(n, "a dataset list must not be empty")
		return nil, false
	}
	cs := make([]*windsock.DatasetCondition, 0, len(n.Content))
	ok := true
	for _, c := range n.Content {
		x, good := p.datasetCondition(c, depth+1)
		ok = ok && good
		cs = append(cs, x)
	}
	return list(cs...), ok
}

// datasetMapping reads {__and__: [...]}, {__or__: [...]} or a dataset
// written as {uri: ..., __type__: airflow.datasets.Dataset}.
func (p *dagParser) datasetMapping(n *yaml.Node, depth int) (*windsock.DatasetCondition, bool) {
	f := p.fields(n, "dataset", []string{"__and__", "__or__", "uri", "__type__", "extra"})
	for op, list := range map[string]func(...*windsock.DatasetCondition) *windsock.DatasetCondition{"__and__": windsock.DatasetAll, "__or__": windsock.DatasetAny} {
		if v := f[op]; v != nil {
			if len(f) != 1 || resolve(v).Kind != yaml.SequenceNode {
				p.errorf(n, "%s takes a list of datasets or conditions, and nothing else beside it", op)
				return nil, false
			}
			return p.datasetList(resolve(v), depth, list)
		}
	}
	uri, err := asString(f["uri"])
	if err != nil {
		p.errorf(n, "dataset uri %v", err)
		return nil, false
	}
	if t := f["__type__"]; t != nil {
		if s, _ := asString(t); !strings.HasSuffix(s, "Dataset") {
			p.errorf(t, "dataset __type__ %q is not supported: use airflow.datasets.Dataset", s)
			return nil, false
		}
	}
	if err := windsock.CheckDatasetURI(uri); err != nil {
		p.errorf(f["uri"], "%v", err)
		return nil, false
	}
	return windsock.DatasetURI(uri), true
}

// outlets reads a task's outlets into dataset URIs.
func (p *dagParser) outlets(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		p.errorf(n, "outlets read from another file (file: and datasets:) are not supported: list the dataset URIs")
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []string
	for _, it := range items {
		it = resolve(it)
		var uri string
		if it.Kind == yaml.MappingNode {
			c, ok := p.datasetMapping(it, 0)
			if !ok {
				continue
			}
			if c.URI == "" {
				p.errorf(it, "an outlet is one dataset, not a condition")
				continue
			}
			uri = c.URI
		} else {
			s, err := asString(it)
			if err != nil {
				p.errorf(it, "outlet %v", err)
				continue
			}
			if err := windsock.CheckDatasetURI(s); err != nil {
				p.errorf(it, "%v", err)
				continue
			}
			uri = s
		}
		if !contains(out, uri) {
			out = append(out, uri)
		}
	}
	return out
}

// parseDatasetExpression reads dag-factory's condition strings: dataset
// URIs combined with & and |, & binding tighter, with parentheses. A bare
// URI is a condition too.
func parseDatasetExpression(s string) (*windsock.DatasetCondition, error) {
	ep := exprParser{src: s}
	c, err := ep.or(0)
	if err != nil {
		return nil, err
	}
	ep.space()
	if ep.pos < len(ep.src) {
		return nil, fmt.Errorf("unexpected %q at offset %d", ep.src[ep.pos:ep.pos+1], ep.pos)
	}
	return c, nil
}

type exprParser struct {
	src string
	pos int
}

func (e *exprParser) space() {
	for e.pos < len(e.src) && (e.src[e.pos] == ' ' || e.src[e.pos] == '\t' || e.src[e.pos] == '\n') {
		e.pos++
	}
}

func (e *exprParser) peek() byte {
	e.space()
	if e.pos < len(e.src) {
		return e.src[e.pos]
	}
	return 0
}

func (e *exprParser) or(depth int) (*windsock.DatasetCondition, error) {
	return e.binary(depth, '|', windsock.DatasetAny, e.and)
}

func (e *exprParser) and(depth int) (*windsock.DatasetCondition, error) {
	return e.binary(depth, '&', windsock.DatasetAll, e.term)
}

// binary reads operands joined by op, flattening a & b & c into one list.
func (e *exprParser) binary(depth int, op byte, list func(...*windsock.DatasetCondition) *windsock.DatasetCondition, operand func(int) (*windsock.DatasetCondition, error)) (*windsock.DatasetCondition, error) {
	first, err := operand(depth)
	if err != nil {
		return nil, err
	}
	cs := []*windsock.DatasetCondition{first}
	for e.peek() == op {
		e.pos++
		next, err := operand(depth)
		if err != nil {
			return nil, err
		}
		cs = append(cs, next)
	}
	if len(cs) == 1 {
		return first, nil
	}
	return list(cs...), nil
}

func (e *exprParser) term(depth int) (*windsock.DatasetCondition, error) {
	if depth > maxConditionDepth {
		return nil, fmt.Errorf("nested more than %d levels deep", maxConditionDepth)
	}
	switch c := e.peek(); c {
	case 0:
		return nil, fmt.Errorf("a dataset URI is missing at the end")
	case '(':
		e.pos++
		x, err := e.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if e.peek() != ')' {
			return nil, fmt.Errorf("missing ) at offset %d", e.pos)
		}
		e.pos++
		return x, nil
	case ')', '&', '|':
		return nil, fmt.Errorf("a dataset URI is missing before %q at offset %d", string(c), e.pos)
	}
	start := e.pos
	for e.pos < len(e.src) && !strings.ContainsRune(" \t\n()&|", rune(e.src[e.pos])) {
		e.pos++
	}
	uri := strings.Trim(e.src[start:e.pos], `"'`)
	if err := windsock.CheckDatasetURI(uri); err != nil {
		return nil, err
	}
	return windsock.DatasetURI(uri), nil
}

// Package dagfile turns DAG files into validated DAG definitions. Files are
// YAML in the dag-factory format (https://github.com/astronomer/dag-factory):
// top-level keys are DAG ids, plus an optional "default" block merged into
// every DAG. Every problem is reported as an Error carrying the file, line
// and column of the offending YAML node, the way Airflow shows import
// errors; one bad DAG does not hide the good ones in the same file.
package dagfile

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// Defaults are the config values the parser applies where a file is silent.
// NewDefaults returns Airflow's own defaults.
type Defaults struct {
	// Owner is the task owner when none is set ("airflow").
	Owner string
	// Retries is core.default_task_retries (0).
	Retries int
	// RetryDelay is core.default_task_retry_delay (300s).
	RetryDelay time.Duration
	// MaxRetryDelay is core.max_task_retry_delay (24h). It caps only
	// exponential backoff, so tasks get it in Task.MaxRetryDelay only when
	// retry_exponential_backoff is on and they set no max_retry_delay of
	// their own; otherwise Task.MaxRetryDelay stays 0.
	MaxRetryDelay time.Duration
	// Catchup is scheduler.catchup_by_default (true).
	Catchup bool
	// MaxActiveRuns is core.max_active_runs_per_dag (16).
	MaxActiveRuns int
	// MaxActiveTasks is core.max_active_tasks_per_dag (16).
	MaxActiveTasks int
	// PausedAtCreation is core.dags_are_paused_at_creation (true).
	PausedAtCreation bool
	// Timezone is core.default_timezone (UTC).
	Timezone *time.Location
	// Pool is the pool tasks use when they name none ("default_pool").
	Pool string
	// Queue is operators.default_queue ("default").
	Queue string
	// Now anchors relative start dates such as "2 days". It is injected so
	// parsing stays pure; the parser never reads the clock.
	Now time.Time
}

// NewDefaults returns Airflow 2.10's defaults, with now for relative dates.
func NewDefaults(now time.Time) Defaults {
	return Defaults{
		Owner:            "airflow",
		RetryDelay:       300 * time.Second,
		MaxRetryDelay:    24 * time.Hour,
		Catchup:          true,
		MaxActiveRuns:    16,
		MaxActiveTasks:   16,
		PausedAtCreation: true,
		Timezone:         time.UTC,
		Pool:             "default_pool",
		Queue:            "default",
		Now:              now,
	}
}

// resolved fills the fields whose zero value cannot be meant literally.
func (d Defaults) resolved() Defaults {
	def := NewDefaults(d.Now)
	if d.Owner == "" {
		d.Owner = def.Owner
	}
	if d.MaxRetryDelay <= 0 {
		d.MaxRetryDelay = def.MaxRetryDelay
	}
	if d.MaxActiveRuns <= 0 {
		d.MaxActiveRuns = def.MaxActiveRuns
	}
	if d.MaxActiveTasks <= 0 {
		d.MaxActiveTasks = def.MaxActiveTasks
	}
	if d.Timezone == nil {
		d.Timezone = def.Timezone
	}
	if d.Pool == "" {
		d.Pool = def.Pool
	}
	if d.Queue == "" {
		d.Queue = def.Queue
	}
	return d
}

// Error is one problem in a DAG file. Column is 0 when the YAML parser
// reported no column (syntax errors).
type Error struct {
	File   string
	Line   int
	Column int
	// DagID is the DAG the problem belongs to, "" for file-level problems.
	DagID   string
	Message string
	// Traceback says Message is a Python traceback, which names the file
	// and line itself and is shown as it is (Airflow's import error text).
	Traceback bool
}

// Error formats e as "file:line:column: message" ("file:line: message"
// when the column is unknown, "file: message" when the line is too).
func (e *Error) Error() string {
	if e.Traceback {
		return e.Message
	}
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
	if e.Column == 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// File is the outcome of parsing one DAG file.
type File struct {
	// Path is the fileloc as given to ParseFile.
	Path string
	// DAGs are the valid DAGs, in file order.
	DAGs []*windsock.DAG
	// BrokenDAGIDs are the ids of DAGs defined in the file that failed
	// validation, in file order.
	BrokenDAGIDs []string
	// Errors is every problem found, sorted by line and column.
	Errors []*Error
}

// checkID applies the id rule the API applies (windsock.CheckKey), so a
// DAG or task the parser accepts can always be addressed through the API.
func checkID(field, id string) error {
	return windsock.CheckKey(field, id)
}

// Unreadable is the outcome of a DAG file that could not be read (see
// ReadFile): no DAGs, and one error saying why, at the line and column of
// the first byte that is not text when that is the reason.
func Unreadable(path string, err error) *File {
	e := &Error{File: path}
	var de *DecodeError
	var pe *fs.PathError
	switch {
	case errors.As(err, &de):
		e.Line, e.Column = de.Line, de.Column
	case errors.As(err, &pe):
		err = pe.Err // the path is already the error's File
	}
	e.Message = "cannot read: " + err.Error()
	return &File{Path: path, Errors: []*Error{e}}
}

// ParseFile parses one DAG file. path is used as the DAGs' fileloc and in
// error messages; src is the file's content. A YAML syntax error fails the
// whole file; any other problem fails only the DAG it belongs to.
func ParseFile(path string, src []byte, d Defaults, ops *operator.Catalog) *File {
	p := &fileParser{path: path, d: d.resolved(), ops: ops}
	f := &File{Path: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line, col, msg := syntaxError(src, err)
		f.Errors = []*Error{{File: path, Line: line, Column: col, Message: "YAML syntax error: " + msg}}
		return f
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return f
	}
	if p.nulScalars(&doc); len(p.errs) > 0 {
		f.Errors = p.sorted()
		return f
	}
	if expandedSize(&doc, maxExpandedNodes) > maxExpandedNodes {
		p.add(doc.Content[0], "", "document refers to itself through aliases or expands to more than %d nodes; simplify its anchors and aliases", maxExpandedNodes)
		f.Errors = p.sorted()
		return f
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.add(root, "", "top level must be a mapping of DAG ids to DAG definitions, got %s", kindName(root))
		f.Errors = p.sorted()
		return f
	}

	entries := pairs(root)
	var defaults *yaml.Node
	for _, e := range entries {
		if e.key.Value == "default" {
			if !isMapping(e.val) {
				p.add(e.val, "", "default must be a mapping of DAG settings shared by every DAG in the file, got %s", kindName(e.val))
				continue
			}
			defaults = e.val
		}
	}

	first := map[string]*yaml.Node{}
	broken := map[string]bool{}
	var order []string
	dags := map[string]*windsock.DAG{}
	for _, e := range entries {
		id := e.key.Value
		if id == "default" {
			continue
		}
		if prev, dup := first[id]; dup {
			p.add(e.key, id, "DAG %q is defined twice in this file (first at line %d); rename one of them", id, prev.Line)
			broken[id] = true
			continue
		}
		first[id] = e.key
		order = append(order, id)
		dp := &dagParser{fileParser: p, id: id}
		dag := dp.parse(e.key, e.val, defaults)
		if dag == nil || dp.failed {
			broken[id] = true
			continue
		}
		dags[id] = dag
	}
	for _, id := range order {
		if broken[id] {
			f.BrokenDAGIDs = append(f.BrokenDAGIDs, id)
		} else {
			f.DAGs = append(f.DAGs, dags[id])
		}
	}
	f.Errors = p.sorted()
	return f
}

// fileParser holds what every DAG of one file shares.
type fileParser struct {
	path string
	d    Defaults
	ops  *operator.Catalog
	errs []*Error
	// python says the DAGs come from a Python file's parse documents
	// (ParsePythonDAGs), the only source of python_file_task tasks.
	python bool

	// Lookup tables derived from the catalog, built on first use.
	acceptedBySpec map[*operator.Spec]map[string]bool
	aliases        map[string]string
	argSkip        map[string]bool
}

func (p *fileParser) add(n *yaml.Node, dagID, format string, args ...any) {
	e := &Error{File: p.path, DagID: dagID, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// sorted returns the errors by position, dropping exact repeats: a bad
// value in the default block or in default_args is reported once, not once
// per DAG or task it reaches.
func (p *fileParser) sorted() []*Error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	var out []*Error
	seen := map[string]bool{}
	for _, e := range p.errs {
		k := fmt.Sprintf("%d:%d:%s", e.Line, e.Column, e.Message)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

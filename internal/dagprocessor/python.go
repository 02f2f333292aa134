package dagprocessor

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// PythonParser imports Python DAG files in Python children and returns
// what they defined (pyspec Contract 1): one file (Parse) or a batch of
// files in one child (ParseBatch). *pyrt.Runtime is one.
type PythonParser interface {
	Parse(ctx context.Context, path string, timeout time.Duration, h pyrt.Handler) (*pyrt.ParseResult, error)
	ParseBatch(ctx context.Context, paths []string, timeout time.Duration, h pyrt.Handler) ([]*pyrt.ParseResult, error)
}

// ErrPythonUnavailable wraps why a PythonParser has no interpreter to
// parse with: every Python DAG file then gets that as its import error.
var ErrPythonUnavailable = errors.New("cannot load Python DAG files")

// DefaultImportTimeout is core.dagbag_import_timeout's default.
const DefaultImportTimeout = 30 * time.Second

// parsePython parses one Python file through the Python parser, then its
// DAG documents through dagfile like a YAML file's DAGs.
func (p *Processor) parsePython(ctx context.Context, loc string, defaults dagfile.Defaults) *dagfile.File {
	if p.cfg.Python == nil {
		return fileError(loc, ErrPythonUnavailable.Error()+": no Python interpreter is configured")
	}
	timeout := p.importTimeout()
	res, err := p.cfg.Python.Parse(ctx, loc, timeout, p.cfg.PythonHandler)
	switch {
	case errors.Is(err, pyrt.ErrTimeout):
		return &dagfile.File{Path: loc, Errors: []*dagfile.Error{{File: loc, Traceback: true, Message: timeoutTraceback(loc, timeout)}}}
	case errors.Is(err, ErrPythonUnavailable):
		return fileError(loc, err.Error())
	case err != nil:
		return fileError(loc, "cannot parse the Python file: "+err.Error())
	}
	p.files[loc].readsVariables = len(res.VariablesRead) > 0
	return p.pythonFile(loc, res, defaults)
}

// importTimeout is the per-file limit pyrt takes: 0 for none.
func (p *Processor) importTimeout() time.Duration {
	return max(p.cfg.ImportTimeout, 0)
}

// parsePythonBatch parses locs in one Python child. When the batch fails
// as a whole (a file killed the child, or hung where SIGALRM cannot
// interrupt it), each file is parsed again on its own, so the failure is
// pinned on the file that caused it.
func (p *Processor) parsePythonBatch(ctx context.Context, locs []string, defaults dagfile.Defaults) {
	start := time.Now()
	results, err := p.cfg.Python.ParseBatch(ctx, locs, p.importTimeout(), p.cfg.PythonHandler)
	var stuck *pyrt.StuckError
	if errors.As(err, &stuck) && slices.Contains(locs, stuck.File) {
		// One file hung beyond SIGALRM's reach: it alone times out, and
		// the rest of its batch is parsed again.
		st := p.files[stuck.File]
		st.parsed = &dagfile.File{Path: stuck.File, Errors: []*dagfile.Error{{File: stuck.File, Traceback: true, Message: timeoutTraceback(stuck.File, stuck.Timeout)}}}
		st.duration = stuck.Timeout
		if rest := slices.DeleteFunc(slices.Clone(locs), func(l string) bool { return l == stuck.File }); len(rest) > 0 {
			p.parsePythonBatch(ctx, rest, defaults)
		}
		return
	}
	if err != nil {
		if len(locs) > 1 && !errors.Is(err, ErrPythonUnavailable) && ctx.Err() == nil {
			p.cfg.Logger.Warn("python parse batch failed; parsing its files one by one", "files", len(locs), "error", err)
		}
		for _, loc := range locs {
			p.parseTimed(ctx, loc, defaults)
		}
		return
	}
	share := time.Since(start) / time.Duration(len(locs))
	for i, loc := range locs {
		st := p.files[loc]
		st.readsVariables = len(results[i].VariablesRead) > 0
		st.parsed = p.safely(loc, func() *dagfile.File { return p.pythonFile(loc, results[i], defaults) })
		// The child's own measure of the import, as Airflow reports it.
		st.duration = time.Duration(results[i].Duration * float64(time.Second))
		if st.duration <= 0 {
			st.duration = share
		}
	}
}

// pythonFile turns one file's parse result into DAGs and import errors.
func (p *Processor) pythonFile(loc string, res *pyrt.ParseResult, defaults dagfile.Defaults) *dagfile.File {
	dags := make([]dagfile.PythonDAG, len(res.DAGs))
	for i, d := range res.DAGs {
		dags[i] = dagfile.PythonDAG{DagID: d.DagID, Line: d.Line, Doc: d.Doc}
	}
	f := dagfile.ParsePythonDAGs(loc, dags, defaults, p.cfg.Operators)
	for _, ie := range res.ImportErrors {
		f.Errors = append(f.Errors, &dagfile.Error{File: loc, Line: ie.Line, Message: ie.Message, Traceback: true})
	}
	for _, w := range res.Warnings {
		p.cfg.Logger.Warn("python dag file warning", "file", loc, "warning", w)
	}
	return f
}

func fileError(loc, msg string) *dagfile.File {
	return &dagfile.File{Path: loc, Errors: []*dagfile.Error{{File: loc, Message: msg}}}
}

// timeoutTraceback is the import error of a file killed at
// core.dagbag_import_timeout, in Airflow's words. The child is killed
// from outside, so unlike Airflow's SIGALRM there is no frame to show.
func timeoutTraceback(loc string, timeout time.Duration) string {
	secs := strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)
	if !strings.Contains(secs, ".") {
		secs += ".0"
	}
	return "Traceback (most recent call last):\n" +
		"airflow.exceptions.AirflowTaskTimeout: DagBag import timeout for " + loc + " after " + secs + "s.\n" +
		"Please take a look at these docs to improve your DAG import time:\n" +
		"* https://airflow.apache.org/docs/apache-airflow/2.10.3/best-practices.html#top-level-python-code\n" +
		"* https://airflow.apache.org/docs/apache-airflow/2.10.3/best-practices.html#reducing-dag-complexity"
}

// SecretCalls answers the calls a Python DAG file makes while it is
// imported: Variable.get (variable_get) and BaseHook.get_connection
// (connection_get), looked up as at run time, secrets backends first,
// then the store. Anything else is refused: parsing must not write.
type SecretCalls struct {
	Variables   *secrets.Variables
	Connections *secrets.Connections
}

// Call implements pyrt.Handler.
func (h SecretCalls) Call(ctx context.Context, name string, args json.RawMessage) (any, error) {
	switch name {
	case "variable_get":
		var a struct {
			Key string `json:"key"`
		}
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "variable_get: %v", err)
		}
		return h.Variables.Get(ctx, a.Key)
	case "connection_get":
		var a struct {
			ConnID string `json:"conn_id"`
		}
		if err := json.Unmarshal(args, &a); err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "connection_get: %v", err)
		}
		c, err := h.Connections.Get(ctx, a.ConnID)
		if err != nil {
			return nil, err
		}
		return ConnectionJSON(c), nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "%s is not available while a DAG file is parsed", name)
}

// ConnectionJSON is a connection as connection_get answers it: Airflow's
// Connection attributes, extra as its JSON text, port null when unset.
func ConnectionJSON(c *secrets.Connection) map[string]any {
	var port any
	if c.Port != 0 {
		port = c.Port
	}
	return map[string]any{
		"conn_id": c.ConnID, "conn_type": c.ConnType, "host": c.Host, "schema": c.Schema,
		"login": c.Login, "password": c.Password, "port": port, "extra": c.Extra, "description": c.Description,
	}
}

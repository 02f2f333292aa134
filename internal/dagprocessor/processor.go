// Package dagprocessor keeps the store in step with the DAG folder: it lists
// DAG files, parses the ones that changed, and writes their definitions,
// sources and import errors in one transaction per pass. Run once, it is
// what the CLI's DAG commands use; started as a service, it watches the
// folder and re-parses a changed file within milliseconds.
package dagprocessor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/fsnotify/fsnotify"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/startstop"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Root is one tree of DAG files: the DAG folder on disk, or the examples
// embedded in the binary.
type Root struct {
	// Dir prefixes every file's path to form its fileloc.
	Dir string
	// FS holds the files; paths in it are relative to Dir.
	FS fs.FS
	// Watch asks the service to react to changes under Dir (disk only).
	Watch bool
}

// Config holds what a Processor needs. Store, Roots and Operators are
// required; the rest have defaults.
type Config struct {
	Store     store.Store
	Roots     []Root
	Operators *operator.Catalog
	// Defaults are applied where DAG files are silent; Defaults.Now is set
	// from Clock at each pass.
	Defaults dagfile.Defaults
	// IgnoreSyntax is core.dag_ignore_file_syntax: "regexp" (default) or "glob".
	IgnoreSyntax string
	// MaxFileSize is core.max_dag_file_size: a DAG (or .airflowignore)
	// file larger than this is not read and gets an import error instead.
	// Default dagfile.DefaultMaxFileSize (10 MiB).
	MaxFileSize int64
	// RescanInterval is scheduler.dag_dir_list_interval: the safety-net pass
	// when no file event arrives. Default 5 minutes.
	RescanInterval time.Duration
	// HeartbeatInterval is how often the service's job row is refreshed.
	// Default 5 seconds.
	HeartbeatInterval time.Duration
	// Debounce gathers bursts of file events into one pass. Default 20 ms.
	Debounce time.Duration
	// PollInterval is how often the roots are passed over when they cannot
	// be watched (no inotify instance left: fs.inotify.max_user_instances
	// is per user, and each environment's processor takes one). Default
	// 5 seconds.
	PollInterval time.Duration
	// Python parses Python DAG files (a *pyrt.Runtime). When it is nil,
	// or fails with ErrPythonUnavailable, every Python DAG file is an
	// import error saying why, while YAML files load as usual.
	Python PythonParser
	// PythonHandler answers what a Python file asks while it is imported
	// (Variable.get, connections; see SecretCalls).
	PythonHandler pyrt.Handler
	// ImportTimeout is core.dagbag_import_timeout, the longest one Python
	// file may take to import. Default DefaultImportTimeout; negative
	// means no limit (Airflow's value <= 0).
	ImportTimeout time.Duration
	// SafeModeOff is core.dag_discovery_safe_mode = False: every .py file
	// is imported, not only those whose text holds "airflow" and "dag".
	SafeModeOff bool
	// MinFileProcessInterval is scheduler.min_file_process_interval: a
	// Python file that read Variables while it was imported is parsed
	// again on the first pass this long after its last parse, since its
	// DAGs may change without its text changing. Default 30 s.
	MinFileProcessInterval time.Duration
	// PluginsFolder is core.plugins_folder; files under it are never DAG
	// files, even when it lies inside a DAG folder.
	PluginsFolder string
	// OnPass, when set, is called after every pass the service runs (not
	// after direct Sync calls); tests wait on it instead of sleeping.
	OnPass func(*Report)
	// OnPassError, when set, is called after every pass of the service
	// that fails.
	OnPassError func(error)
	Logger      *slog.Logger
	Clock       func() time.Time
	Hostname    string
	// Metrics counts the parses and passes (nil: none).
	Metrics *metrics.Process
	// MetricsAddr is where this process serves its metrics, recorded in
	// the processor's job row; "" when it serves none of its own.
	MetricsAddr string
}

// Processor parses DAG files into the store. It remembers what it parsed so
// that a pass only re-parses files whose content changed.
type Processor struct {
	// Base gives the service (Start, Stop) the startstop shape.
	startstop.Base
	cfg Config

	mu     sync.Mutex // serialises passes
	files  map[string]*fileState
	owners map[string]string // dag_id -> fileloc that defines it
	// helpers are the Python files safe mode does not parse and those of
	// the plugins folder (modules DAG files may import), by path, with
	// their content hashes.
	helpers map[string]string
	first   bool

	// newWatcher makes the service's file watcher (fsnotify.NewWatcher;
	// tests make it fail).
	newWatcher func() (*fsnotify.Watcher, error)
}

type fileState struct {
	hash     string
	parsed   *dagfile.File
	duration time.Duration
	source   []byte
	readErr  error // why the file could not be read; source is nil then
	// parsedAt is when the file was last parsed; readsVariables says its
	// import read Variables, so it is parsed again every
	// MinFileProcessInterval even when its text did not change.
	parsedAt       time.Time
	readsVariables bool
}

// entry is one file of a root as read in a pass.
type entry struct {
	source  []byte
	readErr error
	// kept marks a file under a directory that could not be listed this
	// pass: it keeps its last state instead of being taken as removed.
	kept bool
}

// hash identifies what the pass saw, so an unchanged file, or a file that
// fails the same way again, is not parsed and written again.
func (e entry) hash() string {
	if e.readErr != nil {
		return contentHash([]byte("unreadable\x00" + e.readErr.Error()))
	}
	return contentHash(e.source)
}

// New returns a Processor for cfg.
func New(cfg Config) (*Processor, error) {
	if cfg.Store == nil || cfg.Operators == nil {
		return nil, errors.New("dagprocessor: Store and Operators are required")
	}
	if cfg.IgnoreSyntax == "" {
		cfg.IgnoreSyntax = "regexp"
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = dagfile.DefaultMaxFileSize
	}
	if cfg.RescanInterval <= 0 {
		cfg.RescanInterval = 5 * time.Minute
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 5 * time.Second
	}
	if cfg.MinFileProcessInterval <= 0 {
		cfg.MinFileProcessInterval = 30 * time.Second
	}
	if cfg.ImportTimeout == 0 {
		cfg.ImportTimeout = DefaultImportTimeout
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 20 * time.Millisecond
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Processor{cfg: cfg, files: map[string]*fileState{}, owners: map[string]string{}, first: true,
		newWatcher: fsnotify.NewWatcher}, nil
}

// FileReport says how one file fared in a pass.
type FileReport struct {
	Fileloc  string
	Duration time.Duration
	DagIDs   []string
	Tasks    int
	Errors   []string
	Parsed   bool // false when the file was unchanged and not re-parsed
	// Warnings are the problems of the file's DAGs that do not stop them
	// from loading (tasks of provider classes this environment lacks).
	Warnings []windsock.DagWarning
}

// Report summarises a pass.
type Report struct {
	Files   []FileReport
	Changed int // files parsed in this pass
	Written int // DAG definitions whose stored version changed
	Removed int // files gone since the last pass
}

// Sync runs one pass over every root: parse what changed, write it, mark
// DAGs whose files disappeared inactive.
func (p *Processor) Sync(ctx context.Context) (*Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()

	began := time.Now()
	now := p.cfg.Clock()
	seen, helpers, err := p.readRoots()
	if err != nil {
		return nil, err
	}
	helpersChanged := !maps.Equal(helpers, p.helpers)

	var changed []string
	for loc, e := range seen {
		if e.kept {
			continue
		}
		h := e.hash()
		if st, ok := p.files[loc]; ok && st.hash == h {
			continue
		}
		p.files[loc] = &fileState{hash: h, source: e.source, readErr: e.readErr}
		changed = append(changed, loc)
	}
	var removed []string
	for loc := range p.files {
		if _, ok := seen[loc]; !ok {
			removed = append(removed, loc)
			delete(p.files, loc)
		}
	}
	changed = p.retryPythonErrors(changed)
	changed = append(changed, p.dueVariableReaders(now, changed)...)
	sort.Strings(changed)
	sort.Strings(removed)
	p.parse(ctx, changed, now)
	if helpersChanged || p.helperChanged(changed) {
		// A module the DAG files may import changed: every Python DAG file
		// may define other DAGs now.
		more := p.otherPythonFiles(changed)
		p.parse(ctx, more, now)
		changed = append(changed, more...)
		sort.Strings(changed)
	}

	owners, dupErrs := p.assignOwners()
	dirty := map[string]bool{}
	for _, loc := range changed {
		dirty[loc] = true
	}
	for id, loc := range owners {
		if p.owners[id] != loc {
			dirty[loc] = true
		}
	}
	for loc := range dupErrs {
		dirty[loc] = true
	}
	var gone []string // DAG ids no file defines any more
	for id, loc := range p.owners {
		if _, ok := owners[id]; !ok {
			gone = append(gone, id)
			if _, still := p.files[loc]; still {
				dirty[loc] = true
			}
		}
	}

	written := 0
	err = p.cfg.Store.InTx(ctx, func(q store.Queries) error {
		n, err := p.write(ctx, q, dirty, owners, dupErrs, removed, gone, now)
		written = n
		return err
	})
	if err != nil {
		// Forget what this pass parsed so the next pass writes it again.
		for _, loc := range changed {
			delete(p.files, loc)
		}
		return nil, fmt.Errorf("write dag files: %w", err)
	}
	p.owners = owners
	p.helpers = helpers
	p.first = false
	rep := p.report(changed, dupErrs, written, len(removed))
	p.recordPass(rep, time.Since(began))
	return rep, nil
}

// recordPass sets the DAG processing gauges from a pass's report.
func (p *Processor) recordPass(rep *Report, took time.Duration) {
	dags, importErrors := 0, 0
	for _, f := range rep.Files {
		dags += len(f.DagIDs)
		if len(f.Errors) > 0 {
			importErrors++
		}
	}
	p.cfg.Metrics.DAGProcessorPass(took, dags, importErrors)
}

// readRoots reads every DAG file of every root, keyed by fileloc. A file
// or directory that cannot be read is an entry with its error, never a
// failed pass: only a root that cannot be listed fails it.
func (p *Processor) readRoots() (seen map[string]entry, helpers map[string]string, err error) {
	seen, helpers = map[string]entry{}, map[string]string{}
	for _, r := range p.cfg.Roots {
		l, err := dagfile.ListFiles(r.FS, p.cfg.IgnoreSyntax, p.cfg.MaxFileSize)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a DAG folder that does not exist yet holds no DAGs
			}
			return nil, nil, fmt.Errorf("list dag files in %s: %w", r.Dir, err)
		}
		for _, pr := range l.Problems {
			addEntry(seen, joinLoc(r.Dir, pr.Path), entry{readErr: pr.Err})
			if pr.Unlisted != "" {
				p.keepUnder(seen, joinLoc(r.Dir, pr.Unlisted))
			}
		}
		for _, name := range l.Files {
			loc := joinLoc(r.Dir, name)
			if p.inPlugins(loc) {
				continue
			}
			src, err := dagfile.ReadFile(r.FS, name, p.cfg.MaxFileSize)
			if errors.Is(err, fs.ErrNotExist) {
				if _, lerr := fs.Lstat(r.FS, name); errors.Is(lerr, fs.ErrNotExist) {
					continue // removed between listing and reading
				}
				// A dangling symbolic link: say so rather than hide it.
			}
			if err == nil && dagfile.IsPython(name) && !p.cfg.SafeModeOff && !dagfile.MightContainDAG(src) {
				// Not a DAG file, as Airflow's safe mode decides; maybe a
				// module DAG files import.
				helpers[loc] = contentHash(src)
				continue
			}
			addEntry(seen, loc, entry{source: src, readErr: err})
		}
	}
	p.pluginModules(helpers)
	return seen, helpers, nil
}

// pluginModules adds the Python files of the plugins folder to helpers:
// DAG files import them, so a change there is a change of every DAG
// file. A folder that cannot be read holds no modules for this pass.
func (p *Processor) pluginModules(helpers map[string]string) {
	if p.cfg.PluginsFolder == "" {
		return
	}
	fsys := dagfile.DirFS(p.cfg.PluginsFolder)
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !dagfile.IsPython(name) {
			return nil
		}
		if src, err := dagfile.ReadFile(fsys, name, p.cfg.MaxFileSize); err == nil {
			helpers[joinLoc(p.cfg.PluginsFolder, name)] = contentHash(src)
		}
		return nil
	})
}

// helperChanged reports whether one of the changed files is a Python
// module that defines no DAG: a helper DAG files may import.
func (p *Processor) helperChanged(changed []string) bool {
	for _, loc := range changed {
		st := p.files[loc]
		if dagfile.IsPython(loc) && st.readErr == nil && st.parsed != nil &&
			len(st.parsed.DAGs) == 0 && len(st.parsed.BrokenDAGIDs) == 0 && len(st.parsed.Errors) == 0 {
			return true
		}
	}
	return false
}

// otherPythonFiles returns the readable Python files not in changed.
func (p *Processor) otherPythonFiles(changed []string) []string {
	isChanged := map[string]bool{}
	for _, loc := range changed {
		isChanged[loc] = true
	}
	var out []string
	for loc, st := range p.files {
		if !isChanged[loc] && dagfile.IsPython(loc) && st.readErr == nil {
			out = append(out, loc)
		}
	}
	sort.Strings(out)
	return out
}

// maxFilelocLength is the size of import_error.filename (VARCHAR(1024)),
// the smallest column holding a fileloc.
const maxFilelocLength = 1024

// addEntry records e under loc, or, when loc is too long to be stored,
// an import error under loc cut short: a deep path must fail its own
// file, not the pass writing every file.
func addEntry(seen map[string]entry, loc string, e entry) {
	n := utf8.RuneCountInString(loc)
	if n <= maxFilelocLength {
		seen[loc] = e
		return
	}
	short := []rune(loc)[:maxFilelocLength-1]
	seen[string(short)+"…"] = entry{readErr: fmt.Errorf("the path is %d characters long; the metadata database stores at most %d: move the file closer to the DAG folder", n, maxFilelocLength)}
}

// keepUnder marks the files known from earlier passes below dir as kept.
func (p *Processor) keepUnder(seen map[string]entry, dir string) {
	for loc := range p.files {
		if rel, err := filepath.Rel(dir, loc); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			if _, ok := seen[loc]; !ok {
				seen[loc] = entry{kept: true}
			}
		}
	}
}

func joinLoc(dir, name string) string {
	if strings.Contains(dir, "://") || strings.HasPrefix(dir, "<") {
		return path.Join(dir, name)
	}
	return filepath.Join(dir, filepath.FromSlash(name))
}

// parse parses the given files on every core. YAML files are parsed one
// by one; readable Python files in batches, one batch per Python child
// (see pythonBatches).
func (p *Processor) parse(ctx context.Context, locs []string, now time.Time) {
	defaults := p.cfg.Defaults
	defaults.Now = now
	workers := runtime.GOMAXPROCS(0)
	// A job is one file parsed here, or a batch of Python files.
	type job struct {
		locs   []string
		python bool
	}
	var jobs []job
	var python []string
	for _, loc := range locs {
		if dagfile.IsPython(loc) && p.files[loc].readErr == nil && p.cfg.Python != nil {
			python = append(python, loc)
		} else {
			jobs = append(jobs, job{locs: []string{loc}})
		}
	}
	for _, b := range pythonBatches(python, workers) {
		jobs = append(jobs, job{locs: b, python: true})
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if j.python {
					p.parsePythonBatch(ctx, j.locs, defaults)
				} else {
					p.parseTimed(ctx, j.locs[0], defaults)
				}
			}
		}()
	}
	// Python batches first: each waits on a child, while YAML files keep
	// the other workers busy.
	for i := len(jobs) - 1; i >= 0; i-- {
		work <- jobs[i]
	}
	close(work)
	wg.Wait()
	for _, loc := range locs {
		p.files[loc].parsedAt = now
		p.cfg.Metrics.DAGFileParsed(loc, p.files[loc].duration)
	}
}

// maxPythonBatch bounds the files one Python child imports, so that a
// big folder still spreads over every core and a batch that fails (and
// is parsed again file by file) costs little.
const maxPythonBatch = 50

// pythonBatches splits locs into batches: a few per worker so the work
// stays balanced, at most maxPythonBatch files each. One changed file is a
// batch of one.
func pythonBatches(locs []string, workers int) [][]string {
	if len(locs) == 0 {
		return nil
	}
	size := (len(locs) + 4*workers - 1) / (4 * workers)
	size = min(max(size, 1), maxPythonBatch)
	var out [][]string
	for len(locs) > 0 {
		n := min(size, len(locs))
		out = append(out, locs[:n])
		locs = locs[n:]
	}
	return out
}

// parseTimed parses one file and records how long it took.
func (p *Processor) parseTimed(ctx context.Context, loc string, defaults dagfile.Defaults) {
	st := p.files[loc]
	start := time.Now()
	st.parsed = p.parseOne(ctx, loc, st, defaults)
	st.duration = time.Since(start)
}

// parseOne parses one file. A panic in the parser is that file's import
// error: one file must never stop the others, nor the process.
func (p *Processor) parseOne(ctx context.Context, loc string, st *fileState, defaults dagfile.Defaults) *dagfile.File {
	if st.readErr != nil {
		return dagfile.Unreadable(loc, st.readErr)
	}
	return p.safely(loc, func() *dagfile.File {
		if dagfile.IsPython(loc) {
			return p.parsePython(ctx, loc, defaults)
		}
		return dagfile.ParseFile(loc, st.source, defaults, p.cfg.Operators)
	})
}

// safely runs parse, turning a panic into loc's import error.
func (p *Processor) safely(loc string, parse func() *dagfile.File) (f *dagfile.File) {
	defer func() {
		if v := recover(); v != nil {
			p.cfg.Logger.Error("dag file parser panicked", "file", loc, "panic", v, "stack", string(debug.Stack()))
			f = &dagfile.File{Path: loc, Errors: []*dagfile.Error{{File: loc, Message: fmt.Sprintf("internal error while parsing: %v", v)}}}
		}
	}()
	return parse()
}

// retryPythonErrors adds to changed the Python files that failed to import
// last time when another Python file changed: the fix may be in a module
// they import (a helper under the DAG folder), which Windsock does not
// track. Airflow re-parses every file periodically for the same reason.
func (p *Processor) retryPythonErrors(changed []string) []string {
	isChanged := map[string]bool{}
	anyPython := false
	for _, loc := range changed {
		isChanged[loc] = true
		anyPython = anyPython || dagfile.IsPython(loc)
	}
	if !anyPython {
		return changed
	}
	for loc, st := range p.files {
		if !isChanged[loc] && dagfile.IsPython(loc) && st.readErr == nil && st.parsed != nil && len(st.parsed.Errors) > 0 {
			changed = append(changed, loc)
		}
	}
	return changed
}

// dueVariableReaders returns the Python files, besides changed, that read
// Variables at import and were last parsed MinFileProcessInterval ago or
// more (p.mu held).
func (p *Processor) dueVariableReaders(now time.Time, changed []string) []string {
	isChanged := map[string]bool{}
	for _, loc := range changed {
		isChanged[loc] = true
	}
	var due []string
	for loc, st := range p.files {
		if st.readsVariables && !isChanged[loc] && !now.Before(st.parsedAt.Add(p.cfg.MinFileProcessInterval)) {
			due = append(due, loc)
		}
	}
	return due
}

// variableReadersDue reports whether a pass now would parse a file again
// because it read Variables: the service then runs one without waiting
// for a file event.
func (p *Processor) variableReadersDue() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.dueVariableReaders(p.cfg.Clock(), nil)) > 0
}

// inPlugins reports whether loc lies in the plugins folder.
func (p *Processor) inPlugins(loc string) bool {
	if p.cfg.PluginsFolder == "" {
		return false
	}
	rel, err := filepath.Rel(p.cfg.PluginsFolder, loc)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// assignOwners decides which file defines each DAG id: the first file in
// path order wins, later files that define the same id get an import error
// instead of silently replacing it.
func (p *Processor) assignOwners() (map[string]string, map[string][]string) {
	locs := make([]string, 0, len(p.files))
	for loc := range p.files {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	owners := map[string]string{}
	dups := map[string][]string{}
	for _, loc := range locs {
		f := p.files[loc].parsed
		for _, id := range definedIDs(f) {
			if other, ok := owners[id]; ok {
				dups[loc] = append(dups[loc], fmt.Sprintf("%s: DAG id %q is already defined in %s; this definition is ignored", loc, id, other))
				continue
			}
			owners[id] = loc
		}
	}
	return owners, dups
}

func definedIDs(f *dagfile.File) []string {
	ids := make([]string, 0, len(f.DAGs)+len(f.BrokenDAGIDs))
	for _, d := range f.DAGs {
		ids = append(ids, d.DagID)
	}
	return append(ids, f.BrokenDAGIDs...)
}

// write applies one pass to the store inside a transaction.
func (p *Processor) write(ctx context.Context, q store.Queries, dirty map[string]bool, owners map[string]string, dups map[string][]string, removed, gone []string, now time.Time) (int, error) {
	written := 0
	locs := make([]string, 0, len(dirty))
	for loc := range dirty {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		st := p.files[loc]
		if st == nil {
			continue
		}
		n, err := p.writeFile(ctx, q, loc, st, owners, dups[loc], now)
		if err != nil {
			return 0, err
		}
		written += n
	}
	if len(removed) > 0 {
		if err := q.ImportErrorDelete(ctx, removed); err != nil {
			return 0, fmt.Errorf("delete import errors: %w", err)
		}
	}
	if len(gone) > 0 {
		if err := q.DAGDeactivate(ctx, gone); err != nil {
			return 0, fmt.Errorf("deactivate dags: %w", err)
		}
	}
	if p.first {
		// DAGs whose files vanished while nothing was watching.
		if err := p.deactivateOrphans(ctx, q, owners); err != nil {
			return 0, err
		}
	}
	return written, nil
}

func (p *Processor) writeFile(ctx context.Context, q store.Queries, loc string, st *fileState, owners map[string]string, dupErrs []string, now time.Time) (int, error) {
	f := st.parsed
	written := 0
	for _, d := range f.DAGs {
		if owners[d.DagID] != loc {
			continue
		}
		changed, err := writeDAG(ctx, q, d, now)
		if err != nil {
			return 0, err
		}
		if changed {
			written++
		}
	}
	var broken []string
	for _, id := range f.BrokenDAGIDs {
		if owners[id] == loc {
			broken = append(broken, id)
		}
	}
	if len(broken) > 0 {
		// A broken DAG keeps its last good definition (and keeps running);
		// the flag tells users it is stale.
		if err := q.DAGSetImportErrors(ctx, broken, true); err != nil {
			return 0, fmt.Errorf("flag dags with import errors: %w", err)
		}
	}
	// An unreadable file keeps the last source that could be read.
	if st.readErr == nil {
		if err := q.DAGCodeUpsert(ctx, &windsock.DAGCode{
			FilelocHash: windsock.FilelocHash(loc), Fileloc: loc, LastUpdated: now, SourceCode: string(st.source),
		}); err != nil {
			return 0, fmt.Errorf("store dag code: %w", err)
		}
	}
	msgs := make([]string, 0, len(f.Errors)+len(dupErrs))
	for _, e := range f.Errors {
		msgs = append(msgs, e.Error())
	}
	msgs = append(msgs, dupErrs...)
	if len(msgs) == 0 {
		if err := q.ImportErrorDelete(ctx, []string{loc}); err != nil {
			return 0, fmt.Errorf("clear import error: %w", err)
		}
		return written, nil
	}
	// Messages quote the file; whatever they quote, they must not be
	// able to make the database refuse the pass (PostgreSQL's text holds
	// neither NUL nor invalid UTF-8).
	if err := q.ImportErrorSet(ctx, &windsock.ImportError{
		Timestamp: now, Filename: loc, Stacktrace: storableText(strings.Join(msgs, "\n")),
	}); err != nil {
		return 0, fmt.Errorf("record import error: %w", err)
	}
	return written, nil
}

// writeDAG stores one definition; it reports whether the stored
// serialization changed.
func writeDAG(ctx context.Context, q store.Queries, d *windsock.DAG, now time.Time) (bool, error) {
	data, err := windsock.MarshalDAG(d)
	if err != nil {
		return false, fmt.Errorf("serialize dag %s: %w", d.DagID, err)
	}
	sum := sha256.Sum256(data)
	if err := q.DAGUpsert(ctx, &store.DAGUpsertParams{
		DagID:                d.DagID,
		Fileloc:              d.Fileloc,
		Owners:               strings.Join(d.Owners, ", "),
		Description:          d.Description,
		ScheduleInterval:     scheduleIntervalJSON(d.Schedule),
		TimetableDescription: timetableDescription(d),
		MaxActiveTasks:       d.MaxActiveTasks,
		MaxActiveRuns:        d.MaxActiveRuns,
		IsPausedUponCreation: d.IsPausedUponCreation,
		Tags:                 d.Tags,
		LastParsedTime:       now,
	}); err != nil {
		return false, fmt.Errorf("store dag %s: %w", d.DagID, err)
	}
	changed, err := q.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{
		DagID: d.DagID, Fileloc: d.Fileloc, FilelocHash: windsock.FilelocHash(d.Fileloc),
		Data: data, DagHash: hex.EncodeToString(sum[:16]), LastUpdated: now,
	})
	if err != nil {
		return false, fmt.Errorf("store serialized dag %s: %w", d.DagID, err)
	}
	if changed {
		// The references follow the definition: an unchanged one has
		// them stored already.
		if err := writeDatasetReferences(ctx, q, d, now); err != nil {
			return false, err
		}
	}
	return changed, nil
}

// scheduleIntervalJSON renders a schedule the way Airflow stores
// dag.schedule_interval: a JSON string for cron and presets, a timedelta
// object for intervals, null for none.
func scheduleIntervalJSON(s windsock.Schedule) string {
	var v any
	switch s.Kind {
	case windsock.ScheduleDatasets:
		v = "Dataset"
	case windsock.ScheduleCron, windsock.ScheduleOnce, windsock.ScheduleContinuous:
		v = s.Expr
	case windsock.ScheduleInterval:
		secs := int64(s.Interval.Std() / time.Second)
		v = map[string]any{"type": "timedelta", "attrs": map[string]any{
			"days": secs / 86400, "seconds": secs % 86400, "microseconds": int64(s.Interval.Std()%time.Second) / 1000,
		}}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // a string or a map of ints cannot fail to encode
	return strings.TrimSpace(b.String())
}

// timetableDescription is the human reading of a DAG's schedule shown in
// lists ("At 00:00"); the raw expression when the timetable cannot say more.
func timetableDescription(d *windsock.DAG) string {
	loc, err := time.LoadLocation(d.Timezone)
	if err != nil {
		loc = time.UTC
	}
	tt, err := schedule.New(d.Schedule, loc)
	if err != nil {
		return d.Schedule.Expr
	}
	return datasetsDescription(d.Schedule, tt.Description())
}

func (p *Processor) deactivateOrphans(ctx context.Context, q store.Queries, owners map[string]string) error {
	active, err := q.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
	if err != nil {
		return fmt.Errorf("list active dags: %w", err)
	}
	var orphans []string
	for _, d := range active {
		if _, ok := owners[d.DagID]; !ok {
			orphans = append(orphans, d.DagID)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	if err := q.DAGDeactivate(ctx, orphans); err != nil {
		return fmt.Errorf("deactivate dags without files: %w", err)
	}
	return nil
}

func (p *Processor) report(changed []string, dups map[string][]string, written, removed int) *Report {
	isChanged := map[string]bool{}
	for _, loc := range changed {
		isChanged[loc] = true
	}
	r := &Report{Changed: len(changed), Written: written, Removed: removed}
	locs := make([]string, 0, len(p.files))
	for loc := range p.files {
		locs = append(locs, loc)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		st := p.files[loc]
		fr := FileReport{Fileloc: loc, Duration: st.duration, Parsed: isChanged[loc]}
		for _, d := range st.parsed.DAGs {
			if p.owners[d.DagID] == loc {
				fr.DagIDs = append(fr.DagIDs, d.DagID)
				fr.Tasks += len(d.Tasks)
				fr.Warnings = append(fr.Warnings, d.Warnings()...)
			}
		}
		for _, e := range st.parsed.Errors {
			fr.Errors = append(fr.Errors, e.Error())
		}
		fr.Errors = append(fr.Errors, dups[loc]...)
		r.Files = append(r.Files, fr)
	}
	return r
}

// storableText replaces what a text column cannot hold: invalid UTF-8
// becomes U+FFFD and NUL is dropped.
func storableText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

func contentHash(b []byte) string {
	sum := sha256.Sum256(b)
	return string(sum[:])
}

// Package app is the composition root below the CLI: it builds the concrete
// adapters of one environment (store, keys, secrets, DAG processor) from a
// config and hands them out as one value. Nothing here is global, so a
// control plane can hold many environments in one process.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/examples"
	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/pyenv"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// Environment is everything one Windsock environment owns.
type Environment struct {
	Config      *config.Config
	Store       store.Store
	Keys        *fernet.Keys
	Operators   *operator.Catalog
	Variables   *secrets.Variables
	Connections *secrets.Connections
	Logger      *slog.Logger
	Clock       func() time.Time
	Environ     []string
	// Hostname is recorded on the task instances this process runs: where
	// the API fetches their logs from (the worker log server). The host's
	// name unless the process was started with --hostname.
	Hostname string
	// ID tells this environment from every other (store.EnvironmentID):
	// it is part of every try's process mark, so that environments on one
	// host, even in one process, never take each other's tries' processes
	// for their own.
	ID string
	// Metrics are what this process counts for the environment (served
	// at /metrics by its web server or its own metrics listener).
	Metrics *metrics.Process

	registryOnce sync.Once
	registry     *operator.Registry

	// version is what the API, the UI and Health report.
	version string
	// metricsAddr is where the metrics listener of the started roles
	// serves (set by Start before the services that record it in their
	// job rows are built); "" when they have none.
	metricsAddr string
	// roles are the long-running parts started in this process.
	roles     roles
	closeOnce sync.Once
	closeErr  error

	pyMu sync.Mutex
	py   *pyrt.Runtime
	// pyEnvMu guards pyEnv, the environment's one successful
	// pyenv.Prepare.
	pyEnvMu sync.Mutex
	pyEnv   *pyenv.Result
}

// Shared reports whether other processes may share the metadata database
// (PostgreSQL): schedulers then share the work and processes tell each
// other about changes through the database.
func (e *Environment) Shared() bool {
	_, sqlite := e.Config.SQLitePath()
	return !sqlite
}

// Options are what the caller supplies besides the config.
type Options struct {
	// Logger receives what the environment's services log; nil discards.
	Logger *slog.Logger
	// Clock is the time; nil means time.Now.
	Clock func() time.Time
	// Environ is the environment's variables: the only ones its tasks,
	// callbacks and Python processes get (with TMPDIR set to the
	// environment's own temporary folder), and where its secrets
	// backends' AIRFLOW_VAR_* and AIRFLOW_CONN_* are read. The process's
	// own are never used: the CLI passes them here explicitly, and a
	// control plane gives each environment its own.
	Environ []string
	// Roles are the long-running parts to start in this process; none by
	// default. Open returns once they have started, or fails (having
	// closed everything) when one cannot.
	Roles Roles
	// Version is the version the API, the UI and Health report.
	Version string
}

// tmpFolder is the environment's temporary folder under its home, the
// TMPDIR of its tasks: what one environment's tasks leave behind is
// theirs to find and the home's to clean, never in a folder shared with
// other environments.
const tmpFolder = "tmp"

// environVariables returns the variables of the environment: environ with
// TMPDIR set to its temporary folder, which it creates.
func environVariables(cfg *config.Config, environ []string) ([]string, error) {
	if cfg.Home == "" {
		return environ, nil // no home (a bare config in tests): nowhere of its own
	}
	tmp, err := filepath.Abs(filepath.Join(cfg.Home, tmpFolder))
	if err != nil {
		return nil, fmt.Errorf("temporary folder: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			// A read-only home (an image, a mounted snapshot) serves the
			// commands that only read; the tasks it cannot run have no use
			// for a temporary folder.
			return environ, nil
		}
		return nil, fmt.Errorf("create temporary folder: %w", err)
	}
	return process.MergeEnv(slices.Clip(environ), []string{"TMPDIR=" + tmp}), nil
}

// Open connects to the environment's metadata database, migrates it and
// makes sure the default pool and Airflow's built-in roles exist, then
// starts the roles opts names. The caller ends what it opened with Stop
// (or Close), after a Drain for a graceful stop.
//
// Nothing is global: a process may open many environments, each with its
// own config (home, store, ports), and run each with its own roles.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Environment, error) {
	env, err := open(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if opts.Roles != (Roles{}) {
		if err := env.Start(ctx, opts.Roles); err != nil {
			env.Close()
			return nil, err
		}
	}
	return env, nil
}

func open(ctx context.Context, cfg *config.Config, opts Options) (*Environment, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	keys, err := fernet.Parse(cfg.Core.FernetKey)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "core.fernet_key: %v", err)
	}
	environ, err := environVariables(cfg, opts.Environ)
	if err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := migrateIfBehind(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	id, err := environmentID(ctx, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	secrets.SetSensitiveVarConnNames(cfg.Core.SensitiveVarConnNames)
	host, _ := os.Hostname()
	env := &Environment{
		Hostname: host, ID: id, Config: cfg, Store: st, Keys: keys, Operators: operator.Builtins(),
		Logger: opts.Logger, Clock: opts.Clock, Environ: environ, version: opts.Version, Metrics: metrics.New(),
		Variables:   &secrets.Variables{Store: st, Keys: keys, Environ: environ},
		Connections: &secrets.Connections{Store: st, Keys: keys, Environ: environ},
	}
	if err := env.ensureDefaultPool(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return env, nil
}

// environmentID returns the environment's id, which migration 013 stored
// in its database: every process of the environment reads the same one,
// read-only ones included, and an error is an error, never a second id.
func environmentID(ctx context.Context, st store.Store) (string, error) {
	id, err := st.EnvironmentID(ctx)
	if err != nil {
		return "", fmt.Errorf("environment id: %w", err)
	}
	return id, nil
}

// migrateIfBehind migrates the store only when its schema is behind, so
// that opening an up-to-date database writes nothing: read-only commands
// then work on a database they may only read.
func migrateIfBehind(ctx context.Context, st store.Store) error {
	if cur, latest, err := st.MigrationStatus(ctx); err == nil && cur == latest {
		return nil
	}
	if _, err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate metadata database: %w", err)
	}
	return nil
}

// OpenStore opens the metadata database named by database.sql_alchemy_conn
// without migrating it: a sqlite:/// URL opens a SQLite file, a
// postgresql:// (or postgres://, postgresql+psycopg2://) URL a PostgreSQL
// database.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	if path, ok := cfg.SQLitePath(); ok {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open metadata database: %w", err)
		}
		return st, nil
	}
	if conn := cfg.Database.SQLAlchemyConn; postgres.IsURL(conn) {
		st, err := postgres.Open(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("open metadata database: %w", err)
		}
		return st, nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "database.sql_alchemy_conn: want a sqlite:/// or postgresql:// URL, got %q", redactURL(cfg.Database.SQLAlchemyConn))
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

// Close stops the roles at once (as Stop does), the Python runtime, and
// releases the store. Calls after the first return its result.
func (e *Environment) Close() error {
	e.closeOnce.Do(func() {
		e.stopRoles(context.Background(), 0)
		e.stopPython()
		e.closeErr = e.Store.Close()
	})
	return e.closeErr
}

func (e *Environment) ensureDefaultPool(ctx context.Context) error {
	_, err := e.Store.PoolGet(ctx, windsock.DefaultPoolName)
	if err == nil {
		return nil
	}
	if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return fmt.Errorf("read default pool: %w", err)
	}
	err = e.Store.PoolUpsert(ctx, &windsock.Pool{
		Pool: windsock.DefaultPoolName, Slots: e.Config.Core.DefaultPoolTaskSlotCount, Description: "Default pool",
	})
	if err != nil {
		return fmt.Errorf("create default pool: %w", err)
	}
	return nil
}

// DAGRoots returns the trees of DAG files this environment loads: the DAG
// folder, and the built-in examples when core.load_examples is on.
func (e *Environment) DAGRoots() []dagprocessor.Root {
	dir := e.Config.Core.DagsFolder
	roots := []dagprocessor.Root{{Dir: dir, FS: dagfile.DirFS(dir), Watch: true}}
	if e.Config.Core.LoadExamples {
		roots = append(roots, dagprocessor.Root{Dir: examples.Dir, FS: examples.FS()})
	}
	return roots
}

// DAGDefaults returns the parser defaults from config.
func (e *Environment) DAGDefaults() (dagfile.Defaults, error) {
	c := e.Config
	loc, err := c.DefaultTimezone()
	if err != nil {
		return dagfile.Defaults{}, err
	}
	return dagfile.Defaults{
		Owner:            c.Operators.DefaultOwner,
		Retries:          c.Core.DefaultTaskRetries,
		RetryDelay:       c.Core.DefaultTaskRetryDelay,
		MaxRetryDelay:    c.Core.MaxTaskRetryDelay,
		Catchup:          c.Scheduler.CatchupByDefault,
		MaxActiveRuns:    c.Core.MaxActiveRunsPerDAG,
		MaxActiveTasks:   c.Core.MaxActiveTasksPerDAG,
		PausedAtCreation: c.Core.DagsArePausedAtCreation,
		Timezone:         loc,
		Pool:             windsock.DefaultPoolName,
		Queue:            c.Operators.DefaultQueue,
	}, nil
}

// NewDAGProcessor returns a processor over this environment's DAG roots.
func (e *Environment) NewDAGProcessor(onPass func(*dagprocessor.Report)) (*dagprocessor.Processor, error) {
	defaults, err := e.DAGDefaults()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	// Airflow: a dagbag_import_timeout <= 0 means no limit.
	timeout := e.Config.Core.DagbagImportTimeout
	if timeout <= 0 {
		timeout = -1
	}
	return dagprocessor.New(dagprocessor.Config{
		Store: e.Store, Roots: e.DAGRoots(), Operators: e.Operators, Defaults: defaults,
		IgnoreSyntax:   e.Config.Core.DagIgnoreFileSyntax,
		MaxFileSize:    int64(e.Config.Core.MaxDagFileSize),
		RescanInterval: e.Config.Scheduler.DagDirListInterval,
		Python:         pythonParser{e},
		PythonHandler:  dagprocessor.SecretCalls{Variables: e.Variables, Connections: e.Connections},
		ImportTimeout:  timeout,
		SafeModeOff:    !e.Config.Core.DagDiscoverySafeMode,
		PluginsFolder:  e.Config.Core.PluginsFolder,
		// A file that read Variables may define other DAGs since.
		MinFileProcessInterval: e.Config.Scheduler.MinFileProcessInterval,
		OnPass:                 onPass, Logger: e.Logger, Clock: e.Clock, Hostname: host,
		Metrics: e.Metrics, MetricsAddr: e.metricsAddr,
	})
}

// EnsureDagsFolder creates the DAG folder if it does not exist.
func (e *Environment) EnsureDagsFolder() error {
	if err := os.MkdirAll(e.Config.Core.DagsFolder, 0o755); err != nil {
		return fmt.Errorf("create dags folder: %w", err)
	}
	return nil
}

// LogFolder is where task logs go.
func (e *Environment) LogFolder() string {
	return e.Config.Logging.BaseLogFolder
}

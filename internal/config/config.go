// Package config reads Windsock's configuration the way Airflow reads
// airflow.cfg: an INI file, $WINDSOCK_HOME/windsock.cfg, whose sections and
// options carry Airflow's names and defaults, overridden per option by the
// environment variables WINDSOCK__SECTION__OPTION and, so that MWAA and
// Airflow settings carry over unchanged, AIRFLOW__SECTION__OPTION.
//
// Precedence, highest first: WINDSOCK__ variables, AIRFLOW__ variables, the
// file, the defaults. As in Airflow, values from the file and the environment
// have $VARIABLES and a leading ~ expanded, and "%%" in the file stands for
// "%" (configparser interpolation).
//
// This is the only package that parses option strings; everything else
// receives the typed Config.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/osenv"
	"github.com/windsock/windsock/internal/windsock"
)

// FileName is the name of the configuration file inside WINDSOCK_HOME.
const FileName = "windsock.cfg"

// Where an option's value came from (Option.Source).
const (
	SourceDefault = "default"
	SourceFile    = "file"
	SourceEnv     = "env"
)

// Config is Windsock's configuration. Load fills every field with its
// effective value. In a Config built by hand, zero numbers, strings and
// durations mean "default" (WithDefaults fills them in); booleans cannot
// tell false from unset, so the ones that default to True are only True
// after Load, Default or an explicit assignment.
type Config struct {
	// Home is WINDSOCK_HOME, the directory holding windsock.cfg. Relative
	// paths in the configuration resolve against it.
	Home string

	Core      CoreSection
	Database  DatabaseSection
	Logging   LoggingSection
	Scheduler SchedulerSection
	Webserver WebserverSection
	API       APISection
	Operators OperatorsSection
	Celery    CelerySection
	AwsMwaa   AwsMwaaSection
	Metrics   MetricsSection

	// sources records, for "section.option", where a known option's value
	// came from when it was not the default.
	sources map[string]string
	// extra holds the options found in the file or the environment that
	// Windsock does not know, so that `config list` shows them.
	extra []Option
}

// CoreSection is [core].
type CoreSection struct {
	// DagsFolder is where DAG files are read from. Default:
	// $WINDSOCK_HOME/dags.
	DagsFolder string
	// Parallelism is the most task instances running at once across the
	// environment. Default: 32.
	Parallelism int
	// MaxActiveTasksPerDAG is the most running task instances per DAG when
	// the DAG sets no max_active_tasks. Default: 16.
	MaxActiveTasksPerDAG int
	// MaxActiveRunsPerDAG is the most active runs per DAG when the DAG sets
	// no max_active_runs. Default: 16.
	MaxActiveRunsPerDAG int
	// DagsArePausedAtCreation pauses newly discovered DAGs. Default: True.
	DagsArePausedAtCreation bool
	// LoadExamples loads the example DAGs. Default: True.
	LoadExamples bool
	// FernetKey encrypts secrets in the metadata database: comma-separated
	// keys, the first encrypts, all decrypt. Default: empty (no
	// encryption); EnsureFile generates one. Sensitive.
	FernetKey string
	// DefaultTimezone is the timezone of naive dates: "utc", "system" or an
	// IANA name. Default: utc.
	DefaultTimezone string
	// DefaultTaskRetries is the retries of tasks that set none. Default: 0.
	DefaultTaskRetries int
	// DefaultTaskRetryDelay is the retry_delay of tasks that set none.
	// Default: 300 seconds.
	DefaultTaskRetryDelay time.Duration
	// MaxTaskRetryDelay caps the delay between retries, exponential backoff
	// included. Default: 86400 seconds.
	MaxTaskRetryDelay time.Duration
	// DefaultPoolTaskSlotCount is the size of default_pool when it is
	// created. Default: 128.
	DefaultPoolTaskSlotCount int
	// DagIgnoreFileSyntax is the pattern syntax of .airflowignore files:
	// "regexp" or "glob". Default: regexp.
	DagIgnoreFileSyntax string
	// MaxDagFileSize is the largest DAG (or .airflowignore) file read, in
	// bytes; a larger file gets an import error instead. Not in Airflow.
	// Default: 10485760 (10 MiB).
	MaxDagFileSize int
	// SensitiveVarConnNames are names, beside Airflow's built-in ones
	// (password, secret, api_key...), whose variables and connection
	// extra fields are masked in logs, the UI, the API and the event log.
	// Default: none.
	SensitiveVarConnNames []string
	// MaxMapLength is the most task instances one mapped task may expand
	// to. Default: 1024.
	MaxMapLength int
	// DagbagImportTimeout bounds the parsing of one DAG file. Default: 30
	// seconds.
	DagbagImportTimeout time.Duration
	// PythonExecutable is the interpreter that parses Python DAG files and
	// runs Python tasks. Not in Airflow (which runs in its own). Default:
	// "" (the first python3 on PATH, resolved to the real binary).
	PythonExecutable string
	// PluginsFolder is put on sys.path of every Python process, after the
	// DAG folder (MWAA unpacks plugins.zip there). Default: $WINDSOCK_HOME/plugins.
	PluginsFolder string
	// DagDiscoverySafeMode makes the DAG processor skip Python files that
	// do not contain both "airflow" and "dag". Default: True.
	DagDiscoverySafeMode bool
	// KilledTaskCleanupTime is how long a task gets to exit after SIGTERM
	// before it is killed. Default: 60 seconds.
	KilledTaskCleanupTime time.Duration
	// TestConnection allows testing connections from the UI and API:
	// "Disabled", "Enabled" or "Hidden". Default: Disabled.
	TestConnection string
	// HostnameCallable is accepted for compatibility with Airflow configs
	// and ignored. Default: empty.
	HostnameCallable string
	// Executor is how tasks run: "LocalExecutor" in the scheduler's
	// process, or "CeleryExecutor" by `windsock worker` processes on any
	// host, which claim queued tasks from the metadata database (no broker
	// is needed). Default: LocalExecutor.
	Executor string
	// RequirementsFile is the environment's requirements.txt (MWAA's
	// RequirementsS3Path): when it exists, pip installs it into a
	// virtual environment of the home, made from PythonExecutable, that
	// every Python process uses.
	// Default: $WINDSOCK_HOME/requirements.txt.
	RequirementsFile string
	// PluginsZip is MWAA's plugins.zip (PluginsS3Path): when it exists it
	// is unpacked into PluginsFolder, again whenever it changes. Not in
	// Airflow. Default: $WINDSOCK_HOME/plugins.zip.
	PluginsZip string
}

// MetricsSection is [metrics]: where a process without a web server
// (scheduler, DAG processor, worker) serves its Prometheus metrics at
// /metrics. Web servers serve them on their own port. Not in Airflow,
// which sends its metrics to statsd.
type MetricsSection struct {
	// MetricsHost is the address the metrics listener binds. Default:
	// 127.0.0.1, so that metrics stay off public interfaces unless an
	// operator opens them (0.0.0.0).
	MetricsHost string
	// MetricsPort is its port. When another process of the host has the
	// default port, a free port is used instead (the processes of an
	// environment all start on it), and each process records the address
	// it serves on in its job row (and logs it); a port set to another
	// value that is taken fails the start. 0 means any free port.
	// Default: DefaultMetricsPort.
	MetricsPort int
}

// DefaultMetricsPort is metrics.metrics_port's default.
const DefaultMetricsPort = 8794

// CelerySection is [celery]: the settings of `windsock worker`, under the
// names MWAA users set for Celery workers.
type CelerySection struct {
	// WorkerConcurrency is how many tries a worker runs at once. Default:
	// 16.
	WorkerConcurrency int
}

// DatabaseSection is [database].
type DatabaseSection struct {
	// SQLAlchemyConn is the metadata database URL, in SQLAlchemy's form:
	// sqlite:////absolute/path or postgresql://user:pass@host/db. Default:
	// sqlite:///$WINDSOCK_HOME/windsock.db. Sensitive: it may hold a
	// password.
	SQLAlchemyConn string
}

// LoggingSection is [logging].
type LoggingSection struct {
	// BaseLogFolder is where task logs are written. Default:
	// $WINDSOCK_HOME/logs.
	BaseLogFolder string
	// LoggingLevel is the level of Windsock's own logs: DEBUG, INFO,
	// WARNING, ERROR or CRITICAL. Default: INFO.
	LoggingLevel string
	// DagProcessorManagerLogLocation is the DAG processor's log file.
	// Default: $WINDSOCK_HOME/logs/dag_processor_manager/dag_processor_manager.log.
	DagProcessorManagerLogLocation string
	// WorkerLogServerPort is the port on which every worker serves the logs
	// of the tries it runs, for the API to fetch while they run. Airflow
	// read it as celery.worker_log_server_port before 2.0. Default: 8793.
	WorkerLogServerPort int
	// LogFetchTimeoutSec bounds one fetch of a log from a worker's log
	// server. Default: 5 seconds.
	LogFetchTimeoutSec time.Duration
	// RemoteLogging copies the log of every finished try to
	// RemoteBaseLogFolder. Default: False.
	RemoteLogging bool
	// RemoteBaseLogFolder is where finished logs are copied when
	// RemoteLogging is on: an absolute directory (or file:// URL), for
	// example a shared mount, or s3://bucket/prefix for an S3-compatible
	// bucket. Default: empty.
	RemoteBaseLogFolder string
	// RemoteLogConnID names the connection holding the bucket's
	// credentials, read as Airflow's aws connection reads them: login and
	// password are the access key id and secret, the extra may set
	// endpoint_url, region_name and aws_session_token. Empty means the
	// AWS_* environment variables. Default: empty.
	RemoteLogConnID string
	// DeleteLocalLogs removes a finished try's local log once it is
	// copied to RemoteBaseLogFolder. Default: False.
	DeleteLocalLogs bool
}

// SchedulerSection is [scheduler].
type SchedulerSection struct {
	// CatchupByDefault is the catchup of DAGs that set none. Default: True.
	CatchupByDefault bool
	// DagDirListInterval is how often the DAG folder is listed for new
	// files. Default: 300 seconds.
	DagDirListInterval time.Duration
	// MinFileProcessInterval is the least time between two parses of the
	// same file. Default: 30 seconds.
	MinFileProcessInterval time.Duration
	// SchedulerHeartbeatSec is how often the scheduler heartbeats and loops.
	// Default: 5 seconds.
	SchedulerHeartbeatSec time.Duration
	// SchedulerHealthCheckThreshold is how old the last heartbeat may be
	// for the scheduler to count as healthy. Default: 30 seconds.
	SchedulerHealthCheckThreshold time.Duration
	// TaskQueuedTimeout is how long a task may stay queued before it is
	// failed or rescheduled. Default: 600 seconds.
	TaskQueuedTimeout time.Duration
	// SchedulerZombieTaskThreshold is how long a running task may go
	// without heartbeat before it is a zombie. Default: 300 seconds.
	SchedulerZombieTaskThreshold time.Duration
	// WorkerHealthCheckThreshold is Windsock's: how old the last heartbeat
	// of a worker (or of a scheduler's local executor) may be before a
	// scheduler presumes it dead and runs its tries again elsewhere, at
	// once rather than after SchedulerZombieTaskThreshold. A worker that
	// cannot heartbeat for half of it stops its tries first, so that a try
	// never runs twice at once. Default: 30 seconds.
	WorkerHealthCheckThreshold time.Duration
	// RetryTriesLostToCrash is Windsock's: a try lost because the process
	// running it died (a worker or scheduler killed or crashed, found dead
	// by its heartbeat or, on its own host, by its pid), not because the
	// task failed, runs again as the same try without using up a retry, as
	// a graceful shutdown hands tries back. False keeps Airflow's
	// behaviour: the try fails and retries apply. Default: True.
	RetryTriesLostToCrash bool
	// MaxTisPerQuery bounds the task instances handled per scheduling
	// query; 0 means parallelism. Default: 16.
	MaxTisPerQuery int
	// StandaloneDagProcessor runs DAG parsing as its own service instead of
	// inside the scheduler. Default: False.
	StandaloneDagProcessor bool
}

// HealthThresholds are the heartbeat ages within which processes count
// as healthy.
func (s SchedulerSection) HealthThresholds() windsock.HealthThresholds {
	return windsock.HealthThresholds{Scheduler: s.SchedulerHealthCheckThreshold, Worker: s.WorkerHealthCheckThreshold}
}

// WebserverSection is [webserver].
// AwsMwaaSection is what a control plane gives the environments it runs.
type AwsMwaaSection struct {
	// TokenSecret signs the CLI and web-login tokens of the control plane
	// (aws_mwaa.token_secret); empty turns the /aws_mwaa routes off.
	// Sensitive.
	TokenSecret string
}

type WebserverSection struct {
	// WebServerHost is the address the web server listens on. Default:
	// 127.0.0.1 (Airflow's is 0.0.0.0; Windsock is private by default).
	WebServerHost string
	// WebServerPort is the port the web server listens on. Default: 8080.
	WebServerPort int
	// SecretKey signs session cookies. Default: empty; EnsureFile
	// generates one. Sensitive.
	SecretKey string
	// ExposeConfig shows the configuration in the UI and API. Default:
	// False.
	ExposeConfig bool
	// BaseURL is the external URL of the UI, used in links. Default: empty.
	BaseURL string
	// WebServerWorkerTimeout bounds the time one API request may take:
	// past it the request's database work is cancelled and it is answered
	// 503. Airflow's option of the same name is how long gunicorn lets a
	// worker hang; its default is the same. Default: 120 seconds.
	WebServerWorkerTimeout time.Duration
	// SessionLifetimeMinutes is how long a UI login lasts, in minutes.
	// Default: 43200 (30 days).
	SessionLifetimeMinutes int
	// AuthRateLimited throttles failed logins (the form, Basic auth).
	// Default: True.
	AuthRateLimited bool
	// AuthRateLimit is how many failed logins of one user from one
	// address are allowed per window, in Flask-Limiter's notation (one
	// address across users gets four times as many). Default: "5 per 40
	// second".
	AuthRateLimit string
}

// APISection is [api].
type APISection struct {
	// AuthBackends lists the accepted API authentication backends, by
	// Airflow's module names. Default:
	// airflow.api.auth.backend.session,airflow.api.auth.backend.basic_auth.
	AuthBackends []string
	// MaximumPageLimit caps the limit parameter of list endpoints.
	// Default: 100.
	MaximumPageLimit int
	// FallbackPageLimit is the page size when a request sets no limit.
	// Default: 100.
	FallbackPageLimit int
	// MaxConcurrentRequests bounds the API requests served at once
	// (Windsock's own option); as many more wait up to 250 ms for a
	// turn, and the rest are answered 429 with Retry-After at once, so
	// that an overload sheds requests instead of slowing every one. /health
	// is never refused. 0 means 8 per CPU, at least 16. Default: 0.
	MaxConcurrentRequests int
}

// OperatorsSection is [operators].
type OperatorsSection struct {
	// DefaultQueue is the queue of tasks that set none. Default: default.
	DefaultQueue string
	// DefaultOwner is the owner of tasks that set none. Default: airflow.
	DefaultOwner string
}

// Option is one configuration option as `windsock config list` shows it.
type Option struct {
	Section   string
	Name      string
	Value     string
	Source    string // SourceDefault, SourceFile or SourceEnv
	Sensitive bool
}

// Display returns the value to show users: sensitive values are masked
// as Airflow masks them.
func (o Option) Display() string {
	if o.Sensitive {
		return "< hidden >"
	}
	return o.Value
}

// Home returns WINDSOCK_HOME from environ, or ~/windsock when it is unset,
// as an absolute path. environ is in os.Environ's form.
func Home(environ []string) (string, error) {
	home, ok := osenv.Get(environ, "WINDSOCK_HOME")
	if !ok || home == "" {
		userHome, ok := osenv.Get(environ, "HOME")
		if !ok || userHome == "" {
			return "", errors.New("find windsock home: neither WINDSOCK_HOME nor HOME is set")
		}
		home = filepath.Join(userHome, "windsock")
	}
	home = expandEnvVar(home, environ)
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("find windsock home: %w", err)
	}
	return abs, nil
}

// Load reads home/windsock.cfg (a missing file means all defaults) and the
// WINDSOCK__/AIRFLOW__ variables of environ, and returns the typed
// configuration. An empty home means Home(environ). Load never reads the
// process environment itself. Values that do not parse are errors naming
// the option; ranges are checked by Validate.
func Load(home string, environ []string) (*Config, error) {
	if home == "" {
		h, err := Home(environ)
		if err != nil {
			return nil, err
		}
		home = h
	}
	home, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	file, err := readFile(filepath.Join(home, FileName), environ)
	if err != nil {
		return nil, err
	}
	return resolve(home, file, environ)
}

// Default returns the configuration with every option at its default.
func Default(home string) *Config {
	c, err := resolve(home, nil, nil)
	if err != nil {
		// Every default parses; a failure here is a bug in the table.
		panic(fmt.Sprintf("config defaults do not parse: %v", err))
	}
	return c
}

// WithDefaults returns a copy of c whose zero numbers, strings, durations
// and lists are replaced by their defaults. Booleans are kept as they are.
func (c *Config) WithDefaults() *Config {
	out := *c
	def := Default(c.Home)
	for _, spec := range knownOptions {
		if spec.isZero(&out) {
			spec.copyField(&out, def)
		}
	}
	return &out
}

func resolve(home string, file map[string]string, environ []string) (*Config, error) {
	c := &Config{Home: home, sources: map[string]string{}}
	env := readEnv(environ)
	used := map[string]bool{}
	var errs []error
	for _, spec := range knownOptions {
		value, source := spec.lookup(env, file, used)
		if source == SourceDefault {
			value = spec.def(home)
		} else {
			c.sources[spec.key()] = source
		}
		if err := spec.set(c, value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", spec.key(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	c.extra = unknownOptions(env, file, used)
	return c, nil
}

// Options returns every known option with its effective value, plus the
// unknown options found in the file or environment, sorted by section then
// option.
func (c *Config) Options() []Option {
	opts := make([]Option, 0, len(knownOptions)+len(c.extra))
	for _, spec := range knownOptions {
		source := c.sources[spec.key()]
		if source == "" {
			source = SourceDefault
		}
		opts = append(opts, Option{
			Section:   spec.section,
			Name:      spec.name,
			Value:     spec.format(c),
			Source:    source,
			Sensitive: spec.sensitive,
		})
	}
	opts = append(opts, c.extra...)
	sort.Slice(opts, func(i, j int) bool {
		if opts[i].Section != opts[j].Section {
			return opts[i].Section < opts[j].Section
		}
		return opts[i].Name < opts[j].Name
	})
	return opts
}

// Get returns one option, known or found in the file or environment.
// Section and option are case-insensitive.
func (c *Config) Get(section, option string) (Option, error) {
	section, option = strings.ToLower(section), strings.ToLower(option)
	for _, o := range c.Options() {
		if o.Section == section && o.Name == option {
			return o, nil
		}
	}
	return Option{}, windsock.Errorf(windsock.ENOTFOUND, "the option [%s/%s] is not found in config", section, option)
}

// SQLitePath returns the database file when database.sql_alchemy_conn is a
// SQLite URL (sqlite:///relative or sqlite:////absolute, optionally with a
// +driver and ?query), and false otherwise. A relative path resolves
// against Home rather than the working directory, so that every service
// finds the same file; "sqlite://" alone is ":memory:".
func (c *Config) SQLitePath() (string, bool) {
	conn := c.Database.SQLAlchemyConn
	if conn == "" {
		conn = Default(c.Home).Database.SQLAlchemyConn
	}
	scheme, rest, ok := strings.Cut(conn, "://")
	if !ok {
		return "", false
	}
	if dialect, _, _ := strings.Cut(scheme, "+"); !strings.EqualFold(dialect, "sqlite") {
		return "", false
	}
	rest, _, _ = strings.Cut(rest, "?")
	if rest == "" {
		return ":memory:", true
	}
	path := strings.TrimPrefix(rest, "/")
	if path == "" || path == ":memory:" {
		return ":memory:", true
	}
	return c.resolvePath(path), true
}

// DefaultTimezone returns the location of core.default_timezone: "utc"
// is time.UTC, "system" the local zone, anything else an IANA name.
func (c *Config) DefaultTimezone() (*time.Location, error) {
	return loadTimezone(c.Core.DefaultTimezone)
}

func loadTimezone(name string) (*time.Location, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "utc":
		return time.UTC, nil
	case "system":
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("core.default_timezone: unknown timezone %q", name)
	}
	return loc, nil
}

// resolvePath makes a configured path absolute against Home.
func (c *Config) resolvePath(p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Home, p)
}

// fileExists reports whether path exists; other stat errors are returned.
func fileExists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// The values of core.executor.
const (
	ExecutorLocal  = "LocalExecutor"
	ExecutorCelery = "CeleryExecutor"
)

// Package envspec holds the contract between the control plane's API
// (internal/mwaa: it stores what users asked for) and the runner that makes
// an environment's processes exist (internal/envrunner). Neither side
// imports the other: the API hands the runner a Spec, the runner reports a
// Status back.
package envspec

import (
	"context"
	"strings"
	"time"
)

// Spec is the desired state of one environment, as the API validated it.
// Field names follow the MWAA API so that a change of the API shape maps
// onto one field here.
type Spec struct {
	Name           string
	AirflowVersion string
	// EnvironmentClass is mw1.micro … mw1.2xlarge; it sets the tasks a
	// worker runs at once (WorkerConcurrency) unless celery.worker_autoscale
	// overrides it.
	EnvironmentClass  string
	WorkerConcurrency int
	Schedulers        int
	MinWorkers        int
	MaxWorkers        int
	MinWebservers     int
	MaxWebservers     int
	// WebserverAccessMode: PRIVATE_ONLY binds the loopback address,
	// PUBLIC_ONLY (and PUBLIC_AND_PRIVATE) all addresses.
	WebserverAccessMode string

	// The source bucket: Bucket is the bucket's name (from
	// SourceBucketArn); paths are keys inside it.
	Bucket                       string
	DagS3Path                    string
	PluginsS3Path                string
	PluginsS3ObjectVersion       string
	RequirementsS3Path           string
	RequirementsS3ObjectVersion  string
	StartupScriptS3Path          string
	StartupScriptS3ObjectVersion string

	// AirflowConfigurationOptions as given ("core.default_timezone" → "utc"),
	// already validated and renamed for the version.
	AirflowConfigurationOptions map[string]string
	// Logging per component, keyed by the Component names.
	Logging map[string]ModuleLogging

	// WorkerReplacementStrategy applies to an update: GRACEFUL drains
	// workers before replacing them, FORCED does not.
	WorkerReplacementStrategy string
}

// Components of an environment, as MWAA names their log groups
// (airflow-{Name}-{Component}); Spec.Logging is keyed by them.
const (
	DAGProcessing = "DAGProcessing"
	Scheduler     = "Scheduler"
	WebServer     = "WebServer"
	Worker        = "Worker"
	Task          = "Task"
)

// Components are the components in MWAA's order of their log groups.
var Components = []string{DAGProcessing, Scheduler, Task, WebServer, Worker}

// ComponentOf resolves what a user calls a log group of environment env:
// a component in any case, with or without - and _ ("dag-processing",
// "webserver"), or the group's MWAA name (airflow-NAME-Scheduler).
func ComponentOf(env, group string) (string, bool) {
	norm := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimPrefix(group, "airflow-"+env+"-")))
	for _, c := range Components {
		if strings.ToLower(c) == norm {
			return c, true
		}
	}
	return "", false
}

// runnerOwned are the options the runner sets itself (MWAA's "essential"
// configuration: executor, database, keys, folders, hosts and ports):
// the API refuses them in AirflowConfigurationOptions.
var runnerOwned = map[string]bool{
	"core.executor": true, "core.sql_alchemy_conn": true, "database.sql_alchemy_conn": true,
	"core.fernet_key": true, "celery.broker_url": true, "celery.result_backend": true,
	"webserver.secret_key": true, "webserver.config_file": true, "webserver.base_url": true,
	"webserver.web_server_host": true, "webserver.web_server_port": true,
	"logging.logging_config_class": true, "logging.base_log_folder": true, "logging.worker_log_server_port": true,
	"core.dags_folder": true, "core.plugins_folder": true, "scheduler.standalone_dag_processor": true,
}

// RunnerOwned reports whether the runner owns the option (section.option,
// any case).
func RunnerOwned(key string) bool { return runnerOwned[strings.ToLower(key)] }

// ModuleLogging is one component's LoggingConfiguration.
type ModuleLogging struct {
	Enabled  bool
	LogLevel string // CRITICAL, ERROR, WARNING, INFO, DEBUG
}

// Status is what the runner reports about a running environment.
type Status struct {
	// WebserverHostname is host:port where the environment's UI and REST
	// API answer (MWAA's WebserverUrl is a bare hostname).
	WebserverHostname string
	Workers           int // workers running now
	Healthy           bool
	// LastScaling is the autoscaler's last decision with its inputs, in
	// words, for the environment's status.
	LastScaling string
	StartedAt   time.Time
}

// Runner runs environments. Start returns once the environment answers
// (AVAILABLE) or failed (the error becomes CREATE_FAILED's message);
// Update applies a changed Spec with a rolling restart and leaves the old
// processes running when it fails; Stop stops every process of the
// environment; Remove also deletes its home. Adopt re-attaches to an
// environment a previous control plane started (after a restart of the
// control plane), starting it when it is not running, never doubling it.
type Runner interface {
	Start(ctx context.Context, spec Spec) (Status, error)
	Update(ctx context.Context, old, spec Spec) (Status, error)
	Adopt(ctx context.Context, spec Spec) (Status, error)
	Stop(ctx context.Context, name string) error
	Remove(ctx context.Context, name string) error
	Status(name string) (Status, bool)
}

// LogQuery selects what `windsock env logs` reads from an environment's
// log group.
type LogQuery struct {
	// Group is a component (scheduler, dag-processing, webserver, worker,
	// task) or the group's MWAA name (airflow-NAME-Scheduler).
	Group string
	// Since keeps the lines written at or after it; zero keeps all.
	Since time.Time
	// Follow keeps sending new lines until the context ends.
	Follow bool
	// JSON writes one JSON event a line (logStreamName, timestamp in
	// milliseconds, message: CloudWatch's FilteredLogEvent) instead of
	// "stream text" lines.
	JSON bool
	// Token, a next token a read returned, reads on from where that read
	// stopped (a read without Follow returns one page).
	Token string
}

// Component is one process of a running environment (a scheduler, the
// DAG processor, a worker), as the job row it heartbeats in the
// environment's metadata database tells: the control plane's cluster
// activity.
type Component struct {
	// Kind is "Scheduler", "DAG processor" or "Worker".
	Kind     string
	Hostname string
	// State is the job's: running, or failed for a process presumed dead.
	State           string
	StartDate       time.Time
	LatestHeartbeat time.Time
	// Healthy is set when the process is running and its heartbeat is
	// within the environment's health check threshold for its kind.
	Healthy bool
	// MetricsAddr is where the process serves /metrics ("" when its web
	// server does).
	MetricsAddr string
}

// ActivityReader is a Runner that can list a running environment's
// processes; the control plane's UI shows them when its Runner is one.
type ActivityReader interface {
	Activity(ctx context.Context, name string) ([]Component, error)
}

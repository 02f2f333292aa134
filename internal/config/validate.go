package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Validate checks ranges and enumerations. Every error names its option,
// e.g. "core.parallelism: must be at least 1, got 0"; all problems are
// reported at once. Call it on a Config from Load, or on WithDefaults() of
// a hand-built one.
func (c *Config) Validate() error {
	v := &validator{}

	v.atLeast("core.parallelism", c.Core.Parallelism, 1)
	v.atLeast("core.max_active_tasks_per_dag", c.Core.MaxActiveTasksPerDAG, 1)
	v.atLeast("core.max_active_runs_per_dag", c.Core.MaxActiveRunsPerDAG, 1)
	v.atLeast("core.default_task_retries", c.Core.DefaultTaskRetries, 0)
	v.notNegative("core.default_task_retry_delay", c.Core.DefaultTaskRetryDelay)
	v.notNegative("core.max_task_retry_delay", c.Core.MaxTaskRetryDelay)
	v.atLeast("core.default_pool_task_slot_count", c.Core.DefaultPoolTaskSlotCount, 0)
	v.oneOf("core.dag_ignore_file_syntax", c.Core.DagIgnoreFileSyntax, "regexp", "glob")
	v.atLeast("core.max_dag_file_size", c.Core.MaxDagFileSize, 1)
	v.atLeast("core.max_map_length", c.Core.MaxMapLength, 1)
	v.notNegative("core.dagbag_import_timeout", c.Core.DagbagImportTimeout)
	v.notNegative("core.killed_task_cleanup_time", c.Core.KilledTaskCleanupTime)
	v.oneOf("core.test_connection", c.Core.TestConnection, "Disabled", "Enabled", "Hidden")
	v.oneOf("core.executor", c.Core.Executor, ExecutorLocal, ExecutorCelery)
	v.atLeast("celery.worker_concurrency", c.Celery.WorkerConcurrency, 1)
	v.notEmpty("core.dags_folder", c.Core.DagsFolder)
	if _, err := loadTimezone(c.Core.DefaultTimezone); err != nil {
		v.errs = append(v.errs, err)
	}

	v.atLeast("webserver.session_lifetime_minutes", c.Webserver.SessionLifetimeMinutes, 1)
	if _, err := ParseRateLimit(c.Webserver.AuthRateLimit); err != nil {
		v.add("webserver.auth_rate_limit", err.Error())
	}

	v.notEmpty("database.sql_alchemy_conn", c.Database.SQLAlchemyConn)
	if c.Database.SQLAlchemyConn != "" && !strings.Contains(c.Database.SQLAlchemyConn, "://") {
		v.add("database.sql_alchemy_conn", "must be a URL such as sqlite:////path/windsock.db or postgresql://user:password@host/db")
	}

	v.notEmpty("logging.base_log_folder", c.Logging.BaseLogFolder)
	v.oneOf("logging.logging_level", c.Logging.LoggingLevel, "CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG")
	if p := c.Logging.WorkerLogServerPort; p < 1 || p > 65535 {
		v.add("logging.worker_log_server_port", fmt.Sprintf("must be between 1 and 65535, got %d", p))
	}
	if p := c.Metrics.MetricsPort; p < 0 || p > 65535 {
		v.add("metrics.metrics_port", fmt.Sprintf("must be between 0 and 65535, got %d", p))
	}
	v.positive("logging.log_fetch_timeout_sec", c.Logging.LogFetchTimeoutSec)
	if c.Logging.RemoteLogging {
		v.remoteFolder("logging.remote_base_log_folder", c.Logging.RemoteBaseLogFolder)
	}

	v.positive("scheduler.scheduler_heartbeat_sec", c.Scheduler.SchedulerHeartbeatSec)
	v.notNegative("scheduler.dag_dir_list_interval", c.Scheduler.DagDirListInterval)
	v.notNegative("scheduler.min_file_process_interval", c.Scheduler.MinFileProcessInterval)
	v.positive("scheduler.scheduler_health_check_threshold", c.Scheduler.SchedulerHealthCheckThreshold)
	v.positive("scheduler.task_queued_timeout", c.Scheduler.TaskQueuedTimeout)
	v.positive("scheduler.scheduler_zombie_task_threshold", c.Scheduler.SchedulerZombieTaskThreshold)
	v.positive("scheduler.worker_health_check_threshold", c.Scheduler.WorkerHealthCheckThreshold)
	v.atLeast("scheduler.max_tis_per_query", c.Scheduler.MaxTisPerQuery, 0)

	v.notEmpty("webserver.web_server_host", c.Webserver.WebServerHost)
	if p := c.Webserver.WebServerPort; p < 1 || p > 65535 {
		v.add("webserver.web_server_port", fmt.Sprintf("must be between 1 and 65535, got %d", p))
	}
	if c.Webserver.BaseURL != "" {
		if u, err := url.Parse(c.Webserver.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
			v.add("webserver.base_url", fmt.Sprintf("must be an absolute URL such as https://windsock.example.com, got %q", c.Webserver.BaseURL))
		}
	}

	if len(c.API.AuthBackends) == 0 {
		v.add("api.auth_backends", "must name at least one backend")
	}
	v.atLeast("api.maximum_page_limit", c.API.MaximumPageLimit, 1)
	v.atLeast("api.fallback_page_limit", c.API.FallbackPageLimit, 1)
	v.atLeast("api.max_concurrent_requests", c.API.MaxConcurrentRequests, 0)
	v.positive("webserver.web_server_worker_timeout", c.Webserver.WebServerWorkerTimeout)

	v.notEmpty("operators.default_queue", c.Operators.DefaultQueue)
	return errors.Join(v.errs...)
}

type validator struct {
	errs []error
}

func (v *validator) add(option, msg string) {
	v.errs = append(v.errs, fmt.Errorf("%s: %s", option, msg))
}

func (v *validator) atLeast(option string, n, min int) {
	if n < min {
		v.add(option, fmt.Sprintf("must be at least %d, got %d", min, n))
	}
}

func (v *validator) notNegative(option string, d time.Duration) {
	if d < 0 {
		v.add(option, fmt.Sprintf("must not be negative, got %v seconds", d.Seconds()))
	}
}

func (v *validator) positive(option string, d time.Duration) {
	if d <= 0 {
		v.add(option, fmt.Sprintf("must be more than 0 seconds, got %v", d.Seconds()))
	}
}

func (v *validator) notEmpty(option, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(option, "must not be empty")
	}
}

// oneOf compares case-insensitively, as Airflow lower-cases these options
// before comparing.
func (v *validator) oneOf(option, s string, allowed ...string) {
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(s), a) {
			return
		}
	}
	v.add(option, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), s))
}

// remoteFolder checks logging.remote_base_log_folder: an absolute
// directory, a file:// URL or s3://bucket[/prefix]. Airflow's other
// remote handlers (gs://, wasb://, cloudwatch://...) are refused by name
// rather than ignored, so that logs never silently go nowhere.
func (v *validator) remoteFolder(option, s string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.add(option, "must be set when logging.remote_logging is True")
	case strings.HasPrefix(s, "s3://"):
		if bucket, _, _ := strings.Cut(strings.TrimPrefix(s, "s3://"), "/"); bucket == "" {
			v.add(option, fmt.Sprintf("must name a bucket, as in s3://bucket/logs, got %q", s))
		}
	case strings.HasPrefix(s, "file://"):
		if !strings.HasPrefix(strings.TrimPrefix(s, "file://"), "/") {
			v.add(option, fmt.Sprintf("must be an absolute file:// URL such as file:///mnt/logs, got %q", s))
		}
	case strings.HasPrefix(s, "/"):
	default:
		v.add(option, fmt.Sprintf("must be an absolute directory, a file:// URL or s3://bucket/prefix, got %q", s))
	}
}

package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

// setup returns a fresh WINDSOCK_HOME and an environment that points at it.
func setup(t *testing.T, file string, env ...string) (string, []string) {
	t.Helper()
	home := t.TempDir()
	if file != "" {
		if err := os.WriteFile(filepath.Join(home, config.FileName), []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home, append([]string{"HOME=/home/tester", "WINDSOCK_HOME=" + home}, env...)
}

func load(t *testing.T, home string, environ []string) *config.Config {
	t.Helper()
	c, err := config.Load(home, environ)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "")
	c := load(t, "", environ) // "" means WINDSOCK_HOME

	if c.Home != home {
		t.Errorf("Home = %q, want %q", c.Home, home)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"dags_folder", c.Core.DagsFolder, filepath.Join(home, "dags")},
		{"parallelism", c.Core.Parallelism, 32},
		{"max_active_tasks_per_dag", c.Core.MaxActiveTasksPerDAG, 16},
		{"max_active_runs_per_dag", c.Core.MaxActiveRunsPerDAG, 16},
		{"dags_are_paused_at_creation", c.Core.DagsArePausedAtCreation, true},
		{"load_examples", c.Core.LoadExamples, true},
		{"fernet_key", c.Core.FernetKey, ""},
		{"default_timezone", c.Core.DefaultTimezone, "utc"},
		{"default_task_retry_delay", c.Core.DefaultTaskRetryDelay, 300 * time.Second},
		{"max_task_retry_delay", c.Core.MaxTaskRetryDelay, 24 * time.Hour},
		{"default_pool_task_slot_count", c.Core.DefaultPoolTaskSlotCount, 128},
		{"dag_ignore_file_syntax", c.Core.DagIgnoreFileSyntax, "regexp"},
		{"max_map_length", c.Core.MaxMapLength, 1024},
		{"dagbag_import_timeout", c.Core.DagbagImportTimeout, 30 * time.Second},
		{"test_connection", c.Core.TestConnection, "Disabled"},
		{"python_executable", c.Core.PythonExecutable, ""},
		{"requirements_file", c.Core.RequirementsFile, filepath.Join(home, "requirements.txt")},
		{"plugins_folder", c.Core.PluginsFolder, filepath.Join(home, "plugins")},
		{"plugins_zip", c.Core.PluginsZip, filepath.Join(home, "plugins.zip")},
		{"sql_alchemy_conn", c.Database.SQLAlchemyConn, "sqlite:///" + home + "/windsock.db"},
		{"base_log_folder", c.Logging.BaseLogFolder, filepath.Join(home, "logs")},
		{"logging_level", c.Logging.LoggingLevel, "INFO"},
		{"catchup_by_default", c.Scheduler.CatchupByDefault, true},
		{"scheduler_heartbeat_sec", c.Scheduler.SchedulerHeartbeatSec, 5 * time.Second},
		{"task_queued_timeout", c.Scheduler.TaskQueuedTimeout, 600 * time.Second},
		{"standalone_dag_processor", c.Scheduler.StandaloneDagProcessor, false},
		{"web_server_host", c.Webserver.WebServerHost, "127.0.0.1"},
		{"web_server_port", c.Webserver.WebServerPort, 8080},
		{"expose_config", c.Webserver.ExposeConfig, false},
		{"auth_backends", strings.Join(c.API.AuthBackends, "|"), "airflow.api.auth.backend.session|airflow.api.auth.backend.basic_auth"},
		{"maximum_page_limit", c.API.MaximumPageLimit, 100},
		{"default_queue", c.Operators.DefaultQueue, "default"},
		{"default_owner", c.Operators.DefaultOwner, "airflow"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	if !strings.HasPrefix(c.Database.SQLAlchemyConn, "sqlite:////") {
		t.Errorf("sql_alchemy_conn = %q, want the absolute form sqlite:////...", c.Database.SQLAlchemyConn)
	}
	if path, ok := c.SQLitePath(); !ok || path != filepath.Join(home, "windsock.db") {
		t.Errorf("SQLitePath() = %q, %v", path, ok)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v", err)
	}
	for _, o := range c.Options() {
		if o.Source != config.SourceDefault {
			t.Errorf("option %s.%s has source %q without file or env", o.Section, o.Name, o.Source)
		}
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	const file = "[core]\nparallelism = 10\nmax_active_runs_per_dag = 3\n[webserver]\nweb_server_port = 9000\n"
	tests := []struct {
		name       string
		env        []string
		want       int
		wantSource string
	}{
		{"file over default", nil, 10, config.SourceFile},
		{"AIRFLOW__ over file", []string{"AIRFLOW__CORE__PARALLELISM=20"}, 20, config.SourceEnv},
		{"WINDSOCK__ over AIRFLOW__", []string{"WINDSOCK__CORE__PARALLELISM=30", "AIRFLOW__CORE__PARALLELISM=20"}, 30, config.SourceEnv},
		{"WINDSOCK__ over AIRFLOW__ whatever the order", []string{"AIRFLOW__CORE__PARALLELISM=20", "WINDSOCK__CORE__PARALLELISM=30"}, 30, config.SourceEnv},
		{"lower-case names are not Airflow's", []string{"airflow__core__parallelism=20"}, 10, config.SourceFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home, environ := setup(t, file, tt.env...)
			c := load(t, home, environ)
			if c.Core.Parallelism != tt.want {
				t.Errorf("parallelism = %d, want %d", c.Core.Parallelism, tt.want)
			}
			o, err := c.Get("core", "parallelism")
			if err != nil {
				t.Fatal(err)
			}
			if o.Source != tt.wantSource || o.Value != strings.TrimSpace(o.Value) {
				t.Errorf("Get(core, parallelism) = %+v, want source %s", o, tt.wantSource)
			}
			// Options not overridden keep their file value.
			if c.Core.MaxActiveRunsPerDAG != 3 || c.Webserver.WebServerPort != 9000 {
				t.Errorf("file values lost: max_active_runs_per_dag=%d web_server_port=%d", c.Core.MaxActiveRunsPerDAG, c.Webserver.WebServerPort)
			}
		})
	}
}

func TestBooleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value   string
		want    bool
		wantErr bool
	}{
		{"True", true, false},
		{"true", true, false},
		{"TRUE", true, false},
		{"t", true, false},
		{"1", true, false},
		{"False", false, false},
		{"false", false, false},
		{"f", false, false},
		{"0", false, false},
		{" False ", false, false},
		{"True # comment", true, false},
		{"yes", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			home, environ := setup(t, "", "AIRFLOW__CORE__LOAD_EXAMPLES="+tt.value)
			c, err := config.Load(home, environ)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "core.load_examples: not a boolean") {
					t.Fatalf("Load error = %v, want one naming core.load_examples", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Core.LoadExamples != tt.want {
				t.Fatalf("load_examples = %v, want %v", c.Core.LoadExamples, tt.want)
			}
		})
	}
}

func TestLoadParseErrorsNameTheOption(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "[core]\nparallelism = lots\n[scheduler]\ntask_queued_timeout = 10m\n")
	_, err := config.Load(home, environ)
	if err == nil {
		t.Fatal("Load accepted non-numeric values")
	}
	for _, want := range []string{`core.parallelism: not an integer: "lots"`, `scheduler.task_queued_timeout: not a number of seconds: "10m"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load error %q does not contain %q", err, want)
		}
	}
}

func TestFileValues(t *testing.T) {
	t.Parallel()
	file := `# a comment
[Core]
dags_folder = my_dags
default_task_retry_delay = 1.5
dag_ignore_file_syntax = glob

[database]
sql_alchemy_conn = postgresql://user:p%%40ss#x@$DB_HOST/airflow

[logging]
base_log_folder = ~/logs
`
	home, environ := setup(t, file, "DB_HOST=db.internal")
	c := load(t, home, environ)
	if want := filepath.Join(home, "my_dags"); c.Core.DagsFolder != want {
		t.Errorf("dags_folder = %q, want %q (relative to home)", c.Core.DagsFolder, want)
	}
	if c.Core.DefaultTaskRetryDelay != 1500*time.Millisecond {
		t.Errorf("default_task_retry_delay = %v, want 1.5s", c.Core.DefaultTaskRetryDelay)
	}
	// %% is configparser's escaped %, # is not a comment, $VAR expands.
	if want := "postgresql://user:p%40ss#x@db.internal/airflow"; c.Database.SQLAlchemyConn != want {
		t.Errorf("sql_alchemy_conn = %q, want %q", c.Database.SQLAlchemyConn, want)
	}
	if _, ok := c.SQLitePath(); ok {
		t.Error("SQLitePath() reports sqlite for a postgresql URL")
	}
	if c.Logging.BaseLogFolder != "/home/tester/logs" {
		t.Errorf("base_log_folder = %q, want ~ expanded", c.Logging.BaseLogFolder)
	}
	if c.Core.DagIgnoreFileSyntax != "glob" {
		t.Errorf("dag_ignore_file_syntax = %q from section [Core]", c.Core.DagIgnoreFileSyntax)
	}
}

func TestDeprecatedNames(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "[core]\nsql_alchemy_conn = sqlite:////old.db\ndag_concurrency = 4\n")
	c := load(t, home, environ)
	if c.Database.SQLAlchemyConn != "sqlite:////old.db" || c.Core.MaxActiveTasksPerDAG != 4 {
		t.Fatalf("deprecated names ignored: sql_alchemy_conn=%q max_active_tasks_per_dag=%d", c.Database.SQLAlchemyConn, c.Core.MaxActiveTasksPerDAG)
	}
	if _, err := c.Get("core", "sql_alchemy_conn"); err == nil {
		t.Error("a deprecated name used for a known option is also listed as an unknown option")
	}

	// The current name wins over the deprecated one.
	home, environ = setup(t, "[core]\nsql_alchemy_conn = sqlite:////old.db\n[database]\nsql_alchemy_conn = sqlite:////new.db\n")
	if c := load(t, home, environ); c.Database.SQLAlchemyConn != "sqlite:////new.db" {
		t.Fatalf("sql_alchemy_conn = %q, want the [database] value", c.Database.SQLAlchemyConn)
	}
}

func TestOptionsAndGet(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "[celery]\nworker_concurrency = 8\n[smtp]\nsmtp_password = hunter2\n[core]\nfernet_key = abc\n",
		"AIRFLOW__CELERY__BROKER_URL=sqs://", "AIRFLOW__METRICS__STATSD_ON=True", "AIRFLOW__BAD=1", "AIRFLOW_HOME=/x")
	c := load(t, home, environ)

	opts := c.Options()
	for i := 1; i < len(opts); i++ {
		a, b := opts[i-1], opts[i]
		if a.Section > b.Section || (a.Section == b.Section && a.Name >= b.Name) {
			t.Fatalf("Options not sorted: %s.%s before %s.%s", a.Section, a.Name, b.Section, b.Name)
		}
	}

	tests := []struct {
		section, option string
		value, source   string
		display         string
	}{
		{"celery", "worker_concurrency", "8", config.SourceFile, "8"},
		{"celery", "broker_url", "sqs://", config.SourceEnv, "< hidden >"},
		{"smtp", "smtp_password", "hunter2", config.SourceFile, "< hidden >"},
		{"metrics", "statsd_on", "True", config.SourceEnv, "True"},
		{"core", "fernet_key", "abc", config.SourceFile, "< hidden >"},
		{"CORE", "Parallelism", "32", config.SourceDefault, "32"},
		{"database", "sql_alchemy_conn", "sqlite:///" + home + "/windsock.db", config.SourceDefault, "< hidden >"},
		{"webserver", "secret_key", "", config.SourceDefault, "< hidden >"},
		{"core", "default_task_retry_delay", "300", config.SourceDefault, "300"},
		{"core", "load_examples", "True", config.SourceDefault, "True"},
	}
	for _, tt := range tests {
		o, err := c.Get(tt.section, tt.option)
		if err != nil {
			t.Errorf("Get(%s, %s): %v", tt.section, tt.option, err)
			continue
		}
		if o.Value != tt.value || o.Source != tt.source || o.Display() != tt.display {
			t.Errorf("Get(%s, %s) = value %q source %q display %q; want %q %q %q",
				tt.section, tt.option, o.Value, o.Source, o.Display(), tt.value, tt.source, tt.display)
		}
	}

	_, err := c.Get("core", "no_such_option")
	if windsock.ErrorCode(err) != windsock.ENOTFOUND || err.Error() != "the option [core/no_such_option] is not found in config" {
		t.Fatalf("Get(unknown) = %v (code %q)", err, windsock.ErrorCode(err))
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"parallelism", "[core]\nparallelism = 0\n", []string{"core.parallelism: must be at least 1, got 0"}},
		{"several at once", "[core]\nmax_active_runs_per_dag = 0\ndag_ignore_file_syntax = fnmatch\n[webserver]\nweb_server_port = 70000\n",
			[]string{"core.max_active_runs_per_dag: must be at least 1, got 0", `core.dag_ignore_file_syntax: must be one of regexp, glob, got "fnmatch"`, "webserver.web_server_port: must be between 1 and 65535, got 70000"}},
		{"timezone", "[core]\ndefault_timezone = Mars/Olympus\n", []string{`core.default_timezone: unknown timezone "Mars/Olympus"`}},
		{"durations", "[scheduler]\nscheduler_heartbeat_sec = 0\n[core]\ndefault_task_retry_delay = -1\n", []string{"scheduler.scheduler_heartbeat_sec: must be more than 0 seconds", "core.default_task_retry_delay: must not be negative"}},
		{"logging level", "[logging]\nlogging_level = LOUD\n", []string{"logging.logging_level: must be one of"}},
		{"base url", "[webserver]\nbase_url = localhost:8080\n", []string{"webserver.base_url: must be an absolute URL"}},
		{"database url", "[database]\nsql_alchemy_conn = windsock.db\n", []string{"database.sql_alchemy_conn: must be a URL"}},
		{"case-insensitive enumerations", "[core]\ntest_connection = enabled\n[logging]\nlogging_level = debug\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			home, environ := setup(t, tt.file)
			err := load(t, home, environ).Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	t.Parallel()
	c := (&config.Config{Home: "/srv/ws", Core: config.CoreSection{Parallelism: 4}}).WithDefaults()
	if c.Core.Parallelism != 4 {
		t.Errorf("WithDefaults replaced parallelism 4 with %d", c.Core.Parallelism)
	}
	if c.Core.MaxActiveRunsPerDAG != 16 || c.Webserver.WebServerPort != 8080 || c.Core.DagsFolder != "/srv/ws/dags" ||
		c.Scheduler.TaskQueuedTimeout != 10*time.Minute || len(c.API.AuthBackends) != 2 {
		t.Errorf("WithDefaults did not fill zero fields: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate(WithDefaults) = %v", err)
	}
	if d := config.Default("/srv/ws"); !d.Core.LoadExamples || !d.Scheduler.CatchupByDefault || d.Core.Parallelism != 32 {
		t.Errorf("Default() = %+v", d)
	}
}

func TestHome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		want    string
		wantErr bool
	}{
		{"WINDSOCK_HOME", []string{"HOME=/home/a", "WINDSOCK_HOME=/srv/windsock"}, "/srv/windsock", false},
		{"default under HOME", []string{"HOME=/home/a"}, "/home/a/windsock", false},
		{"empty WINDSOCK_HOME", []string{"HOME=/home/a", "WINDSOCK_HOME="}, "/home/a/windsock", false},
		{"tilde", []string{"HOME=/home/a", "WINDSOCK_HOME=~/ws"}, "/home/a/ws", false},
		{"nothing set", []string{"PATH=/bin"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := config.Home(tt.environ)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Home = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSQLitePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		conn   string
		want   string
		wantOK bool
	}{
		{"sqlite:////var/lib/windsock/windsock.db", "/var/lib/windsock/windsock.db", true},
		{"sqlite:///windsock.db", "/srv/ws/windsock.db", true},
		{"sqlite+pysqlite:////tmp/a.db?timeout=20", "/tmp/a.db", true},
		{"sqlite://", ":memory:", true},
		{"postgresql://u:p@h/db", "", false},
		{"postgresql+psycopg2://u:p@h/db", "", false},
		{"", "/srv/ws/windsock.db", true}, // zero means default
	}
	for _, tt := range tests {
		t.Run(tt.conn, func(t *testing.T) {
			t.Parallel()
			c := &config.Config{Home: "/srv/ws", Database: config.DatabaseSection{SQLAlchemyConn: tt.conn}}
			got, ok := c.SQLitePath()
			if got != tt.want || ok != tt.wantOK {
				t.Fatalf("SQLitePath(%q) = %q, %v; want %q, %v", tt.conn, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestDefaultTimezone(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]*time.Location{"utc": time.UTC, "UTC": time.UTC, "": time.UTC, "system": time.Local} {
		c := &config.Config{Core: config.CoreSection{DefaultTimezone: name}}
		got, err := c.DefaultTimezone()
		if err != nil || got != want {
			t.Errorf("DefaultTimezone(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := os.Stat("/usr/share/zoneinfo/Europe/Paris"); err == nil {
		c := &config.Config{Core: config.CoreSection{DefaultTimezone: "Europe/Paris"}}
		if loc, err := c.DefaultTimezone(); err != nil || loc.String() != "Europe/Paris" {
			t.Errorf("DefaultTimezone(Europe/Paris) = %v, %v", loc, err)
		}
	}
	c := &config.Config{Core: config.CoreSection{DefaultTimezone: "Nowhere/Special"}}
	if _, err := c.DefaultTimezone(); err == nil {
		t.Error("DefaultTimezone accepted an unknown zone")
	}
}

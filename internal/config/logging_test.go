package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
)

func TestRemoteLoggingOptions(t *testing.T) {
	t.Parallel()
	home, environ := setup(t, "")
	c := load(t, home, environ)
	if got := c.Logging; got.WorkerLogServerPort != 8793 || got.LogFetchTimeoutSec != 5*time.Second || got.RemoteLogging ||
		got.RemoteBaseLogFolder != "" || got.RemoteLogConnID != "" || got.DeleteLocalLogs {
		t.Fatalf("defaults = %+v", got)
	}

	// The file, AIRFLOW__ and WINDSOCK__ variables, and Airflow 1's
	// section for each option, all reach the fields.
	home, environ = setup(t, "[logging]\nremote_log_conn_id = from_file\n[celery]\nworker_log_server_port = 9000\n",
		"AIRFLOW__LOGGING__REMOTE_LOGGING=True",
		"AIRFLOW__CORE__REMOTE_BASE_LOG_FOLDER=s3://old/logs",
		"WINDSOCK__LOGGING__REMOTE_BASE_LOG_FOLDER=s3://bucket/logs",
		"WINDSOCK__LOGGING__DELETE_LOCAL_LOGS=t",
		"AIRFLOW__LOGGING__LOG_FETCH_TIMEOUT_SEC=1.5")
	c = load(t, home, environ)
	got := c.Logging
	if got.WorkerLogServerPort != 9000 || !got.RemoteLogging || got.RemoteBaseLogFolder != "s3://bucket/logs" ||
		got.RemoteLogConnID != "from_file" || !got.DeleteLocalLogs || got.LogFetchTimeoutSec != 1500*time.Millisecond {
		t.Fatalf("loaded = %+v", got)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if o, err := c.Get("logging", "remote_base_log_folder"); err != nil || o.Source != config.SourceEnv {
		t.Fatalf("Get = %+v, %v", o, err)
	}
}

func TestValidateRemoteLogging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		folder string
		want   string // "" for valid
	}{
		{"s3://bucket/logs", ""},
		{"s3://bucket", ""},
		{"/mnt/shared/logs", ""},
		{"file:///mnt/shared/logs", ""},
		{"", "must be set when logging.remote_logging is True"},
		{"s3:///logs", "must name a bucket"},
		{"gs://bucket/logs", "must be an absolute directory, a file:// URL or s3://bucket/prefix"},
		{"logs", "must be an absolute directory"},
		{"file://logs", "must be an absolute file:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.folder, func(t *testing.T) {
			t.Parallel()
			home, environ := setup(t, "[logging]\nremote_logging = True\nremote_base_log_folder = "+tt.folder+"\n")
			err := load(t, home, environ).Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "logging.remote_base_log_folder: "+tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	// The folder is only checked when remote logging is on.
	home, environ := setup(t, "[logging]\nremote_base_log_folder = gs://x\nworker_log_server_port = 0\n")
	err := load(t, home, environ).Validate()
	if err == nil || strings.Contains(err.Error(), "remote_base_log_folder") || !strings.Contains(err.Error(), "logging.worker_log_server_port: must be between 1 and 65535, got 0") {
		t.Fatalf("Validate = %v", err)
	}
}

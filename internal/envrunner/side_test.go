package envrunner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/supervise"
	"github.com/windsock/windsock/internal/windsock"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/awss3"
)

// TestTwoEnvironmentsShareNothing: two environments on one runner have
// their own DAGs, variables, users, keys, ports and logs.
func TestTwoEnvironmentsShareNothing(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := context.Background()
	tr.putLocal("bucket-a", "dags/alpha.yaml", dagYAML("alpha", 1, "echo output-of-alpha"))
	tr.putLocal("bucket-b", "dags/beta.yaml", dagYAML("beta", 1, "echo output-of-beta"))
	stA := tr.start(spec("alpha", "bucket-a"))
	stB := tr.start(spec("beta", "bucket-b"))
	if stA.WebserverHostname == stB.WebserverHostname {
		t.Fatalf("both web servers at %s", stA.WebserverHostname)
	}
	dbA, dbB := tr.openStore("alpha"), tr.openStore("beta")
	waitFor(t, 2*time.Minute, "both DAGs to run", func() bool {
		return states(t, dbA, "alpha")[windsock.TaskStateSuccess] == 1 && states(t, dbB, "beta")[windsock.TaskStateSuccess] == 1
	})
	if len(states(t, dbA, "beta")) != 0 || len(states(t, dbB, "alpha")) != 0 {
		t.Fatal("a DAG ran in the other environment")
	}

	if _, stderr, err := tr.airflow("alpha", "variables", "set", "shared_key", "value of alpha"); err != nil {
		t.Fatalf("variables set: %v %s", err, stderr)
	}
	out, _, err := tr.airflow("alpha", "variables", "get", "shared_key")
	if err != nil || strings.TrimSpace(out) != "value of alpha" {
		t.Fatalf("alpha's variable: %q %v", out, err)
	}
	out, stderr, err := tr.airflow("beta", "variables", "get", "shared_key")
	if err == nil || len(out) != 0 || len(stderr) == 0 {
		t.Fatalf("beta sees alpha's variable: stdout %q stderr %q err %v", out, stderr, err)
	}

	homeA, homeB := envrunner.EnvironmentHome(tr.home, "alpha"), envrunner.EnvironmentHome(tr.home, "beta")
	cfgA, _ := config.Load(homeA, nil)
	cfgB, _ := config.Load(homeB, nil)
	if cfgA.Core.FernetKey == "" || cfgA.Core.FernetKey == cfgB.Core.FernetKey || cfgA.Webserver.SecretKey == cfgB.Webserver.SecretKey {
		t.Fatal("the environments share keys")
	}
	pwA, _ := os.ReadFile(filepath.Join(homeA, "standalone_admin_password.txt"))
	pwB, _ := os.ReadFile(filepath.Join(homeB, "standalone_admin_password.txt"))
	if len(pwA) == 0 || bytes.Equal(pwA, pwB) {
		t.Fatal("the environments share the admin password")
	}
	if _, err := dbB.UserGet(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	var schedLogs bytes.Buffer
	if _, err := tr.Logs(ctx, "alpha", envspec.LogQuery{Group: "scheduler"}, &schedLogs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(schedLogs.String(), strings.TrimSpace(string(pwA))) {
		t.Fatal("the admin password is in the scheduler's log group")
	}

	var logsA bytes.Buffer
	if _, err := tr.Logs(ctx, "alpha", envspec.LogQuery{Group: "task"}, &logsA); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logsA.String(), "output-of-alpha") || strings.Contains(logsA.String(), "output-of-beta") {
		t.Fatalf("alpha's task logs:\n%s", logsA.String())
	}
}

// TestDAGFromS3Bucket: with an S3 endpoint, the DAGs come from the bucket
// of a real S3-compatible server, and an upload runs.
func TestDAGFromS3Bucket(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "s3bucket")
	set := awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	tr := setup(t, func(c *envrunner.Config) { c.S3 = &set })
	client := awss3.NewClient(set, nil)
	put := func(key, body string) {
		if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("s3bucket"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("dags/from_s3.yaml", dagYAML("from_s3", 1, "echo s3"))
	put("requirements/startup.sh", "export FROM_STARTUP=yes\necho startup ran\n")
	s := spec("s3-env", "s3bucket")
	s.StartupScriptS3Path = "requirements/startup.sh"
	tr.start(s)
	db := tr.openStore("s3-env")
	waitFor(t, 2*time.Minute, "the DAG from S3 to run", func() bool { return states(t, db, "from_s3")[windsock.TaskStateSuccess] == 1 })

	uploaded := time.Now()
	put("dags/later.yaml", dagYAML("later", 1, `test "$FROM_STARTUP" = yes`))
	waitFor(t, 2*time.Minute, "the uploaded DAG to run", func() bool { return states(t, db, "later")[windsock.TaskStateSuccess] == 1 })
	t.Logf("uploaded DAG ran within %s (S3)", time.Since(uploaded))
}

// TestUpdate: an update restarts the process with the new configuration;
// one that cannot be prepared leaves the running process alone and
// returns the error.
func TestUpdate(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := context.Background()
	old := spec("upd", "updbucket")
	tr.putLocal("updbucket", "dags/.keep", "")
	tr.start(old)
	state := filepath.Join(envrunner.EnvironmentHome(tr.home, "upd"), "run", "standalone.json")
	pid, _ := supervise.Recorded(state)

	bad := old
	bad.PluginsS3Path = "plugins/missing.zip"
	if _, err := tr.Update(ctx, old, bad); err == nil {
		t.Fatal("update with a missing plugins object succeeded")
	}
	if now, alive := supervise.Recorded(state); !alive || now != pid {
		t.Fatalf("a failed update touched the process (%d -> %d, alive %v)", pid, now, alive)
	}

	next := old
	next.AirflowConfigurationOptions = map[string]string{"core.default_task_retries": "3"}
	next.WorkerReplacementStrategy = "FORCED"
	if _, err := tr.Update(ctx, old, next); err != nil {
		t.Fatal(err)
	}
	now, alive := supervise.Recorded(state)
	if !alive || now == pid {
		t.Fatalf("update did not restart the process (%d -> %d, alive %v)", pid, now, alive)
	}
	cfg, err := config.Load(envrunner.EnvironmentHome(tr.home, "upd"), nil)
	if err != nil || cfg.Core.DefaultTaskRetries != 3 {
		t.Fatalf("config after update: retries %v %v", cfg.Core.DefaultTaskRetries, err)
	}
	if _, stderr, err := tr.airflow("upd", "variables", "list"); err != nil {
		t.Fatalf("environment not usable after the update: %v %s", err, stderr)
	}
}

// TestKillProcess: the single process killed with SIGKILL mid-run is
// restarted and every try still ends in a final state.
func TestKillProcess(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	s := spec("killed", "killbucket")
	s.AirflowConfigurationOptions["scheduler.scheduler_zombie_task_threshold"] = "10"
	tr.putLocal("killbucket", "dags/work.yaml", dagYAMLRetries("work", 6, "sleep 2", 2))
	tr.start(s)
	db := tr.openStore("killed")
	waitFor(t, 2*time.Minute, "tries to run", func() bool { return states(t, db, "work")[windsock.TaskStateRunning] > 0 })
	state := filepath.Join(envrunner.EnvironmentHome(tr.home, "killed"), "run", "standalone.json")
	pid, alive := supervise.Recorded(state)
	if !alive || pid <= 0 {
		t.Fatalf("no live standalone recorded in %s (pid %d)", state, pid)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the process to be restarted", func() bool {
		now, alive := supervise.Recorded(state)
		return alive && now != pid
	})
	waitFor(t, 3*time.Minute, "every try to end", func() bool { return allFinal(t, db, "work", 6) })
	t.Logf("states after the kill: %v", states(t, db, "work"))
}

// TestPluginsChangeOnlyOnUpdate: plugins.zip and requirements.txt are read
// from the bucket at start and at an update, never while running (as in
// MWAA, where a new object version needs an update).
func TestPluginsChangeOnlyOnUpdate(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := context.Background()
	s := spec("plugins", "plugbucket")
	s.PluginsS3Path = "plugins.zip"
	s.RequirementsS3Path = "requirements.txt"
	tr.putLocal("plugbucket", "plugins.zip", "version one")
	tr.putLocal("plugbucket", "requirements.txt", "# nothing to install, version one\n")
	tr.start(s)
	h := envrunner.EnvironmentHome(tr.home, "plugins")
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(h, name))
		return string(b)
	}
	if read("plugins.zip") != "version one" || !strings.Contains(read("requirements.txt"), "version one") {
		t.Fatal("plugins and requirements not fetched at start")
	}
	tr.putLocal("plugbucket", "plugins.zip", "version two")
	tr.putLocal("plugbucket", "requirements.txt", "# version two\n")
	// A DAG uploaded after them has run: the bucket was read since.
	tr.putLocal("plugbucket", "dags/marker.yaml", dagYAML("marker", 1, "true"))
	db := tr.openStore("plugins")
	waitFor(t, 2*time.Minute, "the marker DAG", func() bool { return states(t, db, "marker")[windsock.TaskStateSuccess] == 1 })
	if read("plugins.zip") != "version one" {
		t.Fatal("plugins.zip changed without an update")
	}
	if _, err := tr.Update(ctx, s, s); err != nil {
		t.Fatal(err)
	}
	if read("plugins.zip") != "version two" || !strings.Contains(read("requirements.txt"), "version two") {
		t.Fatal("the update did not read the new objects")
	}
}

// TestFailedUpdateFallsBack: an update whose processes do not come up
// starts the previous configuration again and returns the error; an
// invalid option is refused before anything restarts.
func TestFailedUpdateFallsBack(t *testing.T) {
	t.Parallel()
	// The binary behind a wrapper that refuses to start with a marker
	// option in the configuration: a configuration that passes every
	// check but does not run.
	wrapper := filepath.Join(t.TempDir(), "windsock-wrapper")
	script := "#!/bin/sh\nif grep -q fail_marker \"$WINDSOCK_HOME/windsock.cfg\"; then echo refusing to start >&2; exit 3; fi\nexec " + binary + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tr := setup(t, func(c *envrunner.Config) { c.Executable = wrapper; c.StartTimeout = time.Minute })
	ctx := context.Background()
	old := spec("fallback", "")
	tr.start(old)

	invalid := old
	invalid.AirflowConfigurationOptions = map[string]string{"core.default_timezone": "Mars/Olympus"}
	if _, err := tr.Update(ctx, old, invalid); err == nil || !strings.Contains(err.Error(), "Mars/Olympus") {
		t.Fatalf("invalid option: %v", err)
	}

	broken := old
	broken.AirflowConfigurationOptions = map[string]string{"custom.fail_marker": "1"}
	_, err := tr.Update(ctx, old, broken)
	if err == nil || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("broken update: %v, want the process's error", err)
	}
	cfg, _ := os.ReadFile(filepath.Join(envrunner.EnvironmentHome(tr.home, "fallback"), "windsock.cfg"))
	if bytes.Contains(cfg, []byte("fail_marker")) {
		t.Fatal("the broken configuration stayed")
	}
	if _, stderr, err := tr.airflow("fallback", "variables", "list"); err != nil {
		t.Fatalf("environment not usable after the fallback: %v %s", err, stderr)
	}
	if st, _ := tr.Status("fallback"); !st.Healthy {
		t.Fatal("unhealthy after the fallback")
	}
}

// TestUpdateRefreshesHealthThresholds: the health Activity reports
// follows the heartbeat thresholds an update set, not those the store
// was first read with. The runner's clock runs an hour ahead, so that
// every heartbeat is an hour old: unhealthy by the default 30 s, healthy
// by a day.
func TestUpdateRefreshesHealthThresholds(t *testing.T) {
	t.Parallel()
	tr := setup(t, func(c *envrunner.Config) { c.Clock = func() time.Time { return time.Now().Add(time.Hour) } })
	ctx := context.Background()
	old := spec("thresholds", "thresholdsbucket")
	tr.putLocal("thresholdsbucket", "dags/.keep", "")
	tr.start(old)
	health := func() (n, healthy int) {
		comps, err := tr.Activity(ctx, "thresholds")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range comps {
			if c.Healthy {
				healthy++
			}
		}
		return len(comps), healthy
	}
	waitFor(t, 2*time.Minute, "the environment's processes in its activity", func() bool { n, _ := health(); return n > 0 })
	if n, healthy := health(); healthy != 0 {
		t.Fatalf("%d of %d processes healthy with hour-old heartbeats and a 30 s threshold", healthy, n)
	}
	next := old
	next.AirflowConfigurationOptions = map[string]string{
		"scheduler.scheduler_health_check_threshold": "86400",
		"scheduler.worker_health_check_threshold":    "86400",
	}
	next.WorkerReplacementStrategy = "FORCED"
	if _, err := tr.Update(ctx, old, next); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "every process healthy by the updated one-day thresholds", func() bool {
		n, healthy := health()
		return n > 0 && healthy == n
	})
}

package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/mwaaclient"
)

// cpUser drives a running control plane with one key: the windsock
// binary's env commands, and each environment's Airflow CLI through
// CreateCliToken and /aws_mwaa/cli.
type cpUser struct {
	t   *testing.T
	cp  *controlPlane
	dir string // the control plane's home
	env []string
}

// newCPUser creates a key (with the policy document given, if any).
func newCPUser(t *testing.T, h *home, cp *controlPlane, dir, name, policy string) *cpUser {
	t.Helper()
	args := []string{"controlplane", "keys", "create", "--home", dir, "--name", name, "-o", "json"}
	if policy != "" {
		path := filepath.Join(h.dir, name+"-policy.json")
		if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--policy", path)
	}
	out, err := exec.Command(binary, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(out, &key); err != nil {
		t.Fatalf("keys create: %s", out)
	}
	return &cpUser{t: t, cp: cp, dir: dir, env: append(h.env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)}
}

// windsock runs the binary against the control plane.
func (u *cpUser) windsock(args ...string) result {
	cmd := exec.Command(binary, append(args, "--endpoint-url", u.cp.url)...)
	cmd.Env = u.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// create creates an environment whose bucket folder holds dags, and waits
// until it is AVAILABLE.
func (u *cpUser) create(name string, dags map[string]string, args ...string) {
	u.t.Helper()
	dagDir := filepath.Join(u.dir, "buckets", name, "dags")
	if err := os.MkdirAll(dagDir, 0o755); err != nil {
		u.t.Fatal(err)
	}
	for file, content := range dags {
		if err := os.WriteFile(filepath.Join(dagDir, file), []byte(content), 0o644); err != nil {
			u.t.Fatal(err)
		}
	}
	res := u.windsock(append([]string{"env", "create", name, "--wait", "-o", "json"}, args...)...)
	var created struct{ Status string }
	_ = json.Unmarshal([]byte(res.stdout), &created)
	if res.code != 0 || created.Status != "AVAILABLE" {
		u.t.Fatalf("env create %s: %d %s %s", name, res.code, res.stdout, res.stderr)
	}
}

// delete deletes an environment and waits until its processes are gone.
func (u *cpUser) delete(name string) {
	if res := u.windsock("env", "delete", name); res.code != 0 && !strings.Contains(res.stderr, "ResourceNotFoundException") {
		u.t.Errorf("env delete %s: %s", name, res.stderr)
		return
	}
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if res := u.windsock("env", "get", name); strings.Contains(res.stderr, "ResourceNotFoundException") {
			return
		}
	}
	u.t.Errorf("environment %s was not deleted", name)
}

// airflow runs an Airflow CLI command line in an environment as MWAA's
// /aws_mwaa/cli does, returning stdout and stderr together.
func (u *cpUser) airflow(envName, line string) string {
	u.t.Helper()
	client, err := mwaaclient.New(mwaaclient.Settings{Endpoint: u.cp.url, Environ: u.env})
	if err != nil {
		u.t.Fatal(err)
	}
	tok, err := client.CreateCliToken(context.Background(), &awsmwaa.CreateCliTokenInput{Name: aws.String(envName)})
	if err != nil {
		u.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+aws.ToString(tok.WebServerHostname)+"/aws_mwaa/cli", strings.NewReader(line))
	req.Header.Set("Authorization", "Bearer "+aws.ToString(tok.CliToken))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Stdout, Stderr string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		u.t.Fatalf("%s: status %d: %v", line, resp.StatusCode, err)
	}
	o, _ := base64.StdEncoding.DecodeString(body.Stdout)
	e, _ := base64.StdEncoding.DecodeString(body.Stderr)
	return string(o) + string(e)
}

// until runs an Airflow command in an environment until its output
// contains want.
func (u *cpUser) until(envName, line, want string, limit time.Duration) {
	u.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		out := u.airflow(envName, line)
		if strings.Contains(out, want) {
			return
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("%s in %s: no %q within %s:\n%s", line, envName, want, limit, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const echoDAG = `hello:
  schedule: null
  start_date: 2024-01-01
  tasks:
    say:
      operator: airflow.operators.bash.BashOperator
      bash_command: echo followed-output-{{ ds }}
`

// TestControlPlaneEnvLogs: `windsock env logs` reads an environment's log
// groups through the control plane, as text and as JSON events, with
// --since and --follow (a task's output reaches a follower while the DAG
// runs; an interrupt ends it cleanly), and refuses unknown groups and
// keys whose policy does not allow logs:FilterLogEvents on the group.
func TestControlPlaneEnvLogs(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := filepath.Join(h.dir, "cp")
	cp := startControlPlane(t, h, dir)
	u := newCPUser(t, h, cp, dir, "ops", "")
	u.create("logged", map[string]string{"hello.yaml": echoDAG}, "--logging", "scheduler=INFO", "--logging", "task=INFO")
	t.Cleanup(func() { u.delete("logged") })

	res := u.windsock("env", "logs", "logged", "--group", "scheduler", "--since", "10m")
	if res.code != 0 || !strings.Contains(res.stdout, "standalone ") {
		t.Fatalf("env logs --group scheduler: %d %q %s", res.code, res.stdout, res.stderr)
	}
	res = u.windsock("env", "logs", "logged", "--group", "airflow-logged-Scheduler", "-o", "json")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var ev struct {
		Stream    string `json:"logStreamName"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	if res.code != 0 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev.Stream != "standalone" || ev.Message == "" {
		t.Fatalf("env logs -o json: %d %q %s", res.code, res.stdout, res.stderr)
	}
	if res := u.windsock("env", "logs", "logged", "--group", "scheduler", "--since", time.Now().Add(time.Hour).Format(time.RFC3339)); res.code != 0 || res.stdout != "" {
		t.Fatalf("lines from the future: %d %q %s", res.code, res.stdout, res.stderr)
	}
	if res := u.windsock("env", "logs", "logged", "--group", "triggerer"); res.code == 0 || !strings.Contains(res.stderr, "(ValidationException) when calling the GetEnvironmentLogs operation") {
		t.Fatalf("an unknown group: %d %s", res.code, res.stderr)
	}
	if res := u.windsock("env", "logs", "nosuch", "--group", "task"); res.code == 0 || !strings.Contains(res.stderr, "ResourceNotFoundException") {
		t.Fatalf("an unknown environment: %d %s", res.code, res.stderr)
	}
	// A group larger than one page (the event bound) comes in pages, which
	// the command reads to the end: every line, in order.
	bigLines := envrunner.PageEvents*2 + 500
	var big strings.Builder
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range bigLines {
		fmt.Fprintf(&big, "time=%s big-%06d\n", old.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i)
	}
	if err := os.WriteFile(filepath.Join(envrunner.EnvironmentHome(dir, "logged"), "loggroups", "airflow-logged-Scheduler", "big.log"), []byte(big.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	res = u.windsock("env", "logs", "logged", "--group", "scheduler")
	n := 0
	for _, line := range strings.Split(res.stdout, "\n") {
		if strings.HasPrefix(line, "big ") {
			if want := fmt.Sprintf("big-%06d", n); !strings.HasSuffix(line, want) {
				t.Fatalf("line %d of the big stream: %q, want %s", n, line, want)
			}
			n++
		}
	}
	if res.code != 0 || n != bigLines || !strings.Contains(res.stdout, "\nstandalone ") {
		t.Fatalf("env logs over pages: %d, %d of %d big lines, standalone's after: %v; %s", res.code, n, bigLines, strings.Contains(res.stdout, "\nstandalone "), res.stderr)
	}
	// A token the caller made up is refused, saying why.
	raw, err := mwaaclient.NewRaw(mwaaclient.Settings{Endpoint: cp.url, Region: "us-east-1", Environ: u.env})
	if err != nil {
		t.Fatal(err)
	}
	_, err = raw.Do(context.Background(), "GetEnvironmentLogs", "GET", "/windsock/environments/logged/logs",
		url.Values{"group": {"scheduler"}, "nextToken": {"eyJzIjoiLi4vLi4vd2luZHNvY2suY2ZnIn0.AAAA"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "ValidationException") || !strings.Contains(err.Error(), "nextToken: not issued by this control plane") {
		t.Fatalf("a forged token: %v", err)
	}

	// A key allowed to read only the task group.
	reader := newCPUser(t, h, cp, dir, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:FilterLogEvents","Resource":"arn:aws:logs:*:*:log-group:airflow-logged-Task"}]}`)
	if res := reader.windsock("env", "logs", "logged", "--group", "scheduler"); res.code == 0 || !strings.Contains(res.stderr, "AccessDeniedException") ||
		!strings.Contains(res.stderr, "logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:000000000000:log-group:airflow-logged-Scheduler") {
		t.Fatalf("a key without the scheduler group: %d %s", res.code, res.stderr)
	}
	if res := reader.windsock("env", "logs", "logged", "--group", "task"); res.code != 0 {
		t.Fatalf("a key with the task group: %d %s", res.code, res.stderr)
	}

	// Follow the task group while a DAG runs.
	cmd := exec.Command(binary, "env", "logs", "logged", "--group", "task", "--follow", "--endpoint-url", cp.url)
	cmd.Env = u.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill := func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(kill)
	seen := make(chan struct{})
	var followed strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			followed.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "followed-output-2024-03-01") {
				close(seen)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	u.until("logged", "dags list", "hello", time.Minute)
	u.airflow("logged", "dags unpause hello")
	u.airflow("logged", "dags trigger hello -e 2024-03-01")
	select {
	case <-seen:
	case <-time.After(2 * time.Minute):
		kill()
		t.Fatalf("the task's output never reached the follower: %q %s", followed.String(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("env logs --follow after an interrupt: %v %s", err, stderr.String())
	}
}

// TestControlPlaneEnvMigrate: `windsock env migrate SRC DST` copies runs,
// task instances and variables from one environment into another through
// the control plane, reports per table, gives both environments' DAGs
// their paused states back, and changes nothing when run again; `env
// clone --with-metadata` does the same into a new environment.
func TestControlPlaneEnvMigrate(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir, suffix := controlPlaneHome(t, h)
	oldEnv, newEnv, copyEnv := "old"+suffix, "new"+suffix, "copy"+suffix
	cp := startControlPlane(t, h, dir)
	u := newCPUser(t, h, cp, dir, "ops", "")
	const other = `other:
  schedule: null
  start_date: 2024-01-01
  tasks:
    t:
      operator: airflow.operators.bash.BashOperator
      bash_command: "true"
`
	u.create(oldEnv, map[string]string{"hello.yaml": echoDAG})
	t.Cleanup(func() { u.delete(oldEnv) })
	u.create(newEnv, map[string]string{"hello.yaml": echoDAG, "other.yaml": other})
	t.Cleanup(func() { u.delete(newEnv) })

	u.until(oldEnv, "dags list", "hello", time.Minute)
	u.airflow(oldEnv, "variables set migrated_key 'a value'")
	u.airflow(oldEnv, "dags unpause hello")
	u.airflow(oldEnv, "dags trigger hello -e 2024-03-01")
	u.until(oldEnv, "dags state hello 2024-03-01", "success", 2*time.Minute)
	// In the destination, other is unpaused and stays so; hello is paused
	// and takes the source's state.
	u.until(newEnv, "dags list", "other", time.Minute)
	u.airflow(newEnv, "dags unpause other")

	res := u.windsock("env", "migrate", oldEnv, newEnv, "-o", "json")
	var rep metaport.Report
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &rep) != nil {
		t.Fatalf("env migrate: %d %s %s", res.code, res.stdout, res.stderr)
	}
	imported := map[string]int64{}
	for _, tr := range rep.Tables {
		imported[tr.Table] = tr.Imported
	}
	if imported["dag_run"] != 1 || imported["task_instance"] != 1 || imported["variable"] != 1 {
		t.Fatalf("the report: %s", res.stdout)
	}
	if out := u.airflow(newEnv, "variables get migrated_key"); !strings.Contains(out, "a value") {
		t.Fatalf("the variable in the destination: %q", out)
	}
	if out := u.airflow(newEnv, "dags state hello 2024-03-01"); !strings.Contains(out, "success") {
		t.Fatalf("the run in the destination: %q", out)
	}
	if out := u.airflow(newEnv, "tasks state hello say 2024-03-01"); !strings.Contains(out, "success") {
		t.Fatalf("the task instance in the destination: %q", out)
	}
	for _, c := range []struct{ env, dag, want string }{{oldEnv, "hello", "False"}, {newEnv, "other", "False"}, {newEnv, "hello", "False"}} {
		if got := u.paused(c.env, c.dag); got != c.want {
			t.Fatalf("%s in %s after the move: is_paused %q, want %s", c.dag, c.env, got, c.want)
		}
	}

	// The same move again changes nothing.
	res = u.windsock("env", "migrate", oldEnv, newEnv)
	if res.code != 0 || !strings.Contains(res.stdout, "table") {
		t.Fatalf("env migrate again: %d %s %s", res.code, res.stdout, res.stderr)
	}
	res = u.windsock("env", "migrate", oldEnv, newEnv, "-o", "json")
	rep = metaport.Report{}
	if res.code != 0 || json.Unmarshal([]byte(res.stdout), &rep) != nil {
		t.Fatalf("env migrate a third time: %d %s %s", res.code, res.stdout, res.stderr)
	}
	for _, tr := range rep.Tables {
		if tr.Imported != 0 {
			t.Fatalf("a repeated move imported %d rows of %s: %s", tr.Imported, tr.Table, res.stdout)
		}
	}
	if out := u.airflow(newEnv, "dags list-runs -d hello"); strings.Count(out, "manual__2024-03-01") != 1 {
		t.Fatalf("runs after repeated moves: %s", out)
	}

	if res := u.windsock("env", "migrate", oldEnv, oldEnv); res.code == 0 || !strings.Contains(res.stderr, "ValidationException") {
		t.Fatalf("a move into itself: %d %s", res.code, res.stderr)
	}
	if res := u.windsock("env", "migrate", oldEnv, "nosuch"); res.code == 0 || !strings.Contains(res.stderr, "ResourceNotFoundException") {
		t.Fatalf("a move into nothing: %d %s", res.code, res.stderr)
	}
	// A key that may read the source but not write the destination.
	limited := newCPUser(t, h, cp, dir, "limited", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"airflow:ExportEnvironmentMetadata","Resource":"*"}]}`)
	if res := limited.windsock("env", "migrate", oldEnv, newEnv); res.code == 0 || !strings.Contains(res.stderr, "airflow:ImportEnvironmentMetadata") {
		t.Fatalf("a key without ImportEnvironmentMetadata: %d %s", res.code, res.stderr)
	}

	// A clone with the metadata.
	if err := os.MkdirAll(filepath.Join(dir, "buckets", oldEnv), 0o755); err != nil {
		t.Fatal(err)
	}
	res = u.windsock("env", "clone", oldEnv, copyEnv, "--with-metadata")
	t.Cleanup(func() { u.delete(copyEnv) })
	if res.code != 0 || !strings.Contains(res.stdout, "variable") {
		t.Fatalf("env clone --with-metadata: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if out := u.airflow(copyEnv, "variables get migrated_key"); !strings.Contains(out, "a value") {
		t.Fatalf("the variable in the clone: %q", out)
	}
}

// paused is a DAG's is_paused as `dags list` prints it.
func (u *cpUser) paused(envName, dagID string) string {
	u.t.Helper()
	out := u.airflow(envName, "dags list --columns dag_id,is_paused -o json")
	var dags []map[string]any
	if err := json.Unmarshal([]byte(out[max(strings.Index(out, "["), 0):]), &dags); err != nil {
		u.t.Fatalf("dags list: %v %s", err, out)
	}
	for _, d := range dags {
		if d["dag_id"] == dagID {
			return fmt.Sprint(d["is_paused"])
		}
	}
	return "missing"
}

// controlPlaneHome makes the home of a control plane: on PostgreSQL when
// WINDSOCK_TEST_POSTGRES_URL is set (each environment a schema there,
// with separate processes), with the suffix environment names then take
// (their schemas are shared by parallel runs); else on SQLite, with no
// suffix.
func controlPlaneHome(t *testing.T, h *home) (dir, suffix string) {
	t.Helper()
	dir = filepath.Join(h.dir, "cp")
	url := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
	if url == "" {
		return dir, ""
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "windsock.cfg"), []byte("[database]\nsql_alchemy_conn = "+url+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return dir, "-" + hex.EncodeToString(b[:])
}

// envProcesses are the supervised processes of the environment whose home
// is dir (the windsock binary running there as a component), by pid.
func envProcesses(t *testing.T, dir string) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{"standalone": true, "scheduler": true, "dag-processor": true, "webserver": true, "worker": true}
	out := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err1 := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		exe, err2 := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		cmdline, err3 := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err1 != nil || err2 != nil || err3 != nil || cwd != dir || exe != binary {
			continue
		}
		if args := strings.Split(string(cmdline), "\x00"); len(args) > 1 && roles[args[1]] {
			out[pid] = args[1]
		}
	}
	return out
}

// TestControlPlaneKill9: the control plane killed with SIGKILL while an
// environment runs a DAG; restarted, it adopts the environment's
// processes (the same ones: none doubled, none restarted), the run's
// every try ends in a final state, and the API answers as before. On
// PostgreSQL (WINDSOCK_TEST_POSTGRES_URL) the environment runs its
// schedulers, DAG processor, web server and worker as processes; else as
// one.
func TestControlPlaneKill9(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir, suffix := controlPlaneHome(t, h)
	name := "kill9" + suffix
	envHome := filepath.Join(dir, "environments", name)
	// Whatever happens, no process of the environment outlives the test.
	t.Cleanup(func() {
		for pid := range envProcesses(t, envHome) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	cp := startControlPlane(t, h, dir)
	u := newCPUser(t, h, cp, dir, "ops", "")
	const slow = `slow:
  schedule: null
  start_date: 2024-01-01
  tasks:
    a:
      operator: airflow.operators.bash.BashOperator
      bash_command: sleep 4
    b:
      operator: airflow.operators.bash.BashOperator
      bash_command: sleep 4
    c:
      operator: airflow.operators.bash.BashOperator
      bash_command: echo after
      dependencies: [a, b]
`
	u.create(name, map[string]string{"slow.yaml": slow}, "--max-workers", "1")
	u.until(name, "dags list", "slow", time.Minute)
	u.airflow(name, "dags unpause slow")
	u.airflow(name, "dags trigger slow -e 2024-03-01")
	u.until(name, "tasks states-for-dag-run slow manual__2024-03-01T00:00:00+00:00", "running", time.Minute)
	before := envProcesses(t, envHome)
	t.Logf("the environment's processes: %v", before)
	if len(before) == 0 {
		t.Fatal("no process of the environment found")
	}

	if err := cp.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-cp.done
	cp.done <- nil // for the cleanup
	if after := envProcesses(t, envHome); len(after) != len(before) {
		t.Fatalf("the environment's processes changed when the control plane died: %v, then %v", before, after)
	}
	cp2 := startControlPlane(t, h, dir)
	u.cp = cp2
	t.Cleanup(func() { u.delete(name) }) // before cp2 stops
	deadline := time.Now().Add(time.Minute)
	for res := u.windsock("env", "status", name); !strings.HasPrefix(res.stdout, name+"\tAVAILABLE"); res = u.windsock("env", "status", name) {
		if time.Now().After(deadline) {
			t.Fatalf("env status after the restart: %d %q %s", res.code, res.stdout, res.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	samePIDs := func(when string) {
		t.Helper()
		if now := envProcesses(t, envHome); fmt.Sprint(now) != fmt.Sprint(before) {
			t.Fatalf("%s: the environment's processes are %v, were %v (adopted, never doubled nor restarted)", when, now, before)
		}
	}
	samePIDs("once adopted")
	u.until(name, "dags state slow 2024-03-01", "success", 2*time.Minute)
	states := u.airflow(name, "tasks states-for-dag-run slow manual__2024-03-01T00:00:00+00:00 -o json")
	var tis []map[string]any
	if err := json.Unmarshal([]byte(states[max(strings.Index(states, "["), 0):]), &tis); err != nil || len(tis) != 3 {
		t.Fatalf("task instances: %v %s", err, states)
	}
	for _, ti := range tis {
		if ti["state"] != "success" {
			t.Fatalf("a try not in a final success: %v", ti)
		}
	}
	samePIDs("after the run")
	// The API answers as before.
	if res := u.windsock("env", "list"); res.code != 0 || !strings.Contains(res.stdout, name) {
		t.Fatalf("env list after the restart: %d %s %s", res.code, res.stdout, res.stderr)
	}
	if res := u.windsock("env", "get", name, "-o", "json"); res.code != 0 || !strings.Contains(res.stdout, `"Status": "AVAILABLE"`) {
		t.Fatalf("env get after the restart: %d %s %s", res.code, res.stdout, res.stderr)
	}
}

// TestControlPlaneKeysCreateConcurrently: `keys create` run by several
// processes at once on one home: every key lands in keys.json, and every
// secret it printed signs requests (one encryption key was made).
func TestControlPlaneKeysCreateConcurrently(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := filepath.Join(h.dir, "cp")
	const n = 8
	var wg sync.WaitGroup
	outs := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "controlplane", "keys", "create", "--home", dir, "--name", "k"+strconv.Itoa(i), "-o", "json")
			cmd.Env = h.env
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("keys create k%d: %v %s", i, errs[i], outs[i])
		}
	}
	cmd := exec.Command(binary, "controlplane", "keys", "list", "--home", dir, "-o", "json")
	cmd.Env = h.env
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var keys []map[string]any
	if err := json.Unmarshal(out, &keys); err != nil || len(keys) != n {
		t.Fatalf("keys list after %d concurrent creates: %v %s", n, err, out)
	}
	cp := startControlPlane(t, h, dir)
	for i := range n {
		var key struct {
			ID     string `json:"access_key_id"`
			Secret string `json:"secret_access_key"`
		}
		if err := json.Unmarshal(outs[i], &key); err != nil {
			t.Fatal(err)
		}
		u := &cpUser{t: t, cp: cp, dir: dir, env: append(h.env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)}
		if res := u.windsock("env", "list"); res.code != 0 {
			t.Fatalf("key k%d does not sign: %s", i, res.stderr)
		}
	}
}

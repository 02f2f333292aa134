package mwaa_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/types"
)

// Debian's Python (with python3-boto3) and AWS CLI, which the tests drive
// the control plane with.
const (
	debianPython = "/usr/bin/python3"
	debianAWS    = "/usr/bin/aws"
)

func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is not installed", path)
	}
}

// keyEnviron is a clean environment signing with a new full-access key.
func (p *plane) keyEnviron(name string) []string {
	p.t.Helper()
	id, secret, err := p.svc.Keys().Create(name, nil, time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	return []string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_DEFAULT_REGION=us-east-1",
		"HOME=" + p.t.TempDir(), "PATH=/usr/bin:/bin", "NO_PROXY=", "no_proxy=", "PYTHONDONTWRITEBYTECODE=1", "AWS_MAX_ATTEMPTS=1"}
}

func run(t *testing.T, environ []string, name string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Env = environ
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestLifecycleWithBoto3(t *testing.T) {
	t.Parallel()
	need(t, debianPython)
	p := setup(t)
	out, stderr, err := run(t, p.keyEnviron("boto3"), debianPython, filepath.Join("testdata", "lifecycle_boto3.py"), p.srv.URL)
	if err != nil || !strings.Contains(out, "boto3 lifecycle OK") {
		t.Fatalf("boto3 lifecycle: %v\n%s\n%s", err, out, stderr)
	}
}

// TestCloneScriptUnchanged runs the migration guide's clone recipe as a
// user would: a plain boto3.client("mwaa"), the control plane's address
// given only through the environment.
func TestCloneScriptUnchanged(t *testing.T) {
	t.Parallel()
	need(t, debianPython)
	p := setup(t)
	src := createInput("old")
	src.AirflowVersion = aws.String("2.8.1")
	src.AirflowConfigurationOptions = map[string]string{"secrets.backend": "airflow.contrib.secrets.aws_secrets_manager.SecretsManagerBackend"}
	src.Schedulers = aws.Int32(3)
	p.create(src)
	sitecustomize, _ := filepath.Abs(filepath.Join("testdata", "endpoint"))
	environ := append(p.keyEnviron("cloner"), "WINDSOCK_CONTROLPLANE_URL="+p.srv.URL, "PYTHONPATH="+sitecustomize)
	out, stderr, err := run(t, environ, debianPython, filepath.Join("testdata", "clone_environment.py"),
		"old", "new", "2.10.3", "arn:aws:iam::123456789012:role/new-role")
	if err != nil {
		t.Fatalf("clone script: %v\n%s\n%s", err, out, stderr)
	}
	if strings.TrimSpace(out) != "arn:aws:airflow:us-east-1:000000000000:environment/new" {
		t.Fatalf("clone script printed %q", out)
	}
	p.svc.Wait()
	env := p.get("new")
	old := p.get("old")
	if env.Status != types.EnvironmentStatusAvailable || aws.ToString(env.AirflowVersion) != "2.10.3" ||
		aws.ToString(env.ExecutionRoleArn) != "arn:aws:iam::123456789012:role/new-role" || aws.ToInt32(env.Schedulers) != 3 ||
		aws.ToString(env.DagS3Path) != aws.ToString(old.DagS3Path) || env.Tags["team"] != "data" ||
		env.LoggingConfiguration.SchedulerLogs.LogLevel != types.LoggingLevelWarning ||
		env.AirflowConfigurationOptions["secrets.backend"] != "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend" {
		t.Fatalf("clone: %+v", env)
	}
}

// TestLifecycleWithAWSCLI drives the control plane with Debian's AWS CLI.
// That CLI puts AWS's host prefixes ("api.", "env.") before any
// --endpoint-url's host, so the test names a host that does not resolve
// and reaches the control plane as an HTTP proxy (HTTP_PROXY), which it
// serves as well.
func TestLifecycleWithAWSCLI(t *testing.T) {
	t.Parallel()
	need(t, debianAWS)
	p := setup(t)
	u, _ := url.Parse(p.srv.URL)
	endpoint := "http://mwaa.windsock.test:" + u.Port()
	dir := t.TempDir()
	environ := p.keyEnviron("cli")
	key := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		key[k] = v
	}
	writeFile(t, filepath.Join(dir, "config"), "[default]\nregion = us-east-1\noutput = json\n")
	writeFile(t, filepath.Join(dir, "credentials"), "[default]\naws_access_key_id = "+key["AWS_ACCESS_KEY_ID"]+
		"\naws_secret_access_key = "+key["AWS_SECRET_ACCESS_KEY"]+"\n")
	cliEnv := []string{"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"HOME=" + dir, "PATH=/usr/bin:/bin", "HTTP_PROXY=" + p.srv.URL, "http_proxy=" + p.srv.URL, "NO_PROXY=", "no_proxy=",
		"AWS_MAX_ATTEMPTS=1", "AWS_PAGER=", "PYTHONDONTWRITEBYTECODE=1"}
	aws := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		out, stderr, err := run(t, cliEnv, debianAWS, append(append([]string{"mwaa"}, args...), "--endpoint-url", endpoint)...)
		var v map[string]any
		if err == nil && strings.TrimSpace(out) != "" {
			if jerr := json.Unmarshal([]byte(out), &v); jerr != nil {
				t.Fatalf("aws mwaa %s: %v in %q", args[0], jerr, out)
			}
		}
		return v, stderr, err
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		v, stderr, err := aws(args...)
		if err != nil {
			t.Fatalf("aws mwaa %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return v
	}
	for _, name := range []string{"c1", "c2", "c3"} {
		must("create-environment", "--name", name, "--execution-role-arn", "arn:aws:iam::123456789012:role/mwaa",
			"--source-bucket-arn", "arn:aws:s3:::bucket", "--dag-s3-path", "dags",
			"--network-configuration", "SubnetIds=subnet-1,subnet-2,SecurityGroupIds=sg-1", "--tags", "team=data")
	}
	p.svc.Wait()
	env := must("get-environment", "--name", "c1")["Environment"].(map[string]any)
	if env["Status"] != "AVAILABLE" || env["Arn"] != "arn:aws:airflow:us-east-1:000000000000:environment/c1" {
		t.Fatalf("get-environment: %v", env)
	}
	list := must("list-environments", "--page-size", "2")
	if names, _ := json.Marshal(list["Environments"]); string(names) != `["c1","c2","c3"]` {
		t.Fatalf("list-environments over pages: %s", names)
	}
	must("update-environment", "--name", "c1", "--max-workers", "4")
	p.svc.Wait()
	if env := must("get-environment", "--name", "c1")["Environment"].(map[string]any); env["MaxWorkers"] != float64(4) {
		t.Fatalf("after update-environment: %v", env["MaxWorkers"])
	}
	arn := "arn:aws:airflow:us-east-1:000000000000:environment/c1"
	must("tag-resource", "--resource-arn", arn, "--tags", "env=prod")
	must("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
	if tags := must("list-tags-for-resource", "--resource-arn", arn)["Tags"].(map[string]any); len(tags) != 1 || tags["env"] != "prod" {
		t.Fatalf("tags: %v", tags)
	}
	tok := must("create-cli-token", "--name", "c1")
	stdout, _ := runCLI(t, tok["WebServerHostname"].(string), tok["CliToken"].(string), "version")
	if strings.TrimSpace(stdout) == "" {
		t.Fatal("version through /aws_mwaa/cli printed nothing")
	}
	if web := must("create-web-login-token", "--name", "c1"); web["WebToken"] == "" {
		t.Fatalf("create-web-login-token: %v", web)
	}
	_, stderr, err := aws("create-environment", "--name", "c9", "--execution-role-arn", "arn:aws:iam::123456789012:role/mwaa",
		"--source-bucket-arn", "arn:aws:s3:::bucket", "--dag-s3-path", "dags", "--airflow-version", "2.3.4",
		"--network-configuration", "SubnetIds=subnet-1,subnet-2,SecurityGroupIds=sg-1")
	if err == nil || !strings.Contains(stderr, "(ValidationException)") || !strings.Contains(stderr, "Invalid AirflowVersion: 2.3.4.") {
		t.Fatalf("a bad version: %v %s", err, stderr)
	}
	must("delete-environment", "--name", "c1")
	p.svc.Wait()
	if _, stderr, err := aws("get-environment", "--name", "c1"); err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("get of a deleted environment: %v %s", err, stderr)
	}
	writeFile(t, filepath.Join(dir, "credentials"), "[default]\naws_access_key_id = "+key["AWS_ACCESS_KEY_ID"]+"\naws_secret_access_key = wrong\n")
	if _, stderr, err := aws("list-environments"); err == nil || !strings.Contains(stderr, "InvalidSignatureException") {
		t.Fatalf("a wrong secret: %v %s", err, stderr)
	}
}

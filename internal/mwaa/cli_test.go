package mwaa_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/cli"
)

// windsock runs the windsock CLI in-process with the given environment.
func windsock(t *testing.T, environ []string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(t.Context(), args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Environ: environ})
	return stdout.String(), stderr.String(), code
}

func TestEnvCommandsAndKeys(t *testing.T) {
	t.Parallel()
	p := setup(t)
	// A key made by `windsock controlplane keys create` in the same home
	// works at once in the running control plane.
	out, stderr, code := windsock(t, nil, "controlplane", "keys", "create", "--home", p.home, "--name", "ops", "-o", "json")
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, stderr)
	}
	var key struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.Secret == "" {
		t.Fatalf("keys create printed %q", out)
	}
	list, _, _ := windsock(t, nil, "controlplane", "keys", "list", "--home", p.home)
	if !strings.Contains(list, "ops") || strings.Contains(list, key.Secret) {
		t.Fatalf("keys list: %s", list)
	}
	environ := []string{"AWS_ACCESS_KEY_ID=" + key.ID, "AWS_SECRET_ACCESS_KEY=" + key.Secret, "HOME=" + t.TempDir(),
		"WINDSOCK_CONTROLPLANE_URL=" + p.srv.URL}

	out, stderr, code = windsock(t, environ, "env", "create", "src", "--wait", "--airflow-version", "2.7.2",
		"--option", "secrets.backend=airflow.contrib.secrets.aws_secrets_manager.SecretsManagerBackend", "--tag", "team=data", "-o", "json")
	if code != 0 {
		t.Fatalf("env create: %d %s", code, stderr)
	}
	var env struct {
		Status                      string
		AirflowVersion              string
		AirflowConfigurationOptions map[string]string
		ExecutionRoleArn            string
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil || env.Status != "AVAILABLE" {
		t.Fatalf("env create --wait: %s %v", out, err)
	}
	out, stderr, code = windsock(t, environ, "env", "clone", "src", "dst", "--version", "2.10.3",
		"--execution-role", "arn:aws:iam::123456789012:role/new", "--wait", "-o", "json")
	if code != 0 {
		t.Fatalf("env clone: %d %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil || env.Status != "AVAILABLE" || env.AirflowVersion != "2.10.3" ||
		env.ExecutionRoleArn != "arn:aws:iam::123456789012:role/new" ||
		env.AirflowConfigurationOptions["secrets.backend"] != "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend" {
		t.Fatalf("clone: %s", out)
	}
	out, _, code = windsock(t, environ, "env", "list")
	if code != 0 || !strings.Contains(out, "src") || !strings.Contains(out, "dst") || !strings.Contains(out, "AVAILABLE") {
		t.Fatalf("env list: %s", out)
	}
	out, _, code = windsock(t, environ, "env", "status", "dst")
	if code != 0 || !strings.HasPrefix(out, "dst\tAVAILABLE\t127.0.0.1:") {
		t.Fatalf("env status: %q", out)
	}
	_, stderr, code = windsock(t, environ, "env", "update", "dst", "--max-workers", "30")
	if code != 1 || !strings.Contains(stderr, "ValidationException") || !strings.Contains(stderr, "MaxWorkers must be between 1 and 25.") {
		t.Fatalf("env update refused: %d %s", code, stderr)
	}
	out, _, code = windsock(t, environ, "env", "update", "dst", "--max-workers", "3", "--wait")
	if code != 0 || !strings.Contains(out, "1-3") {
		t.Fatalf("env update: %d %s", code, out)
	}
	if _, stderr, code = windsock(t, environ, "env", "delete", "src"); code != 0 {
		t.Fatalf("env delete: %s", stderr)
	}
	p.svc.Wait()
	_, stderr, code = windsock(t, environ, "env", "get", "src")
	if code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("env get of a deleted environment: %d %s", code, stderr)
	}
	// Credentials from a profile file, as the AWS CLI reads them.
	creds := t.TempDir() + "/credentials"
	writeFile(t, creds, "[ops]\naws_access_key_id = "+key.ID+"\naws_secret_access_key = "+key.Secret+"\n")
	out, stderr, code = windsock(t, []string{"AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_PROFILE=ops", "HOME=" + t.TempDir()},
		"env", "list", "--endpoint-url", p.srv.URL, "-o", "json")
	if code != 0 || !strings.Contains(out, `"dst"`) {
		t.Fatalf("env list with a profile: %d %s %s", code, out, stderr)
	}
	if _, _, code = windsock(t, nil, "controlplane", "keys", "delete", "ops", "--home", p.home); code != 0 {
		t.Fatal("keys delete failed")
	}
	_, stderr, _ = windsock(t, environ, "env", "list")
	if !strings.Contains(stderr, "UnrecognizedClientException") {
		t.Fatalf("a deleted key still works: %s", stderr)
	}
}

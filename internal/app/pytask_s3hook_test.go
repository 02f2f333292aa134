package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonS3Hook: task code using the Amazon provider's S3Hook (boto3
// underneath) reads and writes a real S3-compatible server through the
// aws connection's endpoint_url: the provider's common methods, the
// s3:// URL form of keys, replace=False refusing to overwrite, and
// download_file returning a local path.
func TestPythonS3Hook(t *testing.T) {
	t.Parallel()
	if out, err := os.ReadFile("/usr/lib/python3/dist-packages/boto3/__init__.py"); err != nil || len(out) == 0 {
		t.Skip("needs Debian's python3-boto3")
	}
	srv := s3test.Start(t, "data")
	ctx := context.Background()
	s3c := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("in/words.txt"),
		Body: strings.NewReader("hello from s3\n")}); err != nil {
		t.Fatal(err)
	}
	env, side := pyEnv(t, map[string]string{"s3hook.py": `
import json, os
from datetime import datetime
from airflow import DAG
from airflow.decorators import task
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

with DAG("py_s3hook", schedule=None, start_date=datetime(2024, 1, 1), catchup=False) as dag:
    @task
    def use_s3():
        hook = S3Hook(aws_conn_id="aws_default")
        seen = {}
        seen["exists"] = hook.check_for_key("in/words.txt", bucket_name="data")
        seen["missing"] = hook.check_for_key("s3://data/in/none.txt")
        seen["read"] = hook.read_key("s3://data/in/words.txt")
        hook.load_string("written by a task", key="out/note.txt", bucket_name="data")
        try:
            hook.load_string("again", key="out/note.txt", bucket_name="data")
            seen["refused"] = False
        except ValueError as e:
            seen["refused"] = str(e)
        hook.load_string("replaced", key="out/note.txt", bucket_name="data", replace=True)
        local = os.path.join(os.environ["SIDE"], "upload.txt")
        with open(local, "w") as f:
            f.write("from a file")
        hook.load_file(local, key="s3://data/out/file.txt")
        seen["keys"] = hook.list_keys(bucket_name="data", prefix="out/")
        seen["wild"] = hook.check_for_wildcard_key("out/*.txt", bucket_name="data")
        path = hook.download_file("out/file.txt", bucket_name="data", local_path=os.environ["SIDE"])
        with open(path) as f:
            seen["downloaded"] = f.read()
        seen["bucket"] = hook.check_for_bucket("data")
        seen["nobucket"] = hook.check_for_bucket("absent")
        with open(os.path.join(os.environ["SIDE"], "seen.json"), "w") as f:
            json.dump(seen, f)

    use_s3()
`})
	if err := env.Connections.Add(ctx, &secrets.Connection{ConnID: "aws_default", ConnType: "aws",
		Login: srv.AccessKey, Password: srv.SecretKey, Extra: srv.Extra()}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_s3hook", day, nil)
	tis := states(t, env, run)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s:\n%s", run.State, readLog(t, env, tis["use_s3"], 1))
	}
	raw, err := os.ReadFile(filepath.Join(side, "seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(raw), " ", "")
	for _, want := range []string{
		`"exists":true`, `"missing":false`, `"read":"hellofroms3\n"`,
		`"refused":"Thekeyout/note.txtalreadyexists."`,
		`"keys":["out/file.txt","out/note.txt"]`, `"wild":true`,
		`"downloaded":"fromafile"`, `"bucket":true`, `"nobucket":false`,
	} {
		if !strings.Contains(got, strings.ReplaceAll(want, "\n", `\n`)) {
			t.Errorf("the task saw %s, want %s in it", raw, want)
		}
	}
	// What the task wrote is on the server.
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("out/note.txt")})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "replaced" {
		t.Errorf("out/note.txt holds %q, want the replacement", body)
	}
}

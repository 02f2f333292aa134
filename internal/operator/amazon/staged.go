package amazon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
)

// StagedShell runs a converted Data Pipeline ShellCommandActivity: the
// S3 locations of input_staging are downloaded to ${INPUT1_STAGING_DIR},
// ${INPUT2_STAGING_DIR}, ... before the command, and what the command
// leaves in ${OUTPUTn_STAGING_DIR} is uploaded to output_staging's
// locations after it succeeds. script_uri (with script_args) runs a script
// stored in S3 instead of bash_command. The command itself runs as
// BashOperator runs it.
type StagedShell struct {
	bash operator.Operator
	opts Options
}

// NewStagedShell returns the operator, running commands with bash.
func NewStagedShell(bash operator.Operator, o Options) *StagedShell {
	return &StagedShell{bash: bash, opts: o}
}

// Execute stages, runs and uploads.
func (op *StagedShell) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	inputs, err := operator.StringListArg(tc.Args, "input_staging")
	if err != nil {
		return nil, err
	}
	outputs, err := operator.StringListArg(tc.Args, "output_staging")
	if err != nil {
		return nil, err
	}
	scriptURI, err := operator.StringArg(tc.Args, "script_uri", "")
	if err != nil {
		return nil, err
	}
	command, err := operator.StringArg(tc.Args, "bash_command", "")
	if err != nil {
		return nil, err
	}
	if (scriptURI == "") == (command == "") {
		return nil, errors.New("set exactly one of bash_command and script_uri")
	}
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(process.TempDir(tc), "windsock-staging-")
	if err != nil {
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	defer os.RemoveAll(work)
	env, err := stringMap(tc.Args["env"])
	if err != nil {
		return nil, err
	}
	for i, u := range inputs {
		dir := filepath.Join(work, fmt.Sprintf("input%d", i+1))
		if err := download(ctx, c, u, dir, tc.Log); err != nil {
			return nil, err
		}
		env[fmt.Sprintf("INPUT%d_STAGING_DIR", i+1)] = dir
	}
	for i := range outputs {
		dir := filepath.Join(work, fmt.Sprintf("output%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		env[fmt.Sprintf("OUTPUT%d_STAGING_DIR", i+1)] = dir
	}
	if scriptURI != "" {
		script := filepath.Join(work, "script")
		if err := downloadFile(ctx, c, scriptURI, script); err != nil {
			return nil, err
		}
		if err := os.Chmod(script, 0o755); err != nil {
			return nil, err
		}
		args, err := operator.StringListArg(tc.Args, "script_args")
		if err != nil {
			return nil, err
		}
		words := []string{shellQuote(script)}
		for _, a := range args {
			words = append(words, shellQuote(a))
		}
		command = strings.Join(words, " ")
	}
	inner := *tc
	inner.Args = maps.Clone(tc.Args)
	for _, k := range []string{"input_staging", "output_staging", "script_uri", "script_args", "aws_conn_id"} {
		delete(inner.Args, k)
	}
	inner.Args["bash_command"] = command
	envArg := map[string]any{}
	for k, v := range env {
		envArg[k] = v
	}
	inner.Args["env"] = envArg
	inner.Args["append_env"] = true
	res, err := op.bash.Execute(ctx, &inner)
	if err != nil {
		return nil, err
	}
	for i, u := range outputs {
		if err := upload(ctx, c, filepath.Join(work, fmt.Sprintf("output%d", i+1)), u, tc.Log); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func stringMap(v any) (map[string]string, error) {
	out := map[string]string{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("argument env: want a mapping of names to values")
	}
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out, nil
}

// download copies the object at u, or every object under u as a folder,
// into dir.
func download(ctx context.Context, c *s3.Client, u, dir string, log io.Writer) error {
	bucket, key, err := awss3.ParseURL(u)
	if err != nil {
		return fmt.Errorf("input_staging: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if key != "" && !strings.HasSuffix(key, "/") {
		found, err := exists(ctx, c, bucket, key)
		if err != nil {
			return err
		}
		if found {
			fmt.Fprintf(log, "Staging s3://%s/%s into %s\n", bucket, key, dir)
			return getObject(ctx, c, bucket, key, filepath.Join(dir, path.Base(key)))
		}
		key += "/"
	}
	keys, err := listKeys(ctx, c, bucket, key, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "Staging %d objects under s3://%s/%s into %s\n", len(keys), bucket, key, dir)
	for _, k := range keys {
		rel := strings.TrimPrefix(k, key)
		if rel == "" || strings.HasSuffix(rel, "/") {
			continue // a folder marker
		}
		// A key must not write outside the staging folder.
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return fmt.Errorf("input_staging: key %q leaves the staging folder", k)
		}
		if err := getObject(ctx, c, bucket, k, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return err
		}
	}
	return nil
}

func downloadFile(ctx context.Context, c *s3.Client, u, dst string) error {
	bucket, key, err := awss3.ParseURL(u)
	if err != nil {
		return fmt.Errorf("script_uri: %w", err)
	}
	return getObject(ctx, c, bucket, key, dst)
}

func getObject(ctx context.Context, c *s3.Client, bucket, key, dst string) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return f.Close()
}

// upload copies every file under dir to the folder at u.
func upload(ctx context.Context, c *s3.Client, dir, u string, log io.Writer) error {
	bucket, prefix, err := awss3.ParseURL(u)
	if err != nil {
		return fmt.Errorf("output_staging: %w", err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		key := prefix + filepath.ToSlash(rel)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f}); err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
		}
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", u, err)
	}
	fmt.Fprintf(log, "Uploaded %d files to s3://%s/%s\n", n, bucket, prefix)
	return nil
}

package amazon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/osenv"
)

// FileTransform is S3FileTransformOperator: it downloads source_s3_key,
// runs transform_script with the source and destination file paths (and
// script_args), and uploads the destination file to dest_s3_key. The
// script runs in its own process group, killed with the task.
// select_expression (S3 Select) is not supported.
type FileTransform struct {
	opts   Options
	runner process.Runner
}

// NewFileTransform returns the operator, running scripts with runner.
func NewFileTransform(o Options, runner process.Runner) *FileTransform {
	return &FileTransform{opts: o, runner: runner}
}

// Execute transforms the object.
func (op *FileTransform) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	if s, _ := operator.StringArg(tc.Args, "select_expression", ""); s != "" {
		return nil, errors.New("argument select_expression: S3 Select is not supported; use transform_script")
	}
	script, _ := operator.StringArg(tc.Args, "transform_script", "")
	if script == "" {
		return nil, errors.New("argument transform_script: missing")
	}
	path, err := osenv.LookPath(script, tc.Environ)
	if err != nil {
		return nil, fmt.Errorf("argument transform_script: %w", err)
	}
	if !filepath.IsAbs(path) {
		if path, err = filepath.Abs(path); err != nil {
			return nil, err
		}
	}
	args, err := operator.StringListArg(tc.Args, "script_args")
	if err != nil {
		return nil, err
	}
	srcURL, _ := operator.StringArg(tc.Args, "source_s3_key", "")
	dstURL, _ := operator.StringArg(tc.Args, "dest_s3_key", "")
	srcBucket, srcKey, err := location(srcURL, "")
	if err != nil {
		return nil, fmt.Errorf("argument source_s3_key: %w", err)
	}
	dstBucket, dstKey, err := location(dstURL, "")
	if err != nil {
		return nil, fmt.Errorf("argument dest_s3_key: %w", err)
	}
	replace, err := operator.BoolArg(tc.Args, "replace", false)
	if err != nil {
		return nil, err
	}
	src, err := clientOf(ctx, tc, op.opts, "source_aws_conn_id")
	if err != nil {
		return nil, err
	}
	dst, err := clientOf(ctx, tc, op.opts, "dest_aws_conn_id")
	if err != nil {
		return nil, err
	}
	if !replace {
		if found, err := exists(ctx, dst, dstBucket, dstKey); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("the key s3://%s/%s already exists (set replace: true to overwrite it)", dstBucket, dstKey)
		}
	}
	work, err := os.MkdirTemp(process.TempDir(tc), "windsock-transform-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	in, out := filepath.Join(work, "source"), filepath.Join(work, "dest")
	fmt.Fprintf(tc.Log, "Downloading source S3 file s3://%s/%s\n", srcBucket, srcKey)
	if err := getObject(ctx, src, srcBucket, srcKey, in); err != nil {
		return nil, err
	}
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		return nil, err
	}
	code, err := op.runner.Run(ctx, &process.Command{Path: path, Args: append([]string{path, in, out}, args...),
		Env: tc.Environ, Dir: work, Line: func(l []byte) { fmt.Fprintf(tc.Log, "%s\n", l) }})
	if err != nil {
		return nil, err
	}
	if code != 0 {
		return nil, fmt.Errorf("Transform script failed: %d", code)
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := dst.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey), Body: f}); err != nil {
		return nil, fmt.Errorf("put s3://%s/%s: %w", dstBucket, dstKey, err)
	}
	fmt.Fprintf(tc.Log, "Uploaded the transformed file to s3://%s/%s\n", dstBucket, dstKey)
	return &operator.Result{}, nil
}

package amazon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
)

// KeySensor is S3KeySensor: it waits until every key of bucket_key (one
// or a list) exists, each checked with one request per poke (HeadObject,
// or one ListObjectsV2 page under the pattern's literal prefix with
// wildcard_match or use_regex). In reschedule mode a poke holds no slot.
// deferrable is accepted and runs as reschedule would.
type KeySensor struct{ opts Options }

// NewKeySensor returns the S3 key sensor.
func NewKeySensor(o Options) *KeySensor { return &KeySensor{opts: o} }

// Execute pokes until the keys exist.
func (k *KeySensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	if tc.Args["check_fn"] != nil {
		return nil, errors.New("argument check_fn: Python callables are not supported")
	}
	keys, err := stringOrList(tc.Args, "bucket_key")
	if err != nil {
		return nil, err
	}
	bucket, err := operator.StringArg(tc.Args, "bucket_name", "")
	if err != nil {
		return nil, err
	}
	wild, err := operator.BoolArg(tc.Args, "wildcard_match", false)
	if err != nil {
		return nil, err
	}
	useRegex, err := operator.BoolArg(tc.Args, "use_regex", false)
	if err != nil {
		return nil, err
	}
	type target struct {
		bucket, key string
		match       *regexp.Regexp
	}
	var targets []target
	for _, key := range keys {
		b, kk, err := location(key, bucket)
		if err != nil {
			return nil, fmt.Errorf("argument bucket_key: %w", err)
		}
		tg := target{bucket: b, key: kk}
		switch {
		case useRegex:
			if tg.match, err = regexp.Compile(kk); err != nil {
				return nil, fmt.Errorf("argument bucket_key: %w", err)
			}
		case wild:
			if tg.match, err = wildcard(kk); err != nil {
				return nil, fmt.Errorf("argument bucket_key: %w", err)
			}
		}
		targets = append(targets, tg)
	}
	c, err := client(ctx, tc, k.opts)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, func(ctx context.Context) (bool, any, error) {
		for _, tg := range targets {
			fmt.Fprintf(tc.Log, "Poking for key : s3://%s/%s\n", tg.bucket, tg.key)
			var ok bool
			var err error
			if tg.match != nil {
				prefix := literalPrefix(tg.key)
				if tg.match.String() == tg.key { // a regex: no known prefix
					prefix = ""
				}
				ok, err = anyMatch(ctx, c, tg.bucket, prefix, tg.match)
			} else {
				ok, err = exists(ctx, c, tg.bucket, tg.key)
			}
			if err != nil || !ok {
				return false, nil, err
			}
		}
		return true, nil, nil
	})
}

// exists asks whether one object exists: one HeadObject request.
func exists(ctx context.Context, c *s3.Client, bucket, key string) (bool, error) {
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		return true, nil
	}
	if notFound(err) {
		return false, nil
	}
	return false, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
}

func notFound(err error) bool {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	var resp *smithyhttp.ResponseError
	if errors.As(err, &nf) || errors.As(err, &nk) {
		return true
	}
	return errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusNotFound
}

// anyMatch lists keys under prefix (one request per page of 1,000) until
// one matches.
func anyMatch(ctx context.Context, c *s3.Client, bucket, prefix string, match *regexp.Regexp) (bool, error) {
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if match.MatchString(aws.ToString(o.Key)) {
				return true, nil
			}
		}
	}
	return false, nil
}

// listKeys lists every key under prefix (with delimiter, the keys and
// common prefixes of one level).
func listKeys(ctx context.Context, c *s3.Client, bucket, prefix, delimiter string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	out := []string{}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, aws.ToString(cp.Prefix))
		}
	}
	return out, nil
}

func stringOrList(args map[string]any, name string) ([]string, error) {
	if s, ok := args[name].(string); ok {
		return []string{s}, nil
	}
	list, err := operator.StringListArg(args, name)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("argument %s: missing", name)
	}
	return list, nil
}

// CreateObject is S3CreateObjectOperator: it writes data to s3_key.
type CreateObject struct{ opts Options }

// NewCreateObject returns the operator.
func NewCreateObject(o Options) *CreateObject { return &CreateObject{opts: o} }

// Execute writes the object; without replace an existing key fails it.
func (op *CreateObject) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	key, _ := operator.StringArg(tc.Args, "s3_key", "")
	bucketArg, _ := operator.StringArg(tc.Args, "s3_bucket", "")
	bucket, key, err := location(key, bucketArg)
	if err != nil {
		return nil, fmt.Errorf("argument s3_key: %w", err)
	}
	data, ok := tc.Args["data"].(string)
	if !ok {
		return nil, errors.New("argument data: want a string")
	}
	replace, err := operator.BoolArg(tc.Args, "replace", false)
	if err != nil {
		return nil, err
	}
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	if !replace {
		if found, err := exists(ctx, c, bucket, key); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("the key s3://%s/%s already exists (set replace: true to overwrite it)", bucket, key)
		}
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(data)})
	if err != nil {
		return nil, fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	fmt.Fprintf(tc.Log, "Wrote %d bytes to s3://%s/%s\n", len(data), bucket, key)
	return &operator.Result{}, nil
}

// CopyObject is S3CopyObjectOperator.
type CopyObject struct{ opts Options }

// NewCopyObject returns the operator.
func NewCopyObject(o Options) *CopyObject { return &CopyObject{opts: o} }

// Execute copies source_bucket_key to dest_bucket_key.
func (op *CopyObject) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	srcKey, _ := operator.StringArg(tc.Args, "source_bucket_key", "")
	srcBucketArg, _ := operator.StringArg(tc.Args, "source_bucket_name", "")
	dstKey, _ := operator.StringArg(tc.Args, "dest_bucket_key", "")
	dstBucketArg, _ := operator.StringArg(tc.Args, "dest_bucket_name", "")
	srcBucket, srcKey, err := location(srcKey, srcBucketArg)
	if err != nil {
		return nil, fmt.Errorf("argument source_bucket_key: %w", err)
	}
	dstBucket, dstKey, err := location(dstKey, dstBucketArg)
	if err != nil {
		return nil, fmt.Errorf("argument dest_bucket_key: %w", err)
	}
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey),
		CopySource: aws.String(srcBucket + "/" + escapeKey(srcKey))})
	if err != nil {
		return nil, fmt.Errorf("copy s3://%s/%s to s3://%s/%s: %w", srcBucket, srcKey, dstBucket, dstKey, err)
	}
	fmt.Fprintf(tc.Log, "Copied s3://%s/%s to s3://%s/%s\n", srcBucket, srcKey, dstBucket, dstKey)
	return &operator.Result{}, nil
}

// escapeKey URL-encodes a key for x-amz-copy-source, keeping '/'.
func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// DeleteObjects is S3DeleteObjectsOperator: keys (one or a list), or
// every key under prefix (optionally last modified within
// [from_datetime, to_datetime)).
type DeleteObjects struct{ opts Options }

// NewDeleteObjects returns the operator.
func NewDeleteObjects(o Options) *DeleteObjects { return &DeleteObjects{opts: o} }

// Execute deletes the objects, 1,000 per request.
func (op *DeleteObjects) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	bucket, _ := operator.StringArg(tc.Args, "bucket", "")
	if bucket == "" {
		return nil, errors.New("argument bucket: missing")
	}
	_, hasKeys := tc.Args["keys"]
	prefix, _ := operator.StringArg(tc.Args, "prefix", "")
	if hasKeys == (prefix != "") {
		return nil, errors.New("set exactly one of keys and prefix")
	}
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	var keys []string
	if hasKeys {
		if keys, err = stringOrList(tc.Args, "keys"); err != nil {
			return nil, err
		}
	} else {
		if keys, err = listKeys(ctx, c, bucket, prefix, ""); err != nil {
			return nil, err
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		ids := make([]types.ObjectIdentifier, n)
		for i, k := range keys[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return nil, fmt.Errorf("delete from s3://%s: %w", bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return nil, fmt.Errorf("delete s3://%s/%s: %s %s", bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
		fmt.Fprintf(tc.Log, "Deleted %d objects from s3://%s\n", n, bucket)
		keys = keys[n:]
	}
	return &operator.Result{}, nil
}

// List is S3ListOperator: the keys under prefix, as its return value.
type List struct{ opts Options }

// NewList returns the operator.
func NewList(o Options) *List { return &List{opts: o} }

// Execute lists the keys.
func (op *List) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	bucket, _ := operator.StringArg(tc.Args, "bucket", "")
	if bucket == "" {
		return nil, errors.New("argument bucket: missing")
	}
	prefix, _ := operator.StringArg(tc.Args, "prefix", "")
	delimiter, _ := operator.StringArg(tc.Args, "delimiter", "")
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	keys, err := listKeys(ctx, c, bucket, prefix, delimiter)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(tc.Log, "Listed %d keys under s3://%s/%s\n", len(keys), bucket, prefix)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return &operator.Result{ReturnValue: out, HasReturn: true}, nil
}

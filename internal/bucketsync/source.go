// Package bucketsync reads an environment's source bucket (MWAA's
// SourceBucketArn): from an S3-compatible store, or from a local folder
// per bucket when there is none, so that `cp` is the upload. It mirrors the
// DAG prefix into the environment's DAG folder by cheap polling (a listing
// compared by ETag, or by size and mtime locally), and fetches single
// objects (plugins.zip, requirements.txt, the startup script) at a given
// object version.
package bucketsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/atomicfile"
)

// Object is one listed object.
type Object struct {
	// Key is the object's key in the bucket.
	Key string
	// ETag changes whenever the content does (locally: size and mtime).
	ETag string
}

// Source is a bucket.
type Source interface {
	// List returns the objects whose keys start with prefix.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Open reads one object; version "" means the latest.
	Open(ctx context.Context, key, version string) (io.ReadCloser, error)
}

// ErrNotFound is returned by Open for a missing object or version.
var ErrNotFound = errors.New("no such object")

// Local is a bucket kept as a folder: the key a/b.py is the file Root/a/b.py.
// A folder has no object versions: Open ignores the version.
type Local struct {
	Root string
}

// List walks the folder under prefix.
func (l Local) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(l.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(l.Root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while listing
		}
		out = append(out, Object{Key: key, ETag: strconv.FormatInt(info.Size(), 10) + "-" + strconv.FormatInt(info.ModTime().UnixNano(), 10)})
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", l.Root, err)
	}
	return out, nil
}

// Open opens Root/key.
func (l Local) Open(_ context.Context, key, _ string) (io.ReadCloser, error) {
	rel, err := localKey(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(l.Root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
	}
	return f, err
}

// S3 is a bucket of an S3-compatible store.
type S3 struct {
	Client *s3.Client
	Bucket string
}

// List pages through ListObjectsV2.
func (b S3) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", b.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if strings.HasSuffix(aws.ToString(o.Key), "/") {
				continue // a folder marker
			}
			out = append(out, Object{Key: aws.ToString(o.Key), ETag: aws.ToString(o.ETag)})
		}
	}
	return out, nil
}

// Open gets the object (at version when given).
func (b S3) Open(ctx context.Context, key, version string) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := b.Client.GetObject(ctx, in)
	if err != nil {
		var nsk interface{ ErrorCode() string }
		if errors.As(err, &nsk) && (nsk.ErrorCode() == "NoSuchKey" || nsk.ErrorCode() == "NoSuchVersion") {
			return nil, fmt.Errorf("get s3://%s/%s: %w", b.Bucket, key, ErrNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", b.Bucket, key, err)
	}
	return out.Body, nil
}

// localKey turns a key into a relative path that stays inside its folder.
func localKey(key string) (string, error) {
	rel := filepath.FromSlash(key)
	if key == "" || !filepath.IsLocal(rel) || path.Clean(key) != key {
		return "", fmt.Errorf("object key %q: not a plain relative path", key)
	}
	return rel, nil
}

// Fetch copies the object key (at version) to the file dst, atomically:
// dst is replaced only once the whole object is read.
func Fetch(ctx context.Context, src Source, key, version, dst string) error {
	r, err := src.Open(ctx, key, version)
	if err != nil {
		return err
	}
	defer r.Close()
	// Folders of the DAG tree stay readable to the environment's tools.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFrom(dst, r, 0o644)
}

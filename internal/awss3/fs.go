package awss3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// FS is a read-only fs.FS over the objects under a prefix of a bucket:
// the key prefix/a/b.csv is the file a/b.csv, and the '/'-separated
// parts of keys are folders. It lets code written for a folder (os.DirFS)
// read an S3 prefix the same way.
type FS struct {
	Client *s3.Client
	Bucket string
	// Prefix is the key prefix, without leading or trailing '/'.
	Prefix string
	// Ctx bounds the requests (fs.FS methods take no context).
	Ctx context.Context
}

var (
	_ fs.FS        = (*FS)(nil)
	_ fs.ReadDirFS = (*FS)(nil)
	_ fs.StatFS    = (*FS)(nil)
)

// NewFS returns the FS of an s3://bucket/prefix URL.
func NewFS(ctx context.Context, client *s3.Client, url string) (*FS, error) {
	bucket, prefix, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	return &FS{Client: client, Bucket: bucket, Prefix: strings.Trim(prefix, "/"), Ctx: ctx}, nil
}

func (f *FS) key(name string) string {
	if f.Prefix == "" {
		return name
	}
	if name == "." {
		return f.Prefix
	}
	return f.Prefix + "/" + name
}

// Open opens the object of name; a name that only prefixes other keys
// opens as a folder.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." {
		out, err := f.Client.GetObject(f.Ctx, &s3.GetObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(f.key(name))})
		if err == nil {
			return &object{name: path.Base(name), body: out.Body, size: aws.ToInt64(out.ContentLength), mod: aws.ToTime(out.LastModified)}, nil
		}
		if !isNotFound(err) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	entries, err := f.ReadDir(name)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 && name != "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &folder{name: path.Base(name), entries: entries}, nil
}

// Stat describes name with a HEAD request, or, when no object has that
// key, with a listing of one key under it (a folder). Without it fs.Stat
// would open the object, a GET that starts sending the body, and a caller
// that then reads the object would fetch it twice.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &entry{name: ".", dir: true}, nil
	}
	out, err := f.Client.HeadObject(f.Ctx, &s3.HeadObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(f.key(name))})
	if err == nil {
		return &entry{name: path.Base(name), size: aws.ToInt64(out.ContentLength), mod: aws.ToTime(out.LastModified)}, nil
	}
	if !isNotFound(err) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	list, err := f.Client.ListObjectsV2(f.Ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket),
		Prefix: aws.String(f.key(name) + "/"), MaxKeys: aws.Int32(1)})
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if len(list.Contents) == 0 {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return &entry{name: path.Base(name), dir: true}, nil
}

// ReadDir lists the objects and folders directly under name, sorted by
// name (empty for a prefix no key has).
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	prefix := f.key(name) + "/"
	if name == "." && f.Prefix == "" {
		prefix = ""
	}
	var out []fs.DirEntry
	p := s3.NewListObjectsV2Paginator(f.Client, &s3.ListObjectsV2Input{Bucket: aws.String(f.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(f.Ctx)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
		}
		for _, cp := range page.CommonPrefixes {
			n := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if n != "" {
				out = append(out, &entry{name: n, dir: true})
			}
		}
		for _, o := range page.Contents {
			n := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if n != "" && !strings.Contains(n, "/") {
				out = append(out, &entry{name: n, size: aws.ToInt64(o.Size), mod: aws.ToTime(o.LastModified)})
			}
		}
	}
	// Folders and objects come in two lists; fs.ReadDir promises one
	// sorted by name.
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, nil
}

// Put writes an object at name under the prefix.
func (f *FS) Put(ctx context.Context, name string, body io.ReadSeeker) error {
	if !fs.ValidPath(name) || name == "." {
		return fmt.Errorf("put %q: not a valid object name", name)
	}
	if _, err := f.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.Bucket), Key: aws.String(f.key(name)), Body: body}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", f.Bucket, f.key(name), err)
	}
	return nil
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf)
}

type object struct {
	name string
	body io.ReadCloser
	size int64
	mod  time.Time
}

func (o *object) Stat() (fs.FileInfo, error) {
	return &entry{name: o.name, size: o.size, mod: o.mod}, nil
}
func (o *object) Read(b []byte) (int, error) { return o.body.Read(b) }
func (o *object) Close() error               { return o.body.Close() }

type folder struct {
	name    string
	entries []fs.DirEntry
}

func (d *folder) Stat() (fs.FileInfo, error) { return &entry{name: d.name, dir: true}, nil }
func (d *folder) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a folder")}
}
func (d *folder) Close() error { return nil }
func (d *folder) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		e := d.entries
		d.entries = nil
		return e, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	e := d.entries[:n]
	d.entries = d.entries[n:]
	return e, nil
}

// entry is a listed object or folder; it is its own FileInfo.
type entry struct {
	name string
	dir  bool
	size int64
	mod  time.Time
}

func (e *entry) Name() string               { return e.name }
func (e *entry) IsDir() bool                { return e.dir }
func (e *entry) Type() fs.FileMode          { return e.Mode().Type() }
func (e *entry) Info() (fs.FileInfo, error) { return e, nil }
func (e *entry) Size() int64                { return e.size }
func (e *entry) ModTime() time.Time         { return e.mod }
func (e *entry) Sys() any                   { return nil }
func (e *entry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

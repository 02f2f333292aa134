package bucketsync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/bucketsync"
)

// bucket is a source with a way to put and delete objects.
type bucket struct {
	src    bucketsync.Source
	put    func(key, body string)
	delete func(key string)
}

func localBucket(t *testing.T) bucket {
	root := t.TempDir()
	return bucket{
		src: bucketsync.Local{Root: root},
		put: func(key, body string) {
			p := filepath.Join(root, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			// A new mtime even within the clock's resolution.
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(p)
			os.Chtimes(p, st.ModTime(), st.ModTime().Add(time.Duration(len(body))*time.Millisecond))
		},
		delete: func(key string) { os.Remove(filepath.Join(root, filepath.FromSlash(key))) },
	}
}

func s3Bucket(t *testing.T) bucket {
	srv := s3test.Start(t, "envbucket")
	client := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	ctx := context.Background()
	return bucket{
		src: bucketsync.S3{Client: client, Bucket: "envbucket"},
		put: func(key, body string) {
			if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("envbucket"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
		},
		delete: func(key string) {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("envbucket"), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func TestDagSync(t *testing.T) {
	t.Parallel()
	for name, mk := range map[string]func(*testing.T) bucket{"local": localBucket, "s3": s3Bucket} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := mk(t)
			ctx := context.Background()
			dir := t.TempDir()
			b.put("dags/a.yaml", "a: 1\n")
			b.put("dags/sub/b.py", "# b\n")
			b.put("plugins.zip", "not a dag")
			os.WriteFile(filepath.Join(dir, "stale.yaml"), []byte("x"), 0o644)
			os.MkdirAll(filepath.Join(dir, "__pycache__"), 0o755)
			os.WriteFile(filepath.Join(dir, "__pycache__", "b.pyc"), []byte("x"), 0o644)
			s := &bucketsync.DagSync{Source: b.src, Prefix: "dags", Dir: dir}

			rep, err := s.Sync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"a.yaml": "a: 1\n", filepath.Join("sub", "b.py"): "# b\n", filepath.Join("__pycache__", "b.pyc"): "x"}
			checkDir(t, dir, want)
			if rep.Deleted != 1 {
				t.Fatalf("first pass %+v: want the stale file deleted", rep)
			}

			if rep, err = s.Sync(ctx); err != nil || rep.Any() {
				t.Fatalf("unchanged bucket: %+v %v", rep, err)
			}

			b.put("dags/a.yaml", "a: 22\n")
			b.put("dags/c.yaml", "c: 3\n")
			b.delete("dags/sub/b.py")
			rep, err = s.Sync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep != (bucketsync.Report{Added: 1, Changed: 1, Deleted: 1}) {
				t.Fatalf("second pass %+v: want 1 added, 1 changed, 1 deleted", rep)
			}
			checkDir(t, dir, map[string]string{"a.yaml": "a: 22\n", "c.yaml": "c: 3\n", filepath.Join("__pycache__", "b.pyc"): "x"})
		})
	}
}

func TestFetch(t *testing.T) {
	t.Parallel()
	b := localBucket(t)
	b.put("requirements.txt", "six\n")
	dst := filepath.Join(t.TempDir(), "home", "requirements.txt")
	if err := bucketsync.Fetch(context.Background(), b.src, "requirements.txt", "", dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "six\n" {
		t.Fatalf("fetched %q", got)
	}
	if err := bucketsync.Fetch(context.Background(), b.src, "missing.txt", "", dst); !errors.Is(err, bucketsync.ErrNotFound) {
		t.Fatalf("missing object: %v, want ErrNotFound", err)
	}
	for _, key := range []string{"../escape", "/etc/passwd", "a/../../b", ""} {
		if err := bucketsync.Fetch(context.Background(), b.src, key, "", dst); err == nil || errors.Is(err, bucketsync.ErrNotFound) {
			t.Fatalf("key %q: %v, want refused", key, err)
		}
	}
}

func checkDir(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			b, _ := os.ReadFile(p)
			got[rel] = string(b)
		}
		return nil
	})
	if len(got) != len(want) {
		t.Fatalf("folder holds %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("folder holds %v, want %v", got, want)
		}
	}
}

// TestFetchObjectVersion: with versioning on (a real S3-compatible server),
// Fetch reads the version asked for, not the latest, as MWAA reads
// PluginsS3ObjectVersion and its kin; a deleted version is ErrNotFound.
func TestFetchObjectVersion(t *testing.T) {
	t.Parallel()
	srv := s3test.StartVersioned(t, "versioned")
	client := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	ctx := context.Background()
	if _, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versioned"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(body string) string {
		out, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("versioned"), Key: aws.String("requirements.txt"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.VersionId) == "" {
			t.Fatal("the server gave no version id")
		}
		return aws.ToString(out.VersionId)
	}
	v1 := put("six==1.16.0\n")
	put("six==1.17.0\n")
	src := bucketsync.S3{Client: client, Bucket: "versioned"}
	dst := filepath.Join(t.TempDir(), "requirements.txt")
	for _, c := range [][2]string{{v1, "six==1.16.0\n"}, {"", "six==1.17.0\n"}} {
		version, want := c[0], c[1]
		if err := bucketsync.Fetch(ctx, src, "requirements.txt", version, dst); err != nil {
			t.Fatalf("version %q: %v", version, err)
		}
		if got, _ := os.ReadFile(dst); string(got) != want {
			t.Fatalf("version %q: fetched %q, want %q", version, got, want)
		}
	}
	v3 := put("six==1.18.0\n")
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versioned"), Key: aws.String("requirements.txt"), VersionId: aws.String(v3)}); err != nil {
		t.Fatal(err)
	}
	if err := bucketsync.Fetch(ctx, src, "requirements.txt", v3, dst); !errors.Is(err, bucketsync.ErrNotFound) {
		t.Fatalf("deleted version: %v, want ErrNotFound", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "six==1.17.0\n" {
		t.Fatalf("a failed fetch changed the file: %q", got)
	}
}

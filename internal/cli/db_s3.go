package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// isS3URL tells an s3:// source or destination of the db commands from a
// path.
func isS3URL(s string) bool {
	return strings.HasPrefix(s, "s3://") || strings.HasPrefix(s, "s3a://") || strings.HasPrefix(s, "s3n://")
}

// openS3 returns the folder view of an s3:// URL, reached with the aws
// connection connID, or when it is empty with logging.remote_log_conn_id's
// (the bucket of the environment's remote logs), or else with the AWS_*
// variables (AWS_ENDPOINT_URL_S3 for an S3-compatible server), as boto3
// would.
func openS3(ctx context.Context, env *app.Environment, connID, url string) (*awss3.FS, error) {
	if connID == "" {
		connID = env.Config.Logging.RemoteLogConnID
	}
	var conn *secrets.Connection
	if connID != "" {
		c, err := env.Connections.Get(ctx, connID)
		if err != nil {
			return nil, fmt.Errorf("connection %q for %s: %w", connID, url, err)
		}
		conn = c
	}
	set, err := logstore.SettingsFrom(conn, env.Environ)
	if err != nil {
		return nil, err
	}
	fsys, err := awss3.NewFS(ctx, awss3.NewClient(set, nil), url)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%v", err)
	}
	return fsys, nil
}

// downloadCSVs copies the .csv files directly under an S3 prefix into a
// new temporary folder (the CSV reader wants files it can read twice),
// returned with its removal.
func downloadCSVs(fsys *awss3.FS, url string) (string, func(), error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", nil, fmt.Errorf("list %s: %w", url, err)
	}
	dir, err := os.MkdirTemp("", "windsock-import-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".csv") || !filepath.IsLocal(e.Name()) {
			continue
		}
		if err := downloadFile(fsys, e.Name(), filepath.Join(dir, e.Name())); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("download %s/%s: %w", strings.TrimSuffix(url, "/"), e.Name(), err)
		}
		n++
	}
	if n == 0 {
		cleanup()
		return "", nil, windsock.Errorf(windsock.EINVALID, "source %s holds no .csv file", url)
	}
	return dir, cleanup, nil
}

func downloadFile(fsys fs.FS, name, dest string) error {
	in, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// uploadFolder puts every file of a folder (an export) under the S3
// prefix, with the same names.
func uploadFolder(ctx context.Context, fsys *awss3.FS, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = fsys.Put(ctx, e.Name(), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

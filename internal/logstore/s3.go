package logstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/secrets"
)

// S3 keeps log copies in an S3-compatible bucket, under Prefix.
type S3 struct {
	Bucket string
	// Prefix is the key prefix, without leading or trailing '/'
	// (s3://bucket/logs has Prefix "logs").
	Prefix string
	// Settings returns the endpoint and credentials. It is called on
	// first use, and again after a use failed, so that a connection fixed
	// in the meantime is picked up.
	Settings func(ctx context.Context) (S3Settings, error)
	// HTTPClient sends the requests; nil means the SDK's default.
	HTTPClient *http.Client

	mu     sync.Mutex
	client *s3.Client
}

// S3Settings are where the bucket is and who we are.
type S3Settings = awss3.Settings

// SettingsFrom reads an Airflow aws connection (see awss3.SettingsFrom),
// falling back to the AWS_* variables of environ.
func SettingsFrom(conn *secrets.Connection, environ []string) (S3Settings, error) {
	if conn == nil {
		return awss3.SettingsFrom(nil, environ), nil
	}
	var extra map[string]any
	if strings.TrimSpace(conn.Extra) != "" {
		if err := json.Unmarshal([]byte(conn.Extra), &extra); err != nil {
			return S3Settings{}, fmt.Errorf("connection %q: extra is not a JSON object of aws settings: %w", conn.ConnID, err)
		}
	}
	return awss3.SettingsFrom(&awss3.Connection{ConnID: conn.ConnID, Host: conn.Host, Login: conn.Login, Password: conn.Password, Extra: extra}, environ), nil
}

// key returns the object key of relPath.
func (s *S3) key(relPath string) string {
	if p := strings.Trim(s.Prefix, "/"); p != "" {
		return p + "/" + relPath
	}
	return relPath
}

// Location returns the s3:// URL of relPath's copy.
func (s *S3) Location(relPath string) string {
	return "s3://" + s.Bucket + "/" + s.key(relPath)
}

// s3Client returns the client, building it on first use.
func (s *S3) s3Client(ctx context.Context) (*s3.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	var set S3Settings
	if s.Settings != nil {
		var err error
		if set, err = s.Settings(ctx); err != nil {
			return nil, err
		}
	}
	s.client = awss3.NewClient(set, s.HTTPClient)
	return s.client, nil
}

// forget drops the client after a failure that new settings might fix
// (credentials, endpoint), so that the next use reads them again.
func (s *S3) forget() {
	s.mu.Lock()
	s.client = nil
	s.mu.Unlock()
}

// Upload puts localFile at the object of relPath.
func (s *S3) Upload(ctx context.Context, relPath, localFile string) error {
	if err := checkRel(relPath); err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	client, err := s.s3Client(ctx)
	if err != nil {
		return fmt.Errorf("upload log to %s: %w", s.Location(relPath), err)
	}
	f, err := os.Open(localFile)
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	// The file is an io.ReadSeeker, so the SDK signs its SHA-256 and can
	// rewind it to retry.
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(s.key(relPath)), Body: f,
		ContentLength: aws.Int64(st.Size()), ContentType: aws.String("text/plain; charset=utf-8"),
	})
	if err != nil {
		s.forget()
		return fmt.Errorf("upload log to %s: %w", s.Location(relPath), err)
	}
	return nil
}

// Read gets a byte range of the object of relPath.
func (s *S3) Read(ctx context.Context, relPath string, offset int64) ([]byte, int64, error) {
	if err := checkRel(relPath); err != nil {
		return nil, offset, fmt.Errorf("read log copy: %w", err)
	}
	if offset < 0 {
		return nil, offset, fmt.Errorf("read log copy: negative offset %d", offset)
	}
	client, err := s.s3Client(ctx)
	if err != nil {
		return nil, offset, fmt.Errorf("read log copy %s: %w", s.Location(relPath), err)
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.Bucket), Key: aws.String(s.key(relPath)),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+MaxChunk-1)),
	})
	if err != nil {
		return s.readError(relPath, offset, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, MaxChunk))
	if err != nil {
		return nil, offset, fmt.Errorf("read log copy %s: %w", s.Location(relPath), err)
	}
	return data, offset + int64(len(data)), nil
}

// readError sorts GetObject's failures: past the end is no error, a
// missing object is ErrNotFound, anything else is reported (and the
// client rebuilt next time).
func (s *S3) readError(relPath string, offset int64, err error) ([]byte, int64, error) {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	var noKey *types.NoSuchKey
	code := ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	status := 0
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	switch {
	case code == "InvalidRange" || status == http.StatusRequestedRangeNotSatisfiable:
		return nil, offset, nil
	case errors.As(err, &noKey) || (status == http.StatusNotFound && code != "NoSuchBucket"):
		return nil, offset, fmt.Errorf("read log copy: %s: %w", s.Location(relPath), ErrNotFound)
	}
	s.forget()
	return nil, offset, fmt.Errorf("read log copy %s: %w", s.Location(relPath), err)
}

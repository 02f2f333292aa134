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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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
type S3Settings struct {
	// Endpoint is the service URL, such as http://minio:9000; empty means
	// AWS itself. A custom endpoint is addressed path-style
	// (endpoint/bucket/key), which every S3-compatible server supports.
	Endpoint string
	// Region is the signing region; empty means us-east-1.
	Region string
	// AccessKeyID and SecretAccessKey sign requests; both empty means
	// anonymous requests.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// SettingsFrom reads an Airflow aws connection: login and password are the
// access key id and secret (or, as older Airflow configs have them, the
// extra's aws_access_key_id and aws_secret_access_key); the extra's
// endpoint_url (or service_config.s3.endpoint_url, or the host) is the
// endpoint, region_name the region and aws_session_token the session
// token. A nil conn, or an empty field, falls back to the AWS_* variables
// of environ, as boto3 does.
func SettingsFrom(conn *secrets.Connection, environ []string) (S3Settings, error) {
	var s S3Settings
	if conn != nil {
		var extra struct {
			EndpointURL     string `json:"endpoint_url"`
			RegionName      string `json:"region_name"`
			AccessKeyID     string `json:"aws_access_key_id"`
			SecretAccessKey string `json:"aws_secret_access_key"`
			SessionToken    string `json:"aws_session_token"`
			ServiceConfig   struct {
				S3 struct {
					EndpointURL string `json:"endpoint_url"`
				} `json:"s3"`
			} `json:"service_config"`
		}
		if strings.TrimSpace(conn.Extra) != "" {
			if err := json.Unmarshal([]byte(conn.Extra), &extra); err != nil {
				return s, fmt.Errorf("connection %q: extra is not a JSON object of aws settings: %w", conn.ConnID, err)
			}
		}
		s.Endpoint = firstOf(extra.ServiceConfig.S3.EndpointURL, extra.EndpointURL, conn.Host)
		s.Region = extra.RegionName
		s.AccessKeyID = firstOf(conn.Login, extra.AccessKeyID)
		s.SecretAccessKey = firstOf(conn.Password, extra.SecretAccessKey)
		s.SessionToken = extra.SessionToken
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v := lookupEnv(environ, n); v != "" {
				return v
			}
		}
		return ""
	}
	if s.AccessKeyID == "" && s.SecretAccessKey == "" {
		s.AccessKeyID, s.SecretAccessKey = env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")
		s.SessionToken = firstOf(s.SessionToken, env("AWS_SESSION_TOKEN"))
	}
	s.Endpoint = firstOf(s.Endpoint, env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"))
	s.Region = firstOf(s.Region, env("AWS_REGION", "AWS_DEFAULT_REGION"), "us-east-1")
	if s.Endpoint != "" && !strings.Contains(s.Endpoint, "://") {
		// Airflow accepts a bare host:port; the SDK wants a URL.
		s.Endpoint = "https://" + s.Endpoint
	}
	return s, nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func lookupEnv(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
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
	opts := s3.Options{
		Region: firstOf(set.Region, "us-east-1"),
		// Only what S3 requires: many S3-compatible servers refuse the
		// trailing checksums the SDK sends by default.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if set.AccessKeyID != "" || set.SecretAccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(set.AccessKeyID, set.SecretAccessKey, set.SessionToken)
	} else {
		opts.Credentials = aws.AnonymousCredentials{}
	}
	if set.Endpoint != "" {
		opts.BaseEndpoint = aws.String(set.Endpoint)
		opts.UsePathStyle = true
	}
	if s.HTTPClient != nil {
		opts.HTTPClient = s.HTTPClient
	}
	s.client = s3.New(opts)
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

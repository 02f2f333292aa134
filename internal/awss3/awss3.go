// Package awss3 builds Amazon S3 clients from Airflow's aws connections
// (and the AWS_* environment variables boto3 reads), for the S3 task log
// copies and the S3 operators alike.
package awss3

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/osenv"
)

// Settings are where the service is and who we are.
type Settings struct {
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

// Connection is the part of an aws connection the settings come from.
type Connection struct {
	ConnID, Host, Login, Password string
	// Extra is the connection's extra object, decoded.
	Extra map[string]any
}

// SettingsFrom reads an Airflow aws connection: login and password are the
// access key id and secret (or, as older Airflow configs have them, the
// extra's aws_access_key_id and aws_secret_access_key); the extra's
// endpoint_url (or service_config.s3.endpoint_url, or the host) is the
// endpoint, region_name the region and aws_session_token the session
// token. A nil conn, or an empty field, falls back to the AWS_* variables
// of environ, as boto3 does.
func SettingsFrom(conn *Connection, environ []string) Settings {
	var s Settings
	if conn != nil {
		extra := func(path ...string) string {
			var v any = conn.Extra
			for _, p := range path {
				m, ok := v.(map[string]any)
				if !ok {
					return ""
				}
				v = m[p]
			}
			str, _ := v.(string)
			return str
		}
		s.Endpoint = firstOf(extra("service_config", "s3", "endpoint_url"), extra("endpoint_url"), conn.Host)
		s.Region = extra("region_name")
		s.AccessKeyID = firstOf(conn.Login, extra("aws_access_key_id"))
		s.SecretAccessKey = firstOf(conn.Password, extra("aws_secret_access_key"))
		s.SessionToken = extra("aws_session_token")
	}
	env := func(names ...string) string {
		for _, n := range names {
			if v, _ := osenv.Get(environ, n); v != "" {
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
	return s
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// NewClient returns an S3 client for set; httpClient nil means the SDK's.
func NewClient(set Settings, httpClient *http.Client) *s3.Client {
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
	if httpClient != nil {
		opts.HTTPClient = httpClient
	}
	return s3.New(opts)
}

// ParseURL splits s3://bucket/key (also s3a:// and s3n://) into bucket
// and key, as the provider's S3Hook.parse_s3_url does.
func ParseURL(u string) (bucket, key string, err error) {
	rest := ""
	for _, scheme := range []string{"s3://", "s3a://", "s3n://"} {
		if r, ok := strings.CutPrefix(u, scheme); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return "", "", fmt.Errorf("%q is not an s3:// URL", u)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket", u)
	}
	return bucket, key, nil
}

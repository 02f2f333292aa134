package amazon

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// DefaultConnID is the provider's default aws_conn_id.
const DefaultConnID = "aws_default"

// Options configure the S3 operators.
type Options struct {
	// HTTPClient sends the requests; nil means the SDK's default.
	HTTPClient *http.Client
}

// client returns an S3 client for the task's aws_conn_id. A connection
// that does not exist leaves the AWS_* variables to decide, as boto3's
// default chain does when Airflow finds no connection.
func client(ctx context.Context, tc *operator.Context, o Options) (*s3.Client, error) {
	return clientOf(ctx, tc, o, "aws_conn_id")
}

// clientOf is client for the connection named by argument arg.
func clientOf(ctx context.Context, tc *operator.Context, o Options, arg string) (*s3.Client, error) {
	connID, err := operator.StringArg(tc.Args, arg, DefaultConnID)
	if err != nil {
		return nil, err
	}
	var conn *awss3.Connection
	if connID != "" && tc.Connections != nil {
		c, err := tc.Connections.Connection(ctx, connID)
		switch {
		case err == nil:
			conn = &awss3.Connection{ConnID: c.ConnID, Host: c.Host, Login: c.Login, Password: c.Password, Extra: c.Extra}
		case windsock.ErrorCode(err) != windsock.ENOTFOUND:
			return nil, fmt.Errorf("get connection %s: %w", connID, err)
		}
	}
	set := awss3.SettingsFrom(conn, tc.Environ)
	if r, _ := operator.StringArg(tc.Args, "region_name", ""); r != "" {
		set.Region = r
	}
	return awss3.NewClient(set, o.HTTPClient), nil
}

// location resolves a key argument and an optional bucket argument into
// bucket and key, as the provider does: without a bucket, the key is a
// full s3:// URL; with one, it must be relative.
func location(key, bucket string) (string, string, error) {
	if bucket == "" {
		return awss3.ParseURL(key)
	}
	if strings.HasPrefix(key, "s3://") {
		return "", "", fmt.Errorf("if a bucket name is given, the key %q should be relative to it, not a full s3:// URL", key)
	}
	return bucket, key, nil
}

// wildcard compiles an fnmatch pattern (Python's: * and ? also match /).
func wildcard(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// literalPrefix is the part of a wildcard pattern before its first
// wildcard: the prefix to list.
func literalPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		return pattern[:i]
	}
	return pattern
}

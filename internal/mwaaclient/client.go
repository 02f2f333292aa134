// Package mwaaclient builds an AWS SDK for Go v2 MWAA client for a
// Windsock control plane: credentials found as the AWS CLI finds them
// (environment variables, then a profile of the shared credentials and
// config files) and the endpoint used as it is, without the "api."/"env."
// host prefixes AWS's own endpoints need.
package mwaaclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"gopkg.in/ini.v1"
)

// DefaultEndpoint is where `windsock controlplane` listens by default.
const DefaultEndpoint = "http://127.0.0.1:8090"

// Settings are what a client is made from; empty fields are looked up in
// the environment and the AWS files.
type Settings struct {
	Endpoint string
	Region   string
	Profile  string
	// Environ is the process environment (os.Environ() form).
	Environ []string
}

// New returns an MWAA client for the control plane.
func New(s Settings) (*mwaa.Client, error) {
	t, err := resolve(s)
	if err != nil {
		return nil, err
	}
	return mwaa.New(mwaa.Options{
		Region:       t.region,
		Credentials:  t.creds,
		BaseEndpoint: aws.String(t.endpoint),
		APIOptions:   []func(*middleware.Stack) error{WithoutHostPrefix},
	}), nil
}

// target is where a client calls and how it signs.
type target struct {
	endpoint, region string
	creds            aws.CredentialsProvider
}

func resolve(s Settings) (target, error) {
	env := environMap(s.Environ)
	profile := firstOf(s.Profile, env["AWS_PROFILE"], env["AWS_DEFAULT_PROFILE"], "default")
	creds, err := findCredentials(env, profile)
	if err != nil {
		return target{}, err
	}
	return target{
		region:   firstOf(s.Region, env["AWS_REGION"], env["AWS_DEFAULT_REGION"], configRegion(env, profile), "us-east-1"),
		endpoint: firstOf(s.Endpoint, env["WINDSOCK_CONTROLPLANE_URL"], env["AWS_ENDPOINT_URL_MWAA"], env["AWS_ENDPOINT_URL"], DefaultEndpoint),
		creds:    aws.NewCredentialsCache(creds),
	}, nil
}

// WithoutHostPrefix stops the SDK from prepending "api." or "env." to the
// endpoint's host, which only AWS's own DNS names resolve.
func WithoutHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("WindsockNoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// findCredentials looks where the AWS CLI looks: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, then the profile in AWS_SHARED_CREDENTIALS_FILE
// (~/.aws/credentials), then the profile in AWS_CONFIG_FILE
// (~/.aws/config, section "profile NAME").
func findCredentials(env map[string]string, profile string) (aws.CredentialsProvider, error) {
	if id, secret := env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]; id != "" && secret != "" {
		return credentials.NewStaticCredentialsProvider(id, secret, env["AWS_SESSION_TOKEN"]), nil
	}
	for _, f := range []struct{ path, section string }{
		{awsFile(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"), profile},
		{awsFile(env, "AWS_CONFIG_FILE", "config"), configSection(profile)},
	} {
		sec, ok := readSection(f.path, f.section)
		if !ok {
			continue
		}
		id, secret := sec["aws_access_key_id"], sec["aws_secret_access_key"]
		if id != "" && secret != "" {
			return credentials.NewStaticCredentialsProvider(id, secret, sec["aws_session_token"]), nil
		}
	}
	return nil, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add profile " +
		profile + " to ~/.aws/credentials (a key from `windsock controlplane keys create`)")
}

func configRegion(env map[string]string, profile string) string {
	sec, _ := readSection(awsFile(env, "AWS_CONFIG_FILE", "config"), configSection(profile))
	return sec["region"]
}

func configSection(profile string) string {
	if profile == "default" {
		return "default"
	}
	return "profile " + profile
}

func awsFile(env map[string]string, variable, name string) string {
	if p := env[variable]; p != "" {
		return p
	}
	home := env["HOME"]
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".aws", name)
}

func readSection(path, section string) (map[string]string, bool) {
	f, err := ini.Load(path)
	if err != nil {
		return nil, false
	}
	sec, err := f.GetSection(section)
	if err != nil {
		return nil, false
	}
	out := map[string]string{}
	for _, k := range sec.Keys() {
		out[strings.ToLower(k.Name())] = strings.TrimSpace(k.Value())
	}
	return out, true
}

func environMap(environ []string) map[string]string {
	m := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Describe formats an API error for a person: the AWS error code and its
// message, as the AWS CLI prints them.
func Describe(op string, err error) error {
	var apiErr interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &apiErr) {
		return fmt.Errorf("an error occurred (%s) when calling the %s operation: %s", apiErr.ErrorCode(), op, apiErr.ErrorMessage())
	}
	return fmt.Errorf("%s: %w", op, err)
}

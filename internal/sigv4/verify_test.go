package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/windsock/windsock/internal/sigv4"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// setup returns a verifier that knows one key, and a function signing a
// request with the AWS SDK for Go's own signer at a given time.
func setup(t *testing.T) (*sigv4.Verifier, func(r *http.Request, body []byte, keyID, secret string, at time.Time)) {
	t.Helper()
	v := &sigv4.Verifier{
		Service: "airflow",
		Secret: func(id string) (string, bool) {
			if id == "AKIAEXAMPLE" {
				return "secret/KEY+1", true
			}
			return "", false
		},
		Clock: func() time.Time { return now },
	}
	sign := func(r *http.Request, body []byte, keyID, secret string, at time.Time) {
		t.Helper()
		sum := sha256.Sum256(body)
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret},
			r, hex.EncodeToString(sum[:]), "airflow", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		// What a server receives: Go moves Host out of the header map.
		r.Host = r.URL.Host
	}
	return v, sign
}

func request(t *testing.T, method, target string, body []byte) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func TestVerifyAcceptsSDKSignatures(t *testing.T) {
	t.Parallel()
	v, sign := setup(t)
	cases := []struct{ method, target string }{
		{"PUT", "http://api.localhost:8090/environments/my-env"},
		{"GET", "http://localhost:8090/environments?MaxResults=2&NextToken=a%2Fb%3D%3D"},
		{"GET", "http://localhost:8090/tags/arn%3Aaws%3Aairflow%3Aus-east-1%3A000000000000%3Aenvironment%2Fx"},
		{"DELETE", "http://localhost:8090/tags/arn%3Aaws?tagKeys=b&tagKeys=a%20c"},
	}
	for _, c := range cases {
		body := []byte(`{"DagS3Path":"dags"}`)
		r := request(t, c.method, c.target, body)
		sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now.Add(-time.Minute))
		creds, err := v.Verify(r, body)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.target, err)
		}
		if creds.AccessKeyID != "AKIAEXAMPLE" || creds.Region != "us-east-1" {
			t.Fatalf("credentials %+v", creds)
		}
	}
}

func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	v, sign := setup(t)
	body := []byte(`{}`)
	cases := []struct {
		name   string
		prep   func(r *http.Request)
		body   []byte
		code   string
		prefix string
	}{
		{"no credentials", func(*http.Request) {}, body, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"unknown key", func(r *http.Request) { sign(r, body, "AKIAOTHER", "x", now) }, body,
			"UnrecognizedClientException", "The security token included in the request is invalid."},
		{"wrong secret", func(r *http.Request) { sign(r, body, "AKIAEXAMPLE", "wrong", now) }, body,
			"InvalidSignatureException", "The request signature we calculated does not match"},
		{"body changed", func(r *http.Request) { sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now) }, []byte(`{"a":1}`),
			"InvalidSignatureException", "The request signature we calculated does not match"},
		{"expired", func(r *http.Request) { sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now.Add(-6*time.Minute)) }, body,
			"InvalidSignatureException", "Signature expired: 20261206T115400Z is now earlier than 20261206T115500Z (20261206T120000Z - 5 min.)"},
		{"future", func(r *http.Request) { sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now.Add(6*time.Minute)) }, body,
			"InvalidSignatureException", "Signature not yet current: 20261206T120600Z is still later than 20261206T120500Z"},
		{"header changed after signing", func(r *http.Request) {
			sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now)
			r.Header.Set("X-Amz-Date", now.Add(time.Second).Format("20060102T150405Z"))
		}, body, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"other service", func(r *http.Request) {
			sign(r, body, "AKIAEXAMPLE", "secret/KEY+1", now)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/airflow/", "/s3/", 1))
		}, body, "InvalidSignatureException", "Credential should be scoped to correct service: 'airflow'."},
		{"not sigv4", func(r *http.Request) { r.Header.Set("Authorization", "Basic YTpi") }, body,
			"IncompleteSignatureException", "Authorization header requires 'Credential' parameter."},
	}
	for _, c := range cases {
		r := request(t, "GET", "http://localhost:8090/environments/x", body)
		c.prep(r)
		_, err := v.Verify(r, c.body)
		var se *sigv4.Error
		if !errors.As(err, &se) {
			t.Fatalf("%s: got %v, want a refusal", c.name, err)
		}
		if se.Code != c.code || !strings.HasPrefix(se.Message, c.prefix) {
			t.Errorf("%s: got %s %q, want %s %q", c.name, se.Code, se.Message, c.code, c.prefix)
		}
	}
}

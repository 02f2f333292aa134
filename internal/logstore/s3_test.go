package logstore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/secrets"
)

// fakeS3 speaks the part of S3 the store uses (PutObject, GetObject with a
// Range), path-style, and checks every request's SigV4 signature against
// its one access key, as S3 would.
type fakeS3 struct {
	bucket, region, accessKey, secretKey string

	mu       sync.Mutex
	objects  map[string][]byte
	requests []string // "METHOD /bucket/key"
}

func newFakeS3(t *testing.T) (*fakeS3, string) {
	t.Helper()
	f := &fakeS3{bucket: "task-logs", region: "eu-west-3", accessKey: "AKIDWINDSOCK", secretKey: "s3cr3t", objects: map[string][]byte{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	if err := f.checkSignature(r); err != nil {
		s3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", err.Error())
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		s3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	switch r.Method {
	case http.MethodPut:
		if strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
			s3Error(w, http.StatusNotImplemented, "NotImplemented", "aws-chunked uploads are not supported here")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
			return
		}
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != r.Header.Get("X-Amz-Content-Sha256") {
			s3Error(w, http.StatusBadRequest, "XAmzContentSHA256Mismatch", "body does not match its signed hash")
			return
		}
		f.mu.Lock()
		f.objects[key] = body
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case http.MethodGet:
		f.mu.Lock()
		obj, ok := f.objects[key]
		f.mu.Unlock()
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		start, end := int64(0), int64(len(obj))-1
		if spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
			a, b, _ := strings.Cut(spec, "-")
			start, _ = strconv.ParseInt(a, 10, 64)
			if b != "" {
				e, _ := strconv.ParseInt(b, 10, 64)
				end = min(end, e)
			}
			if start >= int64(len(obj)) {
				s3Error(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
				return
			}
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(obj)))
			w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
			w.WriteHeader(http.StatusPartialContent)
		} else {
			w.Header().Set("Content-Length", strconv.Itoa(len(obj)))
		}
		_, _ = w.Write(obj[start : end+1])
	default:
		s3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method)
	}
}

// checkSignature signs the request again with the fake's key, over the
// headers the client says it signed, and compares.
func (f *fakeS3) checkSignature(r *http.Request) error {
	auth := r.Header.Get("Authorization")
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || len(scope) != 5 {
		return fmt.Errorf("not a SigV4 authorization: %q", auth)
	}
	if scope[0] != f.accessKey || scope[2] != f.region || scope[3] != "s3" {
		return fmt.Errorf("credential scope %q", fields["Credential"])
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %w", err)
	}
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return err
	}
	again.Host, again.ContentLength = r.Host, r.ContentLength
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" && h != "content-length" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	creds := aws.Credentials{AccessKeyID: f.accessKey, SecretAccessKey: f.secretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, r.Header.Get("X-Amz-Content-Sha256"), "s3", f.region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		return err
	}
	if want := again.Header.Get("Authorization"); want != auth {
		return fmt.Errorf("signature mismatch:\n got %s\nwant %s", auth, want)
	}
	return nil
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>1</RequestId></Error>`, code, msg)
}

// connections is a connection source holding fixed connections.
type connections map[string]*secrets.Connection

func (c connections) Get(_ context.Context, connID string) (*secrets.Connection, error) {
	if conn, ok := c[connID]; ok {
		return conn, nil
	}
	return nil, fmt.Errorf("connection %q not found", connID)
}

// setupS3 returns a store over a fake bucket, configured as users would:
// logging.remote_base_log_folder and a connection.
func setupS3(t *testing.T, secret string) (*fakeS3, logstore.Store) {
	t.Helper()
	fake, endpoint := newFakeS3(t)
	extra := fmt.Sprintf(`{"endpoint_url": %q, "region_name": %q}`, endpoint, fake.region)
	st, err := logstore.New(logstore.Config{Folder: "s3://task-logs/windsock/logs", ConnID: "minio",
		Connections: connections{"minio": {ConnID: "minio", ConnType: "aws", Login: fake.accessKey, Password: secret, Extra: extra}}})
	if err != nil {
		t.Fatal(err)
	}
	return fake, st
}

func TestS3RoundTrip(t *testing.T) {
	t.Parallel()
	fake, st := setupS3(t, "s3cr3t")
	ctx := t.Context()
	rel := "dag_id=etl/run_id=scheduled__2024-05-01T00:00:00+00:00/task_id=load/map_index=3/attempt=1.log"
	content := strings.Repeat("0123456789", logstore.MaxChunk/10+5) // a little over one chunk
	local := filepath.Join(t.TempDir(), "attempt=1.log")
	if err := os.WriteFile(local, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, rel, local); err != nil {
		t.Fatalf("Upload: %v", err)
	}
	key := "windsock/logs/" + rel
	if string(fake.objects[key]) != content {
		t.Fatalf("stored keys %v", fake.requests)
	}
	if got := st.Location(rel); got != "s3://task-logs/"+key {
		t.Errorf("Location = %q", got)
	}
	// Path-style requests, the bucket first.
	if fake.requests[0] != "PUT /task-logs/"+key {
		t.Errorf("request = %q", fake.requests[0])
	}

	var got []byte
	offset := int64(0)
	for i := 0; i < 5; i++ {
		data, next, err := st.Read(ctx, rel, offset)
		if err != nil {
			t.Fatalf("Read at %d: %v", offset, err)
		}
		if len(data) > logstore.MaxChunk || next != offset+int64(len(data)) {
			t.Fatalf("Read at %d: %d bytes, next %d", offset, len(data), next)
		}
		if len(data) == 0 {
			break
		}
		got, offset = append(got, data...), next
	}
	if string(got) != content {
		t.Fatalf("read back %d bytes, want %d", len(got), len(content))
	}
	if _, _, err := st.Read(ctx, "dag_id=etl/none.log", 0); !errors.Is(err, logstore.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	if _, _, err := st.Read(ctx, "../other-prefix/x.log", 0); err == nil {
		t.Error("a path leaving the prefix is read")
	}
}

func TestS3Refusals(t *testing.T) {
	t.Parallel()
	fake, st := setupS3(t, "wrong-secret")
	local := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(local, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := st.Upload(t.Context(), "a.log", local)
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || !strings.Contains(err.Error(), "s3://task-logs/windsock/logs/a.log") {
		t.Fatalf("Upload with a wrong secret = %v", err)
	}
	if len(fake.objects) != 0 {
		t.Fatal("an upload with a wrong signature was stored")
	}
	if _, _, err := st.Read(t.Context(), "a.log", 0); err == nil || errors.Is(err, logstore.ErrNotFound) {
		t.Fatalf("Read with a wrong secret = %v", err)
	}

	// A connection that does not exist is reported by name.
	st, err = logstore.New(logstore.Config{Folder: "s3://b", ConnID: "nope", Connections: connections{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(t.Context(), "a.log", local); err == nil || !strings.Contains(err.Error(), `connection "nope"`) {
		t.Fatalf("Upload without connection = %v", err)
	}
}

func TestSettingsFrom(t *testing.T) {
	t.Parallel()
	environ := []string{"AWS_ACCESS_KEY_ID=envkey", "AWS_SECRET_ACCESS_KEY=envsecret", "AWS_DEFAULT_REGION=ap-south-1", "AWS_ENDPOINT_URL=http://env:9000"}
	tests := []struct {
		name    string
		conn    *secrets.Connection
		environ []string
		want    logstore.S3Settings
	}{
		{"login and extra", &secrets.Connection{ConnID: "c", Login: "k", Password: "s", Extra: `{"endpoint_url": "http://minio:9000", "region_name": "eu-west-1", "aws_session_token": "t"}`}, environ,
			logstore.S3Settings{Endpoint: "http://minio:9000", Region: "eu-west-1", AccessKeyID: "k", SecretAccessKey: "s", SessionToken: "t"}},
		{"keys in the extra", &secrets.Connection{ConnID: "c", Extra: `{"aws_access_key_id": "k", "aws_secret_access_key": "s", "service_config": {"s3": {"endpoint_url": "http://s3svc"}}}`}, nil,
			logstore.S3Settings{Endpoint: "http://s3svc", Region: "us-east-1", AccessKeyID: "k", SecretAccessKey: "s"}},
		{"bare host", &secrets.Connection{ConnID: "c", Host: "minio.local:9000"}, nil,
			logstore.S3Settings{Endpoint: "https://minio.local:9000", Region: "us-east-1"}},
		{"no connection: the environment", nil, environ,
			logstore.S3Settings{Endpoint: "http://env:9000", Region: "ap-south-1", AccessKeyID: "envkey", SecretAccessKey: "envsecret"}},
		{"nothing: anonymous AWS", nil, nil, logstore.S3Settings{Region: "us-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := logstore.SettingsFrom(tt.conn, tt.environ)
			if err != nil || got != tt.want {
				t.Fatalf("SettingsFrom = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := logstore.SettingsFrom(&secrets.Connection{ConnID: "c", Extra: "not json"}, nil); err == nil || !strings.Contains(err.Error(), `connection "c"`) {
		t.Fatalf("bad extra: %v", err)
	}
}

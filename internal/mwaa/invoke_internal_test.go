package mwaa

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/envspec"
)

// stubRunner reports every environment as running at one address.
type stubRunner struct{ host string }

func (s stubRunner) Start(context.Context, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{WebserverHostname: s.host}, nil
}
func (s stubRunner) Update(context.Context, envspec.Spec, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{WebserverHostname: s.host}, nil
}
func (s stubRunner) Adopt(context.Context, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{WebserverHostname: s.host}, nil
}
func (stubRunner) Stop(context.Context, string) error   { return nil }
func (stubRunner) Remove(context.Context, string) error { return nil }
func (s stubRunner) Status(string) (envspec.Status, bool) {
	return envspec.Status{WebserverHostname: s.host}, true
}

// TestInvokeRestAPIWrapsAirflowErrors checks how InvokeRestApi wraps what
// Airflow answers, against a stand-in for the environment's web server
// (Windsock's own API does not answer 5xx on demand): 2xx → 200 with the
// body, 4xx → RestApiClientException, 5xx → RestApiServerException, both
// HTTP 400 carrying Airflow's status and body, and a non-JSON body as a
// JSON string.
func TestInvokeRestAPIWrapsAirflowErrors(t *testing.T) {
	t.Parallel()
	logins := 0
	env := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/aws_mwaa/login":
			logins++
			http.SetCookie(w, &http.Cookie{Name: auth.SessionCookieName, Value: "sess"})
			w.Header().Set(CSRFTokenHeader, "csrf")
			http.Redirect(w, r, "/", http.StatusFound)
		case r.Header.Get(CSRFTokenHeader) != "csrf":
			http.Error(w, "no csrf", http.StatusForbidden)
		case r.URL.Path == "/api/v1/boom":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"title":"Internal Server Error","status":500}`))
		case r.URL.Path == "/api/v1/text":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("upstream down"))
		case r.URL.Path == "/api/v1/dags" && r.URL.RawQuery == "limit=2&tags=a&tags=b":
			_, _ = w.Write([]byte(`{"dags":[],"total_entries":0}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"Not Found","status":404,"detail":"` + r.URL.String() + `"}`))
		}
	}))
	t.Cleanup(env.Close)
	svc, err := New(Config{Home: t.TempDir(), Runner: stubRunner{host: strings.TrimPrefix(env.URL, "http://")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	in := &EnvironmentInput{ExecutionRoleArn: ptr("arn:aws:iam::123456789012:role/r"), SourceBucketArn: ptr("arn:aws:s3:::b"),
		DagS3Path: ptr("dags"), NetworkConfiguration: &Network{SubnetIds: []string{"subnet-1", "subnet-2"}, SecurityGroupIds: []string{"sg-1"}}}
	if _, err := svc.Create(t.Context(), "e", in); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	admin := Caller{Key: Key{Name: "admin"}, Account: DefaultAccount}
	invoke := func(method, path, query string) (any, error) {
		req := &InvokeRestAPIInput{Method: ptr(method), Path: ptr(path)}
		if query != "" {
			req.QueryParameters = json.RawMessage(query)
		}
		return svc.InvokeRestAPI(t.Context(), "e", req, admin)
	}
	out, err := invoke("GET", "/dags", `{"limit": 2, "tags": ["a", "b"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(out); string(got) != `{"RestApiResponse":{"dags":[],"total_entries":0},"RestApiStatusCode":200}` {
		t.Fatalf("2xx: %s", got)
	}
	cases := []struct{ path, code, body string }{
		{"/boom", "RestApiServerException", `{"RestApiResponse":{"title":"Internal Server Error","status":500},"RestApiStatusCode":500,"__type":"RestApiServerException"}`},
		{"/text", "RestApiServerException", `{"RestApiResponse":"upstream down","RestApiStatusCode":502,"__type":"RestApiServerException"}`},
		{"/missing", "RestApiClientException", `{"RestApiResponse":{"title":"Not Found","status":404,"detail":"/api/v1/missing"},"RestApiStatusCode":404,"__type":"RestApiClientException"}`},
	}
	for _, c := range cases {
		_, err := invoke("GET", c.path, "")
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code || e.Status != http.StatusBadRequest {
			t.Fatalf("%s: %v", c.path, err)
		}
		rec := httptest.NewRecorder()
		writeError(rec, e)
		if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != c.code || rec.Body.String() != c.body {
			t.Fatalf("%s: %d %s %s", c.path, rec.Code, rec.Header().Get("X-Amzn-ErrorType"), rec.Body)
		}
	}
	if logins != 1 {
		t.Fatalf("%d logins: the session should be reused", logins)
	}
	if _, err := invoke("GET", "/"+strings.Repeat("x", 64), ""); err == nil || !strings.Contains(err.Error(), "Member must have length less than or equal to 64") {
		t.Fatalf("a 65-character path: %v", err)
	}
	if _, err := invoke("HEAD", "/dags", ""); err == nil || !strings.Contains(err.Error(), "Member must satisfy enum value set: [GET, PUT, POST, PATCH, DELETE]") {
		t.Fatalf("a HEAD: %v", err)
	}
}

func ptr(s string) *string { return &s }

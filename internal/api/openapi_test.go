package api

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"testing"
)

// docPath turns a ServeMux path into its OpenAPI form: "{name...}"
// becomes "{name}".
func docPath(path string) string {
	return regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`).ReplaceAllString(path, "{$1}")
}

// tagFamilies maps the document's tags to the route families of
// routes.go, so that the document can describe a family before its
// handlers land.
func tagFamilies() map[string]string {
	return map[string]string{
		"Config": "core", "Monitoring": "core", "Role": "core", "Permission": "core", "User": "core", "Token": "core",
		"DAG": "dags", "ImportError": "dags", "DagStats": "dags", "DagWarning": "dags",
		"DAGRun": "runs", "TaskInstance": "runs", "XCom": "runs",
		"Variable": "metadata", "Connection": "metadata", "Pool": "metadata", "EventLog": "metadata",
		"Dataset": "datasets",
	}
}

// TestOpenAPIMatchesRoutes checks the document against the routes: every
// route is in the document with its operationId, and every operation of a
// family that has routes is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	o := testOpenAPI(t)
	s := &Server{}
	families := map[string][]route{
		"core": s.coreRoutes(), "dags": s.dagRoutes(), "runs": s.runRoutes(), "metadata": s.metadataRoutes(),
		"datasets": s.datasetRoutes(),
	}
	served := map[string]string{} // "METHOD /path" -> operationId
	for _, rt := range s.routes() {
		method, path := splitPattern(rt.pattern)
		served[method+" "+docPath(path)] = rt.operation
	}

	documented := map[string]bool{}
	for path, item := range o.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			documented[key] = true
			if len(op.Tags) != 1 {
				t.Errorf("%s: want exactly one tag, got %v", key, op.Tags)
				continue
			}
			family, ok := tagFamilies()[op.Tags[0]]
			if !ok {
				t.Errorf("%s: tag %q belongs to no route family", key, op.Tags[0])
				continue
			}
			if len(families[family]) == 0 {
				continue // that family has not landed yet
			}
			id, ok := served[key]
			switch {
			case !ok:
				t.Errorf("%s (%s) is in openapi.yaml but not served", key, op.OperationID)
			case id != op.OperationID:
				t.Errorf("%s: operationId %q in openapi.yaml, %q in routes", key, op.OperationID, id)
			}
		}
	}
	var missing []string
	for key := range served {
		if !documented[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("%s (%s) is served but not in openapi.yaml", key, served[key])
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.doChecked("GET", "/api/v1/openapi.yaml", "", nil)
	e.ok(r, http.StatusOK, nil)
	if ct := r.header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !bytes.Equal(r.body, OpenAPIDocument()) {
		t.Error("the served document is not the embedded one")
	}
	e.problem(e.doChecked("GET", "/api/v1/openapi.yaml", "nobody", nil), http.StatusUnauthorized, "")
	e.problem(e.doChecked("DELETE", "/api/v1/variables/x", "viewer", nil), http.StatusForbidden, "")
}

// recordingTB records failures instead of failing, to test checkResponse.
type recordingTB struct {
	testing.TB
	failures []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// TestCheckResponseCatches makes sure the harness rejects what the
// document forbids, so that a passing suite means something.
func TestCheckResponseCatches(t *testing.T) {
	t.Parallel()
	problem := `{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/api/v1/pools/x"}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		contentType, body  string
		ok                 bool
	}{
		{"valid connection", "GET", "/api/v1/connections/c", 200, "application/json",
			`{"connection_id":"c","conn_type":"http","description":null,"host":null,"login":null,"schema":null,"port":null,"extra":null}`, true},
		{"password leaked", "GET", "/api/v1/connections/c", 200, "application/json",
			`{"connection_id":"c","conn_type":"http","password":"s3cret"}`, false},
		{"value in a variable list", "GET", "/api/v1/variables", 200, "application/json",
			`{"variables":[{"key":"k","value":"v","description":null}],"total_entries":1}`, false},
		{"port as text", "GET", "/api/v1/connections/c", 200, "application/json",
			`{"connection_id":"c","conn_type":"http","port":"80"}`, false},
		{"undeclared status", "GET", "/api/v1/pools/x", 418, problemContentType, problem, false},
		{"error as plain JSON", "GET", "/api/v1/pools/x", 404, "application/json", problem, false},
		{"valid problem", "GET", "/api/v1/pools/x", 404, problemContentType, problem, true},
		{"problem without title", "GET", "/api/v1/pools/x", 404, problemContentType, `{"type":"about:blank","status":404}`, false},
		{"unknown operation", "GET", "/api/v1/nowhere", 200, "application/json", `{}`, false},
	} {
		req, err := http.NewRequest(tc.method, "http://127.0.0.1:1"+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := &recordingTB{TB: t}
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}}}
		checkResponse(rec, req, resp, []byte(tc.body))
		if ok := len(rec.failures) == 0; ok != tc.ok {
			t.Errorf("%s: passed %v, want %v; failures %v", tc.name, ok, tc.ok, rec.failures)
		}
	}
}

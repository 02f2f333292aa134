package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// This file is the response-validation harness: checkResponse checks an
// answer of the server against openapi.yaml. Any handler test can adopt
// it: call checkResponse with the request sent and the response read, or
// send requests with env.doChecked, which does both.

// openAPI is the embedded document, loaded and validated once per test
// binary, with a router that finds the operation of a request.
type openAPI struct {
	doc    *openapi3.T
	router routers.Router
}

var loadOpenAPI = sync.OnceValues(func() (*openAPI, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPIDocument())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPI{doc: doc, router: router}, nil
})

// testOpenAPI returns the loaded document, failing the test if it does
// not load or validate.
func testOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	o, err := loadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return o
}

// checkResponse fails t unless the response to req is one the document
// allows: the operation exists, the status is declared for it, and the
// Content-Type and body match the declared content (schemas, enums,
// nullability, read- and write-only fields, no undeclared fields where
// the schema forbids them). req must carry the URL it was sent to; body is
// the response body as read.
func checkResponse(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	o := testOpenAPI(t)
	// The router matches the document's server ("/api/v1") against the
	// path only; the test server's host does not matter.
	probe := req.Clone(context.Background())
	probe.URL.Scheme, probe.URL.Host, probe.Host = "", "", ""
	route, params, err := o.router.FindRoute(probe)
	if err != nil {
		t.Errorf("%s %s: no operation in openapi.yaml: %v", req.Method, req.URL.Path, err)
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: probe, PathParams: params, Route: route, Options: opts},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: opts,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s -> %d %s: response does not match openapi.yaml: %v\nbody: %s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, resp.Header.Get("Content-Type"), err, body)
	}
}

// doChecked is env.do followed by checkResponse: the request is sent as
// user (basic auth; "" for none) and the answer checked against the
// document before it is returned.
func (e *env) doChecked(method, path, user string, body any) response {
	e.t.Helper()
	var sent *http.Request
	r := e.doWith(method, path, body, func(req *http.Request) {
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		sent = req
	})
	checkResponse(e.t, sent, &http.Response{StatusCode: r.status, Header: r.header}, r.body)
	return r
}

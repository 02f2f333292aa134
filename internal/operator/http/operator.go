package http

import (
	"context"
	"fmt"
	"net/http"

	"github.com/windsock/windsock/internal/operator"
)

// Operator is HttpOperator (SimpleHttpOperator): it sends one request
// through an HTTP connection and returns the response body, or the part of
// its JSON that response_filter selects, as the task's return value.
//
// Arguments: http_conn_id (default "http_default"), endpoint, method
// (default POST), data, headers, extra_options (timeout in seconds,
// verify, allow_redirects, check_response), log_response, and:
//
//   - response_check: Airflow takes a Python callable; Windsock takes the
//     accepted status codes (200, [200, 202] or "200,202"). A response with
//     another status fails the try. Without it any 2xx is accepted; a
//     response outside 2xx fails the try with its status and the start of
//     its body (retries apply), unless extra_options.check_response is
//     false.
//   - response_filter: Airflow takes a Python callable; Windsock takes a
//     JSONPath-like expression ("$.data.items[0].id", "data.items[0].id",
//     "$['a b'][-1]") applied to the JSON body.
type Operator struct {
	hook hook
}

// New returns the HTTP operator sending requests through client; nil means
// a client over a copy of http.DefaultTransport.
func New(client *http.Client) *Operator {
	return &Operator{hook: hook{client: newClient(client)}}
}

// Execute sends the request and checks and filters the response.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	c, err := operatorCall(tc.Args, http.MethodPost)
	if err != nil {
		return nil, err
	}
	accept, err := statusCodes("response_check", tc.Args["response_check"])
	if err != nil {
		return nil, err
	}
	filter, err := operator.StringArg(tc.Args, "response_filter", "")
	if err != nil {
		return nil, err
	}
	logResponse, err := operator.BoolArg(tc.Args, "log_response", false)
	if err != nil {
		return nil, err
	}
	var path jsonPath
	if filter != "" {
		if path, err = parseJSONPath(filter); err != nil {
			return nil, fmt.Errorf("argument response_filter: %w", err)
		}
	}

	resp, err := o.hook.do(ctx, tc, c)
	if err != nil {
		return nil, err
	}
	if logResponse {
		operator.Logf(tc.Log, "%s", resp.text())
	}
	switch {
	case len(accept) > 0:
		if !containsCode(accept, resp.status) {
			return nil, fmt.Errorf("response check failed: %w", resp.statusError())
		}
	case resp.checkResponse && !isSuccess(resp.status):
		return nil, resp.statusError()
	}

	if path == nil {
		return &operator.Result{ReturnValue: resp.text(), HasReturn: true}, nil
	}
	doc, err := decodeJSON(resp.body)
	if err != nil {
		return nil, fmt.Errorf("response_filter %s: response body is not JSON: %w", filter, err)
	}
	v, err := path.apply(doc)
	if err != nil {
		return nil, fmt.Errorf("response_filter %s: %w", filter, err)
	}
	return &operator.Result{ReturnValue: v, HasReturn: true}, nil
}

// operatorCall reads the request arguments the operator and the sensor
// share; data comes from "data" or, for the sensor, "request_params".
func operatorCall(args map[string]any, defaultMethod string) (call, error) {
	var c call
	var err error
	if c.connID, err = operator.StringArg(args, "http_conn_id", DefaultConnID); err != nil {
		return c, err
	}
	if c.method, err = operator.StringArg(args, "method", defaultMethod); err != nil {
		return c, err
	}
	if c.endpoint, err = operator.StringArg(args, "endpoint", ""); err != nil {
		return c, err
	}
	c.data = args["data"]
	if c.headers, err = operator.MapArg(args, "headers"); err != nil {
		return c, err
	}
	if c.extraOptions, err = operator.MapArg(args, "extra_options"); err != nil {
		return c, err
	}
	return c, nil
}

func (r *response) statusError() *statusError {
	return &statusError{method: r.method, url: r.url, status: r.status, body: r.body}
}

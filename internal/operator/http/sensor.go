package http

import (
	"context"
	"net/http"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/pyvalue"
)

// Sensor is HttpSensor: it pokes an endpoint until the response is
// accepted.
//
// Arguments: endpoint, http_conn_id (default "http_default"), method
// (default GET), request_params (query parameters for GET, the body
// otherwise), headers, extra_options, the sensor arguments, and:
//
//   - response_check: the accepted status codes (Airflow takes a Python
//     callable). Without it any 2xx response ends the wait; with it a
//     response whose status is listed ends the wait and any other keeps
//     it going, as a callable returning False would.
//   - response_error_codes_allowlist: statuses that mean "not yet" rather
//     than an error (default [404], as in the provider). Any other status
//     of 400 or more fails the try (retries apply), as the provider's
//     raise_for_status does; so does a connection error.
type Sensor struct {
	hook hook
}

// NewSensor returns the HTTP sensor sending requests through client; nil
// means a client over a copy of http.DefaultTransport.
func NewSensor(client *http.Client) *Sensor {
	return &Sensor{hook: hook{client: newClient(client)}}
}

// Execute pokes until the endpoint answers as expected.
func (s *Sensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// Poke reads the sensor's arguments and returns its poke function.
func (s *Sensor) Poke(_ context.Context, tc *operator.Context) (sensor.Poke, error) {
	c, err := operatorCall(tc.Args, http.MethodGet)
	if err != nil {
		return nil, err
	}
	c.data = tc.Args["request_params"]
	accept, err := statusCodes("response_check", tc.Args["response_check"])
	if err != nil {
		return nil, err
	}
	notYet := []int{http.StatusNotFound}
	if v, ok := tc.Args["response_error_codes_allowlist"]; ok && v != nil {
		if notYet, err = statusCodes("response_error_codes_allowlist", v); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) (bool, any, error) {
		resp, err := s.hook.do(ctx, tc, c)
		if err != nil {
			return false, nil, err
		}
		if containsCode(accept, resp.status) {
			return true, nil, nil
		}
		if resp.checkResponse && resp.status >= 400 {
			if containsCode(notYet, resp.status) {
				operator.Logf(tc.Log, "Got %d from %s: not yet", resp.status, resp.url)
				return false, nil, nil
			}
			return false, nil, resp.statusError()
		}
		if len(accept) > 0 {
			operator.Logf(tc.Log, "Got %d from %s, waiting for %s", resp.status, resp.url, pyvalue.Repr(accept))
			return false, nil, nil
		}
		return true, nil, nil
	}, nil
}

package mwaa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"

	"github.com/windsock/windsock/internal/iampolicy"
	"github.com/windsock/windsock/internal/sigv4"
)

// maxBody bounds a request body (CreateEnvironment's configuration
// options are the largest legitimate one).
const maxBody = 4 << 20

// Caller is who signed a request: a control plane key.
type Caller struct {
	Key     Key
	Policy  *iampolicy.Policy
	Account string
}

// Identity is the caller's IAM identity as CreateWebLoginToken reports it.
func (c Caller) Identity() string { return "user/" + c.Key.Name }

// Arn is the caller's IAM ARN, as AccessDeniedException names it.
func (c Caller) Arn() string { return fmt.Sprintf("arn:aws:iam::%s:user/%s", c.Account, c.Key.Name) }

// AirflowUser is the Airflow username a web login of the caller gets
// (CreateWebLoginToken's AirflowIdentity, at most 64 characters).
func (c Caller) AirflowUser() string { return truncate("user/"+c.Key.Name, 64) }

// operation is one MWAA operation: its IAM action, the resource it acts
// on, and what it does.
type operation struct {
	action string
	// resource is the ARN authorized; "" means the operation authorizes
	// on its own (the token and REST API operations check role ARNs).
	resource func(r *http.Request) string
	do       func(ctx context.Context, r *http.Request, body []byte, c Caller) (any, error)
}

// streamOperation answers itself (a stream) once the caller is
// authenticated; it authorizes on its own. An error it returns before
// writing is answered as an operation's.
type streamOperation func(w http.ResponseWriter, r *http.Request, c Caller) error

// Handler serves the MWAA API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	env := func(r *http.Request) string { return s.envArn(r.PathValue("Name")) }
	tagged := func(r *http.Request) string { return r.PathValue("ResourceArn") }
	all := func(*http.Request) string { return s.envArn("*") }
	routes := map[string]operation{
		"PUT /environments/{Name}": {"CreateEnvironment", env, func(ctx context.Context, r *http.Request, body []byte, _ Caller) (any, error) {
			var in EnvironmentInput
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			arn, err := s.Create(ctx, r.PathValue("Name"), &in)
			return map[string]string{"Arn": arn}, err
		}},
		"GET /environments/{Name}": {"GetEnvironment", env, func(ctx context.Context, r *http.Request, _ []byte, _ Caller) (any, error) {
			e, err := s.Get(ctx, r.PathValue("Name"))
			return map[string]any{"Environment": e}, err
		}},
		"PATCH /environments/{Name}": {"UpdateEnvironment", env, func(ctx context.Context, r *http.Request, body []byte, _ Caller) (any, error) {
			var in EnvironmentInput
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			if in.Tags != nil || in.KmsKey != nil || in.EndpointManagement != nil {
				return nil, validation("Tags, KmsKey and EndpointManagement cannot be changed with UpdateEnvironment.")
			}
			arn, err := s.Update(ctx, r.PathValue("Name"), &in)
			return map[string]string{"Arn": arn}, err
		}},
		"DELETE /environments/{Name}": {"DeleteEnvironment", env, func(ctx context.Context, r *http.Request, _ []byte, _ Caller) (any, error) {
			return struct{}{}, s.Delete(ctx, r.PathValue("Name"))
		}},
		"GET /environments": {"ListEnvironments", all, func(ctx context.Context, r *http.Request, _ []byte, _ Caller) (any, error) {
			q := r.URL.Query()
			var maxResults *int
			if v := q.Get("MaxResults"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, validation("1 validation error detected: Value '" + v + "' at 'maxResults' failed to satisfy constraint: Member must be an integer")
				}
				maxResults = &n
			}
			names, next, err := s.List(ctx, maxResults, q.Get("NextToken"))
			if err != nil {
				return nil, err
			}
			out := map[string]any{"Environments": names}
			if next != "" {
				out["NextToken"] = next
			}
			return out, nil
		}},
		"POST /clitoken/{Name}": {"CreateCliToken", env, func(ctx context.Context, r *http.Request, _ []byte, c Caller) (any, error) {
			tok, host, err := s.CliToken(ctx, r.PathValue("Name"), c)
			return map[string]string{"CliToken": tok, "WebServerHostname": host}, err
		}},
		"POST /webtoken/{Name}": {"CreateWebLoginToken", nil, func(ctx context.Context, r *http.Request, _ []byte, c Caller) (any, error) {
			tok, host, _, err := s.WebLoginToken(ctx, r.PathValue("Name"), c)
			return map[string]string{"WebToken": tok, "WebServerHostname": host,
				"IamIdentity": c.Identity(), "AirflowIdentity": c.AirflowUser()}, err
		}},
		"POST /restapi/{Name}": {"InvokeRestApi", nil, func(ctx context.Context, r *http.Request, body []byte, c Caller) (any, error) {
			var in InvokeRestAPIInput
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			return s.InvokeRestAPI(ctx, r.PathValue("Name"), &in, c)
		}},
		"GET /tags/{ResourceArn}": {"ListTagsForResource", tagged, func(ctx context.Context, r *http.Request, _ []byte, _ Caller) (any, error) {
			tags, err := s.ListTags(ctx, r.PathValue("ResourceArn"))
			return map[string]any{"Tags": tags}, err
		}},
		"POST /tags/{ResourceArn}": {"TagResource", tagged, func(ctx context.Context, r *http.Request, body []byte, _ Caller) (any, error) {
			var in struct {
				Tags map[string]string `json:"Tags"`
			}
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			return struct{}{}, s.Tag(ctx, r.PathValue("ResourceArn"), in.Tags)
		}},
		"DELETE /tags/{ResourceArn}": {"UntagResource", tagged, func(ctx context.Context, r *http.Request, _ []byte, _ Caller) (any, error) {
			keys, ok := r.URL.Query()["tagKeys"]
			if !ok {
				return nil, validation("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
			}
			return struct{}{}, s.Untag(ctx, r.PathValue("ResourceArn"), keys)
		}},
		"POST /metrics/environments/{EnvironmentName}": {"PublishMetrics", func(r *http.Request) string {
			return s.envArn(r.PathValue("EnvironmentName"))
		}, func(context.Context, *http.Request, []byte, Caller) (any, error) {
			// Deprecated and "no longer available" in MWAA: accepted and
			// dropped, so old tooling does not break.
			return struct{}{}, nil
		}},
	}
	maps.Copy(routes, s.windsockRoutes())
	for pattern, op := range routes {
		mux.Handle(pattern, s.serve(op))
	}
	for pattern, op := range s.windsockStreams() {
		mux.Handle(pattern, s.serveStream(op))
	}
	s.uiRoutes(mux)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: "No operation matches " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// serve authenticates (SigV4), authorizes (the key's policy) and runs an
// operation, answering in restJson1.
func (s *Service) serve(op operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, body, ok := s.caller(w, r)
		if !ok {
			return
		}
		if op.resource != nil {
			if err := s.authorize(caller, "airflow:"+op.action, op.resource(r)); err != nil {
				writeError(w, err.(*Error))
				return
			}
		}
		out, err := op.do(r.Context(), r, body, caller)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, "", out)
	})
}

// serveStream authenticates and hands over to a stream operation.
func (s *Service) serveStream(op streamOperation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if caller, _, ok := s.caller(w, r); ok {
			if err := op(w, r, caller); err != nil {
				s.fail(w, r, err)
			}
		}
	})
}

// caller reads the body and authenticates the request; when it fails it
// has answered.
func (s *Service) caller(w http.ResponseWriter, r *http.Request) (Caller, []byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, validation("The request body could not be read: "+err.Error()))
		return Caller{}, nil, false
	}
	caller, err := s.authenticate(r, body)
	if err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) {
			writeJSON(w, se.Status, se.Code, map[string]string{"message": se.Message})
			return Caller{}, nil, false
		}
		s.fail(w, r, err)
		return Caller{}, nil, false
	}
	return caller, body, true
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, known := asError(err)
	if !known {
		s.cfg.Logger.Error("mwaa: internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeError(w, e)
}

// authenticate verifies the request's signature with the control plane's
// keys.
func (s *Service) authenticate(r *http.Request, body []byte) (Caller, error) {
	var found Key
	var policy *iampolicy.Policy
	var lookupErr error
	v := &sigv4.Verifier{Service: "airflow", Clock: s.cfg.Clock, Secret: func(id string) (string, bool) {
		key, secret, p, ok, err := s.keys.lookup(id)
		if err != nil {
			lookupErr = err
			return "", false
		}
		found, policy = key, p
		return secret, ok
	}}
	if _, err := v.Verify(r, body); err != nil {
		if lookupErr != nil {
			return Caller{}, lookupErr
		}
		return Caller{}, err
	}
	return Caller{Key: found, Policy: policy, Account: s.cfg.Account}, nil
}

// authorize evaluates the caller's policy for action on resource.
func (s *Service) authorize(c Caller, action, resource string) error {
	switch c.Policy.Evaluate(action, resource) {
	case iampolicy.Allow:
		return nil
	case iampolicy.ExplicitDeny:
		return accessDenied(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy",
			c.Arn(), action, resource))
	}
	return accessDenied(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
		c.Arn(), action, resource, action))
}

// airflowRoles are Airflow's built-in roles, most privileged first.
var airflowRoles = []string{"Admin", "Op", "User", "Viewer", "Public"}

// airflowRole is the most privileged Airflow role the caller's policy
// allows action on (arn:aws:airflow:REGION:ACCOUNT:role/ENV/ROLE).
func (s *Service) airflowRole(env, action string, c Caller) (string, error) {
	for _, role := range airflowRoles {
		if c.Policy.Evaluate(action, s.roleArn(env, role)) == iampolicy.Allow {
			return role, nil
		}
	}
	return "", s.authorize(c, action, s.roleArn(env, "Public"))
}

// decode reads a JSON body; an empty body is an empty input.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Error{Code: "SerializationException", Status: http.StatusBadRequest,
				Message: fmt.Sprintf("Value at '%s' has the wrong type: expected %s", te.Field, te.Type)}
		}
		return &Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: "The request body is not valid JSON."}
	}
	return nil
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, e.Code, e.body())
}

// writeJSON answers with a JSON body; errorType, when set, goes in
// X-Amzn-ErrorType, where restJson1 clients look first.
func writeJSON(w http.ResponseWriter, status int, errorType string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, errorType = http.StatusInternalServerError, "InternalServerException"
		data = []byte(`{"message":"An internal error occurred."}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if errorType != "" {
		h.Set("X-Amzn-ErrorType", errorType)
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

package mwaa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/mwaatoken"
)

// Headers the environment's /aws_mwaa/login answers with besides the
// session cookie: the session's CSRF token, which the REST API wants on
// state-changing requests made with a session cookie.
const CSRFTokenHeader = "X-CSRF-Token"

// maxRestAPIResponse bounds what InvokeRestApi relays.
const maxRestAPIResponse = 16 << 20

// sessionTTL is how long the control plane reuses a web session of an
// environment before logging in again (well inside Airflow's session
// lifetime).
const sessionTTL = 10 * time.Minute

// InvokeRestAPI is InvokeRestApi: it calls the environment's /api/v1 as
// the Airflow role the caller's policy grants, through a web session
// opened with a web login token as a browser would, and wraps the answer.
func (s *Service) InvokeRestAPI(ctx context.Context, name string, in *InvokeRestAPIInput, c Caller) (any, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkInvoke(in); err != nil {
		return nil, err
	}
	role, err := s.airflowRole(name, "airflow:InvokeRestApi", c)
	if err != nil {
		return nil, err
	}
	host, secret, err := s.tokenTarget(name)
	if err != nil {
		return nil, err
	}
	query, err := queryString(in.QueryParameters)
	if err != nil {
		return nil, err
	}
	path := *in.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := "http://" + host + "/api/v1" + path
	if query != "" {
		target += "?" + query
	}
	key := sessionKey{env: name, role: role, user: c.AirflowUser()}
	var status int
	var body []byte
	for attempt := 0; attempt < 2; attempt++ {
		sess, err := s.session(ctx, key, host, secret, c)
		if err != nil {
			return nil, err
		}
		status, body, err = s.callRestAPI(ctx, *in.Method, target, in.Body, sess)
		if err != nil {
			return nil, err
		}
		if status != http.StatusUnauthorized {
			break
		}
		s.sessions.drop(key) // expired or revoked: log in again once
	}
	response := json.RawMessage(body)
	if !json.Valid(body) {
		response, _ = json.Marshal(string(body))
	}
	switch {
	case status >= 500:
		return nil, &Error{Code: "RestApiServerException", Status: http.StatusBadRequest, RestAPIStatus: status, RestAPIResponse: response}
	case status >= 400:
		return nil, &Error{Code: "RestApiClientException", Status: http.StatusBadRequest, RestAPIStatus: status, RestAPIResponse: response}
	}
	if len(body) == 0 {
		response = json.RawMessage("{}")
	}
	return map[string]any{"RestApiStatusCode": status, "RestApiResponse": response}, nil
}

// queryString turns QueryParameters (a JSON object whose values are
// scalars or lists of scalars) into a query string.
func queryString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var params map[string]any
	if err := json.Unmarshal(raw, &params); err != nil {
		return "", validation("QueryParameters must be a JSON object.")
	}
	q := url.Values{}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		values, ok := params[k].([]any)
		if !ok {
			values = []any{params[k]}
		}
		for _, v := range values {
			switch x := v.(type) {
			case nil:
			case string:
				q.Add(k, x)
			case bool, float64:
				q.Add(k, fmt.Sprint(x))
			default:
				return "", validation(fmt.Sprintf("QueryParameters.%s must be a string, number, boolean or a list of them.", k))
			}
		}
	}
	return q.Encode(), nil
}

func (s *Service) callRestAPI(ctx context.Context, method, target string, body json.RawMessage, sess webSession) (int, []byte, error) {
	var reader io.Reader
	if len(body) > 0 && string(body) != "null" {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return 0, nil, validation("Path is not a valid REST API path: " + err.Error())
	}
	req.Header.Set("Accept", "application/json")
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.AddCookie(sess.cookie)
	req.Header.Set(CSRFTokenHeader, sess.csrf)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("invoke rest api: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRestAPIResponse))
	if err != nil {
		return 0, nil, fmt.Errorf("invoke rest api: read answer: %w", err)
	}
	return resp.StatusCode, data, nil
}

type sessionKey struct{ env, role, user string }

type webSession struct {
	cookie  *http.Cookie
	csrf    string
	expires time.Time
}

// sessionCache keeps the web sessions InvokeRestApi opened, per
// environment, role and user.
type sessionCache struct {
	mu sync.Mutex
	m  map[sessionKey]webSession
}

func (c *sessionCache) get(k sessionKey, now time.Time) (webSession, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok && now.Before(s.expires)
}

func (c *sessionCache) put(k sessionKey, s webSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[sessionKey]webSession{}
	}
	c.m[k] = s
}

func (c *sessionCache) drop(k sessionKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// forget drops every session of an environment (updated or deleted).
func (c *sessionCache) forget(env string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.env == env {
			delete(c.m, k)
		}
	}
}

// session returns a web session of the environment for key, logging in
// with a fresh web login token when none is cached.
func (s *Service) session(ctx context.Context, key sessionKey, host string, secret []byte, c Caller) (webSession, error) {
	now := s.now()
	if sess, ok := s.sessions.get(key, now); ok {
		return sess, nil
	}
	token, err := mwaatoken.Mint(secret, mwaatoken.Claims{Kind: mwaatoken.KindWeb, Environment: key.env, Role: key.role,
		User: key.user, IamIdentity: c.Identity(), Expires: now.Add(mwaatoken.WebTokenTTL).Unix(), Nonce: newSecret()[:16]})
	if err != nil {
		return webSession{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+host+"/aws_mwaa/login",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return webSession{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := *s.cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return webSession{}, fmt.Errorf("log in to environment %s: %w", key.env, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 && auth.IsSessionCookie(ck.Name) {
			cookie = ck
		}
	}
	if cookie == nil || resp.StatusCode >= 400 {
		return webSession{}, fmt.Errorf("log in to environment %s: the web server answered %s without a session", key.env, resp.Status)
	}
	sess := webSession{cookie: &http.Cookie{Name: cookie.Name, Value: cookie.Value}, csrf: resp.Header.Get(CSRFTokenHeader),
		expires: now.Add(sessionTTL)}
	s.sessions.put(key, sess)
	return sess, nil
}

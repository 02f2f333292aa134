// Package http runs Airflow's HTTP provider operators: HttpOperator (and
// its old name SimpleHttpOperator) and HttpSensor. Requests are built the
// way the provider's HttpHook builds them, from an Airflow connection.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
)

// DefaultConnID is the connection used when http_conn_id is not set.
const DefaultConnID = "http_default"

// maxBody caps how much of a response is read: the body may become an
// XCom, which is no place for large payloads.
const maxBody = 16 << 20

// errorBodyPrefix is how much of a failed response's body goes into the
// error message.
const errorBodyPrefix = 512

// connectionOptions are the keys of an HTTP connection's extra that the
// provider treats as request options; every other key is a default header.
var connectionOptions = map[string]bool{
	"timeout": true, "verify": true, "check_response": true, "allow_redirects": true,
	"proxy": true, "proxies": true, "stream": true, "cert": true, "max_redirects": true,
	"trust_env": true, "auth_type": true, "auth_kwargs": true,
}

// hook sends requests the way the provider's HttpHook does.
type hook struct {
	client *http.Client
}

// newClient returns client, or a client over a copy of the default
// transport (which bounds dialing and TLS handshakes) when client is nil.
func newClient(client *http.Client) *http.Client {
	if client != nil {
		return client
	}
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// call is one request, as the operators describe it.
type call struct {
	connID   string
	method   string
	endpoint string
	// data is the payload: query parameters for GET, the body otherwise.
	data    any
	headers map[string]any
	// extraOptions are the operator's extra_options.
	extraOptions map[string]any
}

// response is what came back; body holds at most maxBody bytes.
type response struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
	// checkResponse is the check_response option: false lets any status
	// through.
	checkResponse bool
}

// text returns the body as text, as requests' response.text does.
func (r *response) text() string { return string(r.body) }

// statusError reports a response whose status the caller did not accept.
type statusError struct {
	method, url string
	status      int
	body        []byte
}

func (e *statusError) Error() string {
	b := e.body
	if len(b) > errorBodyPrefix {
		b = b[:errorBodyPrefix]
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.method, e.url, e.status, http.StatusText(e.status), strings.TrimSpace(string(b)))
}

// do resolves the connection, sends the request and reads the response.
// It does not judge the status code: callers do.
func (h *hook) do(ctx context.Context, tc *operator.Context, c call) (*response, error) {
	if tc.Connections == nil {
		return nil, fmt.Errorf("get connection %s: no connection source", c.connID)
	}
	conn, err := tc.Connections.Connection(ctx, c.connID)
	if err != nil {
		return nil, fmt.Errorf("get connection %s: %w", c.connID, err)
	}
	opts, err := requestOptions(conn.Extra, c.extraOptions)
	if err != nil {
		return nil, err
	}
	method := strings.ToUpper(c.method)
	target := joinURL(baseURL(conn), c.endpoint)
	req, err := newRequest(ctx, method, target, c.data, mergeHeaders(conn.Extra, c.headers))
	if err != nil {
		return nil, err
	}
	if conn.Login != "" {
		req.SetBasicAuth(conn.Login, conn.Password)
	}
	if opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.timeout)
		defer cancel()
		req = req.WithContext(ctx)
	}
	operator.Logf(tc.Log, "Calling HTTP method %s %s", method, req.URL.Redacted())
	resp, err := h.clientFor(opts).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response of %s %s: %w", method, req.URL.Redacted(), err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("read response of %s %s: body is larger than %d bytes", method, req.URL.Redacted(), maxBody)
	}
	return &response{method: method, url: req.URL.Redacted(), status: resp.StatusCode, header: resp.Header, body: body, checkResponse: opts.checkResponse}, nil
}

// clientFor adapts the hook's client to verify and allow_redirects; the
// shared client is used untouched when neither is set.
func (h *hook) clientFor(opts options) *http.Client {
	if opts.verify && opts.allowRedirects {
		return h.client
	}
	c := *h.client
	if !opts.allowRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	if !opts.verify {
		// Only a transport we can copy can be told to skip verification;
		// a custom RoundTripper is the caller's business.
		if t, ok := transportOf(h.client).(*http.Transport); ok {
			t = t.Clone()
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true
			c.Transport = t
		}
	}
	return &c
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// options are the request options of extra_options (and, as the provider
// allows, of the connection's extra, which extra_options override).
type options struct {
	timeout        time.Duration
	verify         bool
	allowRedirects bool
	// checkResponse false lets any status through (the provider's
	// extra_options={"check_response": False}).
	checkResponse bool
}

func requestOptions(connExtra, extraOptions map[string]any) (options, error) {
	merged := map[string]any{}
	for k, v := range connExtra {
		if connectionOptions[k] {
			merged[k] = v
		}
	}
	for k, v := range extraOptions {
		merged[k] = v
	}
	var o options
	var err error
	// requests takes timeout as seconds, or a (connect, read) pair of
	// which we honour the larger as an overall bound.
	if t, ok := merged["timeout"].([]any); ok && len(t) > 0 {
		var longest float64
		for i := range t {
			f, err := operator.FloatArg(map[string]any{"timeout": t[i]}, "timeout", 0)
			if err != nil {
				return o, fmt.Errorf("extra_options: %w", err)
			}
			longest = max(longest, f)
		}
		merged["timeout"] = longest
	}
	secs, err := operator.FloatArg(merged, "timeout", 0)
	if err != nil {
		return o, fmt.Errorf("extra_options: %w", err)
	}
	o.timeout = time.Duration(secs * float64(time.Second))
	if o.verify, err = operator.BoolArg(merged, "verify", true); err != nil {
		return o, fmt.Errorf("extra_options: %w", err)
	}
	if o.allowRedirects, err = operator.BoolArg(merged, "allow_redirects", true); err != nil {
		return o, fmt.Errorf("extra_options: %w", err)
	}
	if o.checkResponse, err = operator.BoolArg(merged, "check_response", true); err != nil {
		return o, fmt.Errorf("extra_options: %w", err)
	}
	return o, nil
}

// baseURL builds the base URL as HttpHook.get_conn does: a host holding
// "://" is taken whole; otherwise the scheme is the connection's schema
// (or "https" when the connection type is https, else "http") and the
// port, when set, is appended.
func baseURL(conn *operator.Connection) string {
	var base string
	if strings.Contains(conn.Host, "://") {
		base = conn.Host
	} else {
		scheme := conn.Schema
		if scheme == "" {
			scheme = "http"
			if strings.EqualFold(conn.ConnType, "https") {
				scheme = "https"
			}
		}
		base = scheme + "://" + conn.Host
	}
	if conn.Port != 0 {
		base += ":" + strconv.Itoa(conn.Port)
	}
	return base
}

// joinURL puts exactly one slash between base and endpoint, as the hook's
// url_from_endpoint does.
func joinURL(base, endpoint string) string {
	if base != "" && !strings.HasSuffix(base, "/") && endpoint != "" && !strings.HasPrefix(endpoint, "/") {
		return base + "/" + endpoint
	}
	return base + endpoint
}

// mergeHeaders returns the connection's default headers (its extra, minus
// request options) overridden by the operator's headers.
func mergeHeaders(connExtra, headers map[string]any) http.Header {
	h := http.Header{}
	for k, v := range connExtra {
		if !connectionOptions[k] {
			h.Set(k, headerValue(v))
		}
	}
	for k, v := range headers {
		h.Set(k, headerValue(v))
	}
	return h
}

func headerValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// newRequest encodes data as requests does: for GET a mapping (or a
// string) becomes the query string; for HEAD data is dropped; otherwise a
// string is sent as is and a mapping is form-encoded, unless the headers
// declare a JSON content type, in which case it is sent as JSON (DAG files
// written in YAML cannot call json.dumps).
func newRequest(ctx context.Context, method, target string, data any, header http.Header) (*http.Request, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parse url %q: %w", target, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("url %q has no scheme or host: set the connection's host", target)
	}
	var body io.Reader
	switch {
	case data == nil || method == http.MethodHead:
	case method == http.MethodGet:
		q, err := queryString(data)
		if err != nil {
			return nil, err
		}
		if q != "" {
			if u.RawQuery != "" {
				u.RawQuery += "&"
			}
			u.RawQuery += q
		}
	default:
		b, contentType, err := encodeBody(data, header.Get("Content-Type"))
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		if header.Get("Content-Type") == "" && contentType != "" {
			header.Set("Content-Type", contentType)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header = header
	return req, nil
}

func queryString(data any) (string, error) {
	switch d := data.(type) {
	case string:
		return d, nil
	case map[string]any:
		return formEncode(d), nil
	}
	return "", fmt.Errorf("argument data: a GET request takes a mapping or a query string, got %T", data)
}

func encodeBody(data any, contentType string) ([]byte, string, error) {
	if s, ok := data.(string); ok {
		return []byte(s), "", nil
	}
	if m, ok := data.(map[string]any); ok && !strings.Contains(strings.ToLower(contentType), "json") {
		return []byte(formEncode(m)), "application/x-www-form-urlencoded", nil
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, "", fmt.Errorf("encode data as JSON: %w", err)
	}
	return b, "application/json", nil
}

// formEncode encodes a mapping as requests does: keys sorted for a stable
// result, a list becomes repeated keys, null values are left out, and
// scalars are written as Python's str() writes them.
func formEncode(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	add := func(k string, v any) {
		if v == nil {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(pythonStr(v)))
	}
	for _, k := range keys {
		if list, ok := m[k].([]any); ok {
			for _, v := range list {
				add(k, v)
			}
			continue
		}
		add(k, m[k])
	}
	return b.String()
}

func pythonStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int, int64:
		return fmt.Sprint(x)
	}
	return headerValue(v)
}

// statusCodes reads response_check (or an allowlist) given as a status
// code, a list of codes, or a string of comma-separated codes.
func statusCodes(name string, v any) ([]int, error) {
	if v == nil {
		return nil, nil
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	default:
		items = []any{x}
	}
	codes := make([]int, 0, len(items))
	for _, item := range items {
		n, ok := operator.AsInt(item)
		if !ok || n < 100 || n > 999 {
			return nil, fmt.Errorf("argument %s: want HTTP status codes (200, [200, 201] or \"200,201\"), got %s", name, pyvalue.Repr(item))
		}
		codes = append(codes, n)
	}
	return codes, nil
}

func isSuccess(status int) bool { return status >= 200 && status < 300 }

func containsCode(codes []int, status int) bool {
	for _, c := range codes {
		if c == status {
			return true
		}
	}
	return false
}

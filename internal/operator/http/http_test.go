package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// connections is the test's connection source: a map.
type connections map[string]*operator.Connection

func (c connections) Connection(_ context.Context, id string) (*operator.Connection, error) {
	if conn, ok := c[id]; ok {
		return conn, nil
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
}

// seen is one request as the server received it.
type seen struct {
	method, path, rawQuery string
	header                 http.Header
	body                   string
	user, pass             string
}

// recorder is an httptest server that records requests and answers with
// the handler the test sets.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func setup(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b), u, p})
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *recorder) last(t *testing.T) seen {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("server received no request")
	}
	return r.reqs[len(r.reqs)-1]
}

// conn returns a connection to the server written the way users write
// them: host and port apart, no scheme.
func (r *recorder) conn(t *testing.T) *operator.Connection {
	t.Helper()
	host, port, err := net.SplitHostPort(r.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return &operator.Connection{ConnID: "api", ConnType: "http", Host: host, Port: p}
}

func newContext(args map[string]any, conns connections) *operator.Context {
	return &operator.Context{Args: args, Connections: conns, Log: &bytes.Buffer{}}
}

func TestOperatorPostsJSONWithConnectionAuthAndHeaders(t *testing.T) {
	t.Parallel()
	rec := setup(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"ok":true}`)
	})
	c := rec.conn(t)
	c.Login, c.Password = "ann", "s3cret"
	c.Extra = map[string]any{"X-Token": "abc", "timeout": 5}
	tc := newContext(map[string]any{
		"http_conn_id": "api",
		"endpoint":     "api/items",
		"data":         map[string]any{"name": "x", "n": 2},
		"headers":      map[string]any{"Content-Type": "application/json"},
		"log_response": true,
	}, connections{"api": c})

	res, err := New(nil).Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if got.method != "POST" || got.path != "/api/items" {
		t.Errorf("request = %s %s, want POST /api/items", got.method, got.path)
	}
	if got.user != "ann" || got.pass != "s3cret" {
		t.Errorf("basic auth = %q/%q", got.user, got.pass)
	}
	if got.header.Get("X-Token") != "abc" {
		t.Errorf("X-Token header = %q, want the connection's extra", got.header.Get("X-Token"))
	}
	if got.header.Get("Timeout") != "" {
		t.Errorf("the timeout option was sent as a header")
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(got.body), &body); err != nil || body["name"] != "x" || body["n"] != float64(2) {
		t.Errorf("body = %s (%v), want the data as JSON", got.body, err)
	}
	if !res.HasReturn || res.ReturnValue != `{"ok":true}` {
		t.Errorf("return value = %#v, want the body text", res.ReturnValue)
	}
	if !strings.Contains(tc.Log.(*bytes.Buffer).String(), `{"ok":true}`) {
		t.Errorf("log_response did not log the body: %q", tc.Log.(*bytes.Buffer).String())
	}
}

func TestOperatorFormEncodesMappingWithoutJSONContentType(t *testing.T) {
	t.Parallel()
	rec := setup(t, func(w http.ResponseWriter, r *http.Request) {})
	tc := newContext(map[string]any{
		"endpoint": "/submit",
		"data":     map[string]any{"a": "1 2", "flag": true, "tags": []any{"x", "y"}, "none": nil},
	}, connections{DefaultConnID: rec.conn(t)})
	if _, err := New(nil).Execute(context.Background(), tc); err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if ct := got.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got.body != "a=1+2&flag=True&tags=x&tags=y" {
		t.Errorf("body = %q", got.body)
	}
}

func TestOperatorGetSendsDataAsQueryAndFiltersJSON(t *testing.T) {
	t.Parallel()
	rec := setup(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"data":{"items":[{"id":3},{"id":12345678901234567}]}}`)
	})
	tc := newContext(map[string]any{
		"method":          "get",
		"endpoint":        "items?sort=id",
		"data":            map[string]any{"page": 2},
		"response_filter": "$.data.items[-1].id",
	}, connections{DefaultConnID: rec.conn(t)})
	res, err := New(nil).Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.last(t)
	if got.method != "GET" || got.path != "/items" || got.rawQuery != "sort=id&page=2" {
		t.Errorf("request = %s %s?%s", got.method, got.path, got.rawQuery)
	}
	if got.body != "" {
		t.Errorf("GET sent a body: %q", got.body)
	}
	if res.ReturnValue != int64(12345678901234567) {
		t.Errorf("filtered value = %#v, want the exact integer", res.ReturnValue)
	}
}

func TestOperatorStatusHandling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		status  int
		args    map[string]any
		wantErr string
	}{
		{name: "5xx fails with status and body", status: 500, wantErr: "500 Internal Server Error: boom"},
		{name: "4xx fails", status: 403, wantErr: "403 Forbidden"},
		{name: "2xx passes", status: 204},
		{name: "check_response false lets errors through", status: 500,
			args: map[string]any{"extra_options": map[string]any{"check_response": false}}},
		{name: "response_check accepts listed code", status: 202, args: map[string]any{"response_check": []any{200, 202}}},
		{name: "response_check accepts listed error code", status: 409, args: map[string]any{"response_check": "200, 409"}},
		{name: "response_check rejects other code", status: 200, args: map[string]any{"response_check": 201},
			wantErr: "response check failed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := setup(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, "boom")
			})
			args := map[string]any{"endpoint": "x"}
			for k, v := range tt.args {
				args[k] = v
			}
			_, err := New(nil).Execute(context.Background(), newContext(args, connections{DefaultConnID: rec.conn(t)}))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if errors.Is(err, operator.ErrFail) || errors.Is(err, operator.ErrSkip) {
				t.Errorf("err = %v: an HTTP error must leave retries to apply", err)
			}
		})
	}
}

func TestOperatorTimeoutOption(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	rec := setup(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	tc := newContext(map[string]any{"endpoint": "slow", "extra_options": map[string]any{"timeout": 0.05}},
		connections{DefaultConnID: rec.conn(t)})
	_, err := New(nil).Execute(context.Background(), tc)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
}

func TestOperatorMissingConnection(t *testing.T) {
	t.Parallel()
	_, err := New(nil).Execute(context.Background(), newContext(map[string]any{"endpoint": "x"}, connections{}))
	if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Fatalf("err = %v, want not found", err)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		conn operator.Connection
		want string
	}{
		{operator.Connection{Host: "example.com"}, "http://example.com"},
		{operator.Connection{Host: "example.com", Port: 8080}, "http://example.com:8080"},
		{operator.Connection{Host: "example.com", Schema: "https"}, "https://example.com"},
		{operator.Connection{Host: "example.com", ConnType: "https"}, "https://example.com"},
		{operator.Connection{Host: "https://example.com/api/"}, "https://example.com/api/"},
		{operator.Connection{Host: "https://example.com", Port: 8443, Schema: "http"}, "https://example.com:8443"},
	} {
		if got := baseURL(&tt.conn); got != tt.want {
			t.Errorf("baseURL(%+v) = %q, want %q", tt.conn, got, tt.want)
		}
	}
}

func TestJoinURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ base, endpoint, want string }{
		{"http://h", "a/b", "http://h/a/b"},
		{"http://h/", "a", "http://h/a"},
		{"http://h", "/a", "http://h/a"},
		{"http://h/", "/a", "http://h//a"}, // as the provider does
		{"http://h", "", "http://h"},
	} {
		if got := joinURL(tt.base, tt.endpoint); got != tt.want {
			t.Errorf("joinURL(%q, %q) = %q, want %q", tt.base, tt.endpoint, got, tt.want)
		}
	}
}

func TestJSONPath(t *testing.T) {
	t.Parallel()
	doc, err := decodeJSON([]byte(`{"data":{"items":[{"id":1},{"id":2.5}],"a b":"spaced","x]":true},"n":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		expr    string
		want    any
		wantErr string
	}{
		{expr: "$.data.items[0].id", want: int64(1)},
		{expr: "data.items[1].id", want: 2.5},
		{expr: "$['data']['a b']", want: "spaced"},
		{expr: `$.data["x]"]`, want: true},
		{expr: "$.data.items[-1].id", want: 2.5},
		{expr: "n", want: nil},
		{expr: "$.data.items[2]", wantErr: "out of range"},
		{expr: "$.data.missing", wantErr: `no key "missing"`},
		{expr: "$.data.items.id", wantErr: "not an object"},
		{expr: "$.data[0]", wantErr: "not an array"},
		{expr: "$.data[x]", wantErr: "bad index"},
		{expr: "$.data[0", wantErr: "unclosed"},
	} {
		path, err := parseJSONPath(tt.expr)
		var got any
		if err == nil {
			got, err = path.apply(doc)
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.expr, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s = %#v, %v; want %#v", tt.expr, got, err, tt.want)
		}
	}
}

func TestSensorPokes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		status   int
		args     map[string]any
		wantDone bool
		wantErr  string
	}{
		{name: "404 is not yet", status: 404},
		{name: "2xx is done", status: 200, wantDone: true},
		{name: "500 fails", status: 500, wantErr: "500"},
		{name: "allowlisted 503 is not yet", status: 503, args: map[string]any{"response_error_codes_allowlist": []any{503}}},
		{name: "404 fails when not allowlisted", status: 404, args: map[string]any{"response_error_codes_allowlist": []any{503}}, wantErr: "404"},
		{name: "unlisted 2xx is not yet", status: 200, args: map[string]any{"response_check": 202}},
		{name: "listed code is done", status: 202, args: map[string]any{"response_check": "202"}, wantDone: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := setup(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tt.status) })
			args := map[string]any{"endpoint": "health", "request_params": map[string]any{"q": "v"}}
			for k, v := range tt.args {
				args[k] = v
			}
			poke, err := NewSensor(nil).Poke(context.Background(), newContext(args, connections{DefaultConnID: rec.conn(t)}))
			if err != nil {
				t.Fatal(err)
			}
			done, _, err := poke(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || done != tt.wantDone {
				t.Fatalf("poke = %v, %v; want %v", done, err, tt.wantDone)
			}
			if got := rec.last(t); got.method != "GET" || got.rawQuery != "q=v" {
				t.Errorf("request = %s ?%s, want GET with request_params as query", got.method, got.rawQuery)
			}
		})
	}
}

func TestSensorWaitsUntilEndpointAnswers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	rec := setup(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls < 3 {
			w.WriteHeader(http.StatusNotFound)
		}
	})
	tc := newContext(map[string]any{"endpoint": "ready", "poke_interval": 0, "timeout": 60},
		connections{"ready_api": rec.conn(t)})
	tc.Args["http_conn_id"] = "ready_api"
	res, err := NewSensor(nil).Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if res.HasReturn {
		t.Errorf("sensor returned a value: %#v", res.ReturnValue)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("server saw %d pokes, want 3", calls)
	}
}

func TestFormEncodeEscapes(t *testing.T) {
	t.Parallel()
	got := formEncode(map[string]any{"k&": "a=b", "f": 1.5, "i": 3})
	want := url.Values{"k&": {"a=b"}, "f": {"1.5"}, "i": {"3"}}.Encode()
	if got != want {
		t.Errorf("formEncode = %q, want %q", got, want)
	}
}

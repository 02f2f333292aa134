package logserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is wrapped by Fetch's error when the worker has no such log
// (never written there, deleted, or the worker's log folder was wiped).
var ErrNotFound = errors.New("no such log on the worker")

// UnreachableError is Fetch's error when the worker's log server cannot be
// reached at all: the host is gone, the port is closed or filtered.
type UnreachableError struct {
	// BaseURL is the server that was tried.
	BaseURL string
	// Err is the transport's error.
	Err error
}

// Error says which server and, briefly, why ("connection refused").
func (e *UnreachableError) Error() string {
	reason := e.Err.Error()
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(e.Err, &dns):
		reason = dns.Error()
	case errors.As(e.Err, &op) && op.Err != nil:
		reason = op.Err.Error()
		// "connect: connection refused" says no more than its tail.
		reason = strings.TrimPrefix(reason, "connect: ")
	case errors.Is(e.Err, context.DeadlineExceeded):
		reason = "timed out"
	}
	return fmt.Sprintf("worker log server at %s unreachable: %s", e.BaseURL, reason)
}

// Unwrap returns the transport's error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// Fetch reads up to MaxChunk bytes of the log relPath (relative to the
// worker's logging.base_log_folder, with '/' separators) from byte offset
// on, from the log server at baseURL (http://host:port), and returns the
// offset to continue from. Nothing new is (nil, offset, nil). secretKey is
// webserver.secret_key; the request carries a token valid for 30 s. ctx
// bounds the request (logging.log_fetch_timeout_sec).
func Fetch(ctx context.Context, baseURL, secretKey, relPath string, offset int64) ([]byte, int64, error) {
	if secretKey == "" {
		return nil, offset, errors.New("fetch log: webserver.secret_key is empty")
	}
	if offset < 0 {
		return nil, offset, fmt.Errorf("fetch log: negative offset %d", offset)
	}
	segs := strings.Split(relPath, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.TrimSuffix(baseURL, "/") + "/log/" + strings.Join(segs, "/") + "?offset=" + strconv.FormatInt(offset, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, offset, fmt.Errorf("fetch log: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+signToken(secretKey, relPath, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, offset, &UnreachableError{BaseURL: baseURL, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxChunk+1))
	if err != nil {
		return nil, offset, &UnreachableError{BaseURL: baseURL, Err: err}
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, offset, fmt.Errorf("worker log server at %s has no %s: %w", baseURL, relPath, ErrNotFound)
	case http.StatusForbidden:
		return nil, offset, fmt.Errorf("worker log server at %s refused the request (is webserver.secret_key the same on every host, and are their clocks in sync?)", baseURL)
	default:
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return nil, offset, fmt.Errorf("worker log server at %s answered %s: %s", baseURL, resp.Status, msg)
	}
	if len(body) > MaxChunk {
		return nil, offset, fmt.Errorf("worker log server at %s answered more than %d bytes", baseURL, MaxChunk)
	}
	return body, offset + int64(len(body)), nil
}

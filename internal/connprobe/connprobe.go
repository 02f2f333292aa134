// Package connprobe tests connections as Airflow's test_connection does,
// for the REST API's /connections/test and `connections test`: http(s)
// connections with a GET of their base URL, sqlite ones by opening the
// database file. Other types are reported as not testable.
package connprobe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/secrets"
)

// probeTimeout bounds one connection test, so a request cannot hang on
// an unreachable host.
const probeTimeout = 10 * time.Second

// TestedMessage is Airflow's message for a test that passed.
const TestedMessage = "Connection successfully tested"

// Probe tests c and says how it went, within a bounded time.
func Probe(ctx context.Context, c *secrets.Connection) (bool, string) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	switch strings.ToLower(c.ConnType) {
	case "http", "https":
		return probeHTTP(ctx, c)
	case "sqlite":
		return probeSQLite(c.Host)
	}
	return false, fmt.Sprintf("Testing connections of type %q is not supported", c.ConnType)
}

// httpBaseURL builds the base URL as Airflow's HttpHook does: the host may
// carry its scheme; otherwise the schema field, else the conn_type, is
// the scheme.
func httpBaseURL(c *secrets.Connection) (string, error) {
	host := c.Host
	if host == "" {
		return "", errors.New("the connection has no host")
	}
	if !strings.Contains(host, "://") {
		scheme := strings.ToLower(c.ConnType)
		if c.Schema == "http" || c.Schema == "https" {
			scheme = c.Schema
		}
		host = scheme + "://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", errors.New("the host is not a valid http(s) URL")
	}
	if c.Port != 0 && u.Port() == "" {
		u.Host += ":" + strconv.Itoa(c.Port)
	}
	return u.String(), nil
}

func probeHTTP(ctx context.Context, c *secrets.Connection) (bool, string) {
	base, err := httpBaseURL(c)
	if err != nil {
		return false, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
	if err != nil {
		return false, err.Error()
	}
	if c.Login != "" {
		req.SetBasicAuth(c.Login, c.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The error names the URL, which holds no secret: credentials go
		// in a header.
		return false, err.Error()
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; the body does not
	// matter.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	if resp.StatusCode >= 400 {
		return false, fmt.Sprintf("%d:%s", resp.StatusCode, strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)+" "))
	}
	return true, TestedMessage
}

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// probeSQLite checks that path is an SQLite database: an existing regular
// file that is empty (SQLite's new database) or starts with its header.
func probeSQLite(path string) (bool, string) {
	if path == "" {
		return false, "the connection has no host (the database file)"
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Sprintf("cannot open %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return false, fmt.Sprintf("cannot read %s: %v", path, err)
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Sprintf("%s is not a regular file", path)
	}
	head := make([]byte, len(sqliteHeader))
	n, _ := io.ReadFull(f, head)
	if n == 0 && info.Size() == 0 {
		return true, TestedMessage
	}
	if !bytes.Equal(head[:n], sqliteHeader) {
		return false, fmt.Sprintf("%s is not an SQLite database", path)
	}
	return true, TestedMessage
}

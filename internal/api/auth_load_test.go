package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// TestBasicAuthBurstColdCache sends 200 requests/s for 5 s with Basic
// auth of 4 users whose credentials no cache holds yet, to a real server
// on loopback. bcrypt runs once per user (not once per request), every
// request is answered well within the bound, and nothing fails but
// deliberate shedding (503 with Retry-After and a problem body).
//
// The passwords are hashed at bcrypt's default cost (10), not the API
// tests' minimum: the point is a check that costs real CPU. It does not
// run in parallel with the package's other tests.
func TestBasicAuthBurstColdCache(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		t.Fatal(err)
	}
	const users = 4
	var oneCheck time.Duration // what one bcrypt check costs on this machine now
	for i := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(fmt.Sprint("pw-", i)), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		_ = bcrypt.CompareHashAndPassword(h, []byte("calibration"))
		oneCheck = max(oneCheck, time.Since(began))
		if err := st.UserCreate(ctx, &windsock.User{Username: fmt.Sprint("script", i), Email: fmt.Sprint(i, "@example.com"),
			Password: string(h), Active: true, Roles: []string{auth.RoleViewer}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default(t.TempDir())
	cfg.Webserver.SecretKey = "test-secret"
	// This test is about the password checks: the API's own concurrency
	// limit (TestShedding) would shed the burst while a slow check (the
	// race detector on a busy machine) holds its slots.
	cfg.API.MaxConcurrentRequests = rateBurst
	authn := auth.NewAuthenticator(st, cfg, nil, nil)
	// A check may wait for the others ahead of it, however slow the
	// machine: the race detector and a machine busy with other tests
	// make one check take seconds, and two running at once take longer
	// still. Shedding itself is TestConcurrentChecks' business.
	authn.MaxCheckWait = auth.DefaultMaxCheckWait + 4*users*oneCheck
	srv := httptest.NewServer((&Server{Store: st, Config: cfg, Version: "1", Authenticator: authn}).Handler())
	t.Cleanup(srv.Close)

	const rate, seconds = 200, 5 // rateBurst requests in all
	// The timeout only stops a hung request; the bound below judges time.
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: rate * seconds}}
	t.Cleanup(client.CloseIdleConnections)
	type result struct {
		status     int
		took       time.Duration
		retryAfter string
		body       []byte
		err        error
	}
	// burst sends the requests, paced, and returns each one's outcome.
	burst := func() []result {
		results := make([]result, rate*seconds)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range results {
			// Pacing, not synchronisation: request i leaves at i/rate s.
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			wg.Go(func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/v1/pools", nil)
				if err != nil {
					results[i].err = err
					return
				}
				req.SetBasicAuth(fmt.Sprint("script", i%users), fmt.Sprint("pw-", i%users))
				began := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					results[i] = result{err: err, took: time.Since(began)}
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = result{status: resp.StatusCode, took: time.Since(began), retryAfter: resp.Header.Get("Retry-After"), body: body, err: err}
			})
		}
		wg.Wait()
		return results
	}
	start := time.Now()
	results := burst()
	coldTook := time.Since(start)
	checks := authn.PasswordChecks()
	// The same burst again, every credential now cached: what serving it
	// costs on this machine now, without a single check. Under -race on a
	// host busy with other test binaries, that alone took over a minute.
	var warmSlowest time.Duration
	for _, r := range burst() {
		warmSlowest = max(warmSlowest, r.took)
	}
	// The bound scales with the machine: an answered request waits for a
	// few checks (one per credential, at most two at once), counted four
	// times over for the burst's own load, plus what the warm burst's
	// slowest request took, twice, plus 5 s. A request queued behind one
	// check per request (the bug) waits hundreds of checks.
	bound := authn.MaxCheckWait + 2*warmSlowest + 5*time.Second

	var slowest time.Duration
	shed := 0
	for i, r := range results {
		slowest = max(slowest, r.took)
		switch {
		case r.err != nil:
			t.Fatalf("request %d: %v after %v", i, r.err, r.took)
		case r.status == http.StatusServiceUnavailable || r.status == http.StatusTooManyRequests:
			// Shed by the bcrypt queue (503) or by the API's concurrency
			// limit in front of every handler (429).
			shed++
			var p Problem
			if r.retryAfter == "" || json.Unmarshal(r.body, &p) != nil || p.Status != r.status {
				t.Fatalf("request %d shed without Retry-After or a problem body: %q %s", i, r.retryAfter, r.body)
			}
		case r.status != http.StatusOK:
			t.Fatalf("request %d: status %d %s", i, r.status, r.body)
		}
		if r.took > bound {
			t.Errorf("request %d took %v, over %v", i, r.took, bound)
		}
	}
	t.Logf("%d requests in %v: slowest %v (bound %v, one check %v, warm slowest %v), %d shed, %d bcrypt checks",
		len(results), coldTook, slowest, bound, oneCheck, warmSlowest, shed, checks)
	// A credential whose check was shed ran none; none ran twice.
	if checks < 1 || checks > users {
		t.Errorf("bcrypt ran %d times for %d distinct credentials, want 1 to %d", checks, users, users)
	}
	// Served, not shed: a little shedding is allowed for a machine busy
	// with other tests, none is seen on a quiet one.
	if shed > len(results)/4 {
		t.Errorf("%d of %d requests were shed", shed, len(results))
	}
	// Only real verifications count as logins for Basic auth.
	logins := 0
	for i := range users {
		u, err := st.UserGet(ctx, fmt.Sprint("script", i))
		if err != nil {
			t.Fatal(err)
		}
		logins += u.LoginCount
	}
	if int64(logins) != checks {
		t.Errorf("login_count adds up to %d over the users, want one per bcrypt check (%d)", logins, checks)
	}
}

// TestBasicAuthThrottled: after 5 wrong passwords of one user from one
// address, the API answers 429 with Retry-After and a problem body, even
// to the right password; other users are not affected; the failures are
// counted in fail_login_count.
func TestBasicAuthThrottled(t *testing.T) {
	t.Parallel()
	// A day's window, so that a slow machine cannot let it pass.
	e := setup(t, func(c *config.Config) { c.Webserver.AuthRateLimit = "5 per 1 day" })
	basic := func(user, pw string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pw) }
	}
	for range 5 {
		e.problem(e.doWith("GET", "/api/v1/pools", nil, basic("viewer", "wrong")), http.StatusUnauthorized, "")
	}
	for _, pw := range []string{"wrong", password} {
		r := e.doWith("GET", "/api/v1/pools", nil, basic("viewer", pw))
		p := e.problem(r, http.StatusTooManyRequests, "")
		if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 86400 || p.Title != "Too Many Requests" {
			t.Fatalf("throttled answer: Retry-After %q, problem %+v", r.header.Get("Retry-After"), p)
		}
	}
	e.ok(e.doWith("GET", "/api/v1/pools", nil, basic("op", password)), http.StatusOK, nil)
	u, err := e.st.UserGet(e.ctx, "viewer")
	if err != nil || u.FailLoginCount != 5 {
		t.Fatalf("fail_login_count = %d (%v), want 5", u.FailLoginCount, err)
	}
}

// TestRetryLaterProblems: throttling and shedding errors become 429 and
// 503 problems with Retry-After in whole seconds, rounded up.
func TestRetryLaterProblems(t *testing.T) {
	t.Parallel()
	s := &Server{}
	for _, tc := range []struct {
		code   string
		after  time.Duration
		status int
		header string
	}{
		{windsock.ETHROTTLED, 1500 * time.Millisecond, http.StatusTooManyRequests, "2"},
		{windsock.EUNAVAILABLE, 5 * time.Second, http.StatusServiceUnavailable, "5"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/v1/pools", nil)
		s.writeError(rec, req, windsock.RetryLater(tc.code, tc.after, "try later"))
		var p Problem
		if err := json.NewDecoder(bytes.NewReader(rec.Body.Bytes())).Decode(&p); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.status || rec.Header().Get("Retry-After") != tc.header || p.Status != tc.status ||
			p.Detail != "try later" || rec.Header().Get("Content-Type") != problemContentType {
			t.Errorf("%s: %d Retry-After %q %+v", tc.code, rec.Code, rec.Header().Get("Retry-After"), p)
		}
	}
}

// rateBurst is how many requests TestBasicAuthBurstColdCache sends.
const rateBurst = 200 * 5

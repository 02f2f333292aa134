package postgres_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/store/storetest"
)

// TestListenerForgetsClosedEnvironments: stores of three environments
// (schemas) of one database share the process's listening connection;
// once two of them stop listening (their environments closed), the
// connection LISTENs for the third only, which still gets its
// notifications.
func TestListenerForgetsClosedEnvironments(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	// The other tests' stores share the listener of their URL: these
	// reach the same server as "localhost", which has a listener of its
	// own in this process, so only the three environments below count.
	u, err := url.Parse(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Skipf("%s is not on 127.0.0.1: no second name for the server", storetest.PostgresURLEnv)
	}
	u.Host = "localhost:" + u.Port()
	srv = &server{url: u.String(), admin: srv.admin}
	type env struct {
		schema string
		stop   context.CancelFunc
		queued <-chan string
	}
	var envs []env
	for range 3 {
		st := srv.open(t)
		t.Cleanup(func() { _ = st.Close() })
		var schema string
		if err := st.DB().QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(t.Context())
		t.Cleanup(stop)
		queued, err := st.Listen(ctx, store.ChannelQueued)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Listen(ctx, store.ChannelTryDone); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env{schema, stop, queued})
	}
	listened := func() []string {
		scopes, err := postgres.ListenedScopes(srv.url)
		if err != nil {
			t.Fatal(err)
		}
		return scopes
	}
	for _, e := range envs {
		if !slices.Contains(listened(), e.schema) {
			t.Fatalf("the listener does not LISTEN for %s, which listens", e.schema)
		}
	}

	envs[0].stop()
	envs[1].stop()
	// Other tests of the package share the listener, so only these
	// schemas are looked at. Each listen's end is seen by a goroutine,
	// so this waits for the reconnection that drops them.
	timeout := time.After(time.Minute) // a bound for a loaded machine only
	for {
		now := listened()
		if !slices.Contains(now, envs[0].schema) && !slices.Contains(now, envs[1].schema) && slices.Contains(now, envs[2].schema) {
			break
		}
		select {
		case <-timeout:
			t.Fatalf("the listener still LISTENs for %v", now)
		case <-envs[2].queued: // reconnections tell it to look again
		}
	}
	channel := sqlstore.ChannelName(envs[2].schema, store.ChannelQueued)
	if _, err := srv.admin.DB().ExecContext(t.Context(), "SELECT pg_notify($1, 'hello')", channel); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case got, ok := <-envs[2].queued:
			if !ok {
				t.Fatal("the environment left listening stopped getting notifications")
			}
			if got == "hello" {
				return
			}
		case <-timeout:
			t.Fatal("the environment left listening got no notification")
		}
	}
}

// TestListenAgainKeepsTheConnection: a scope whose last listener just
// went is dropped from the scopes wanted while the held connection still
// LISTENs for it (it is not worth a reconnection on its own); a Listen for
// it then takes that connection as it is, instead of closing it and
// making another, and gets the scope's notifications on it.
func TestListenAgainKeepsTheConnection(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	l, err := postgres.NewListener(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"again_a", "again_b", "again_c"}
	stops := map[string]context.CancelFunc{}
	for _, scope := range scopes {
		ctx, stop := context.WithCancel(t.Context())
		t.Cleanup(stop)
		if _, err := l.Listen(ctx, scope, sqlstore.ChannelName(scope, store.ChannelQueued)); err != nil {
			t.Fatal(err)
		}
		stops[scope] = stop
	}
	pid, listened, _ := l.State()
	if pid == 0 || !slices.Equal(listened, scopes) {
		t.Fatalf("held connection %d LISTENs for %v, want %v", pid, listened, scopes)
	}

	// The last listener of again_a goes: one stale scope of three is
	// kept on the connection. Its end is seen by a goroutine: wait for it.
	stops["again_a"]()
	waitUntil(t, func() bool { _, _, wanted := l.State(); return !slices.Contains(wanted, "again_a") })
	if now, listened, _ := l.State(); now != pid || !slices.Contains(listened, "again_a") {
		t.Fatalf("after the scope went: connection %d LISTENs for %v; want %d still, with again_a", now, listened, pid)
	}

	channel := sqlstore.ChannelName("again_a", store.ChannelQueued)
	got, err := l.Listen(t.Context(), "again_a", channel)
	if err != nil {
		t.Fatal(err)
	}
	if now, listened, wanted := l.State(); now != pid || !slices.Contains(listened, "again_a") || !slices.Contains(wanted, "again_a") {
		t.Fatalf("after listening again: connection %d LISTENs for %v (wanted %v); want the same connection %d", now, listened, wanted, pid)
	}
	if _, err := srv.admin.DB().ExecContext(t.Context(), "SELECT pg_notify($1, 'hello')", channel); err != nil {
		t.Fatal(err)
	}
	select {
	case payload := <-got:
		if payload != "hello" {
			t.Fatalf("first delivery %q, want hello (a reconnection tells listeners to look again)", payload)
		}
	case <-time.After(time.Minute): // a bound for a loaded machine only
		t.Fatal("the scope listened for again got no notification")
	}
}

// waitUntil waits for cond, looking again every few milliseconds, for a
// minute at most (a bound for a loaded machine only).
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(time.Minute)
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("condition not met within a minute")
		}
	}
}

package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlstore"
)

// coordinator carries one store's notifications with NOTIFY/LISTEN and its
// critical sections with advisory transaction locks, both scoped by its
// schema. Its listeners are served by the listener of its database, which
// every store of the process on that database shares.
type coordinator struct {
	scope string
	l     *listener
}

func (c *coordinator) NotifySQL() string { return "SELECT pg_notify(?, ?)" }

func (c *coordinator) TxLockSQL() string { return "SELECT pg_advisory_xact_lock(?)" }

func (c *coordinator) Scope() string { return c.scope }

// Listen delivers the notifications sent on channel (scoped) until ctx
// ends.
func (c *coordinator) Listen(ctx context.Context, name string) (<-chan string, error) {
	return c.l.listen(ctx, c.scope, name)
}

// listener holds one connection that LISTENs on the channels of every
// scope (environment) of a database that this process's stores use: a
// process holds one connection for its notifications however many
// environments it runs, which matters when dozens of them share a
// server's max_connections.
type listener struct {
	connConfig *pgx.ConnConfig

	mu     sync.Mutex
	scopes []string                          // every scope listened for, in order of arrival
	subs   map[string]map[*subscription]bool // channel name -> listeners
	// scopeSubs counts each scope's listeners: a scope whose last one
	// goes (its environment closed) is dropped from scopes, so that the
	// connection stops LISTENing on its channels.
	scopeSubs map[string]int
	// listened are the scopes the held connection LISTENs for.
	listened []string
	// started is set while the connection is made or held; conn is the
	// one held (nil while it is being made).
	started bool
	conn    *pgx.Conn
	// connecting is set while the first connection is made (by a listen
	// call, whose error it reports).
	connecting bool
	// waiting are the Listen calls waiting for a connection that LISTENs
	// on their scope's channels.
	waiting []*connectAttempt
	stop    context.CancelFunc
}

// connectAttempt is one Listen call's wait for a connection: ready is
// closed when one LISTENs on scope's channels, or the first connection
// failed (err says why).
type connectAttempt struct {
	scope string
	ready chan struct{}
	err   error
}

// subscription is one Listen call; missed is set when it fell behind.
type subscription struct {
	out    chan string
	missed bool
}

// channelsOf returns every channel name of the scopes.
func channelsOf(scopes []string) []string {
	var names []string
	for _, scope := range scopes {
		for _, ch := range store.Channels() {
			names = append(names, sqlstore.ChannelName(scope, ch))
		}
	}
	return names
}

// Reconnection backoff of the listening connection when it breaks (a
// server restart, a network cut): from listenRetryMin doubling to
// listenRetryMax.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// listen delivers the notifications sent on channel of scope until ctx
// ends, when the returned channel is closed. The connection is made by the
// first listen, which fails if the database cannot be reached; a listen
// for a scope the connection does not LISTEN for yet makes it reconnect
// with that scope's channels too (the others get "": look again); one
// that it still LISTENs for, though no listener wanted it any more, is
// taken as it is. Either
// way the channels are LISTENed before listen returns, so nothing
// committed afterwards is missed. Later breaks are retried with backoff,
// and each reconnection delivers "" because notifications sent meanwhile
// are lost.
func (l *listener) listen(ctx context.Context, scope, name string) (<-chan string, error) {
	if !slices.Contains(channelsOf([]string{scope}), name) {
		return nil, fmt.Errorf("listen: %q is not one of the store's channels", name)
	}
	sub := &subscription{out: make(chan string, 256)}
	l.mu.Lock()
	if l.subs == nil {
		l.subs = map[string]map[*subscription]bool{}
	}
	if l.subs[name] == nil {
		l.subs[name] = map[*subscription]bool{}
	}
	l.subs[name][sub] = true
	if l.scopeSubs == nil {
		l.scopeSubs = map[string]int{}
	}
	l.scopeSubs[scope]++
	var wait *connectAttempt
	newScope := !slices.Contains(l.scopes, scope)
	// A new scope needs a connection that LISTENs for it, unless it was
	// dropped while the held connection still LISTENs for it (see
	// unsubscribe): that one is taken as it is. Should it be closing, run
	// makes the next one with l.scopes, this scope among them, and tells
	// every listener to look again.
	unheard := newScope && (l.conn == nil || !slices.Contains(l.listened, scope))
	if newScope {
		l.scopes = append(l.scopes, scope)
	}
	switch {
	case !l.started:
		// The first connection is made here, so that its failure is
		// this call's error.
		wait = &connectAttempt{scope: scope, ready: make(chan struct{})}
		l.started = true
		var loopCtx context.Context
		loopCtx, l.stop = context.WithCancel(context.Background())
		scopes := slices.Clone(l.scopes)
		l.connecting = true
		l.mu.Unlock()
		conn, err := l.connect(ctx, scopes)
		l.mu.Lock()
		l.connecting = false
		if err != nil {
			l.started = false
			l.stop()
			wait.err = err
			l.fail(err) // others that waited for this first connection
			close(wait.ready)
		} else {
			l.conn, l.listened = conn, scopes
			if l.ready(scopes) {
				// Scopes came while connecting: run reconnects with them.
				_ = conn.PgConn().Conn().Close()
			}
			close(wait.ready)
			go l.run(loopCtx, conn)
		}
	case unheard || l.connecting:
		// Wait for the first connection, being made; or have the one held
		// replaced by one that LISTENs for this scope too.
		wait = &connectAttempt{scope: scope, ready: make(chan struct{})}
		l.waiting = append(l.waiting, wait)
		if unheard && l.conn != nil {
			_ = l.conn.PgConn().Conn().Close() // run reconnects
		}
	}
	l.mu.Unlock()
	if wait != nil {
		select {
		case <-wait.ready:
		case <-ctx.Done():
			// No longer waiting: a waiter left behind for a scope that
			// goes with this listener would never be released, and would
			// keep run reconnecting at once, again and again.
			l.mu.Lock()
			l.waiting = slices.DeleteFunc(l.waiting, func(a *connectAttempt) bool { return a == wait })
			l.mu.Unlock()
			l.unsubscribe(scope, name, sub)
			return nil, ctx.Err()
		}
		if err := wait.err; err != nil {
			l.unsubscribe(scope, name, sub)
			return nil, err
		}
	}
	go func() {
		<-ctx.Done()
		l.unsubscribe(scope, name, sub)
	}()
	return sub.out, nil
}

// ready releases the Listen calls waiting for a connection that LISTENs
// on scopes; the caller holds l.mu. It reports whether some still wait
// (for a scope that came meanwhile).
func (l *listener) ready(scopes []string) bool {
	left := l.waiting[:0]
	for _, a := range l.waiting {
		// Released too when no listener wants its scope any more: it can
		// only be one that gave up waiting.
		if slices.Contains(scopes, a.scope) || !slices.Contains(l.scopes, a.scope) {
			close(a.ready)
			continue
		}
		left = append(left, a)
	}
	l.waiting = left
	return len(left) > 0
}

// fail ends the Listen calls waiting for a connection with err; the
// caller holds l.mu.
func (l *listener) fail(err error) {
	for _, a := range l.waiting {
		a.err = err
		close(a.ready)
	}
	l.waiting = nil
}

// unsubscribe removes a listener of scope and closes its channel; the
// connection is let go with the last one. The last listener of a scope
// takes the scope along, so that the process does not LISTEN for closed
// environments for as long as it runs: the next connection LISTENs for
// the scopes left. One is made at once (closing the held one, as a new
// scope does, the others told to look again) only when the closed scopes
// it still LISTENs for are as many as the open ones: environments that
// close one after another cost a few reconnections, not one each, and a
// connection never LISTENs for more than twice the scopes in use.
func (l *listener) unsubscribe(scope, name string, sub *subscription) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.subs[name][sub] {
		return
	}
	delete(l.subs[name], sub)
	if len(l.subs[name]) == 0 {
		delete(l.subs, name)
	}
	close(sub.out)
	if l.scopeSubs[scope]--; l.scopeSubs[scope] <= 0 {
		delete(l.scopeSubs, scope)
		l.scopes = slices.DeleteFunc(l.scopes, func(s string) bool { return s == scope })
		if len(l.subs) > 0 && l.conn != nil && l.staleScopes() >= len(l.scopes) {
			_ = l.conn.PgConn().Conn().Close() // run reconnects without them
		}
	}
	if len(l.subs) == 0 && l.stop != nil {
		l.stop()
	}
}

// staleScopes counts the scopes the held connection LISTENs for that no
// listener wants any more; the caller holds l.mu.
func (l *listener) staleScopes() int {
	n := 0
	for _, s := range l.listened {
		if !slices.Contains(l.scopes, s) {
			n++
		}
	}
	return n
}

// run waits for notifications on conn and hands them out, reconnecting
// when the connection breaks (or is closed to LISTEN for a new scope),
// until no listener is left.
func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			l.dispatch(n.Channel, n.Payload)
			continue
		}
		_ = conn.Close(context.Background())
		l.mu.Lock()
		l.conn, l.listened = nil, nil
		l.mu.Unlock()
		for {
			if l.idle(&ctx) {
				return
			}
			wait := time.Duration(0) // a new scope: at once
			l.mu.Lock()
			if len(l.waiting) == 0 {
				wait = listenRetryMin
			}
			l.mu.Unlock()
			for conn = nil; conn == nil; wait = min(max(2*wait, listenRetryMin), listenRetryMax) {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
					l.mu.Lock()
					scopes := slices.Clone(l.scopes)
					l.mu.Unlock()
					c, err := l.connect(ctx, scopes)
					if err != nil {
						// A new scope's Listen fails, as a store's
						// first Listen does when the database
						// cannot be reached; the others wait.
						l.mu.Lock()
						l.fail(err)
						l.mu.Unlock()
					} else {
						l.mu.Lock()
						more := l.ready(scopes)
						l.conn, l.listened = c, scopes
						l.mu.Unlock()
						conn = c
						if more {
							// A scope came while connecting: again, with it.
							_ = c.PgConn().Conn().Close()
						}
					}
				}
				if ctx.Err() != nil {
					break
				}
			}
			if conn != nil {
				break
			}
		}
		l.dispatch("", "") // to every listener: look again
	}
}

// idle reports whether no listener is left (and marks the loop stopped);
// when listeners came back after a stop, it gives ctx a fresh lifetime.
func (l *listener) idle(ctx *context.Context) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.subs) == 0 {
		l.started = false
		for _, a := range l.waiting {
			close(a.ready) // their listeners are gone: nothing to wait for
		}
		l.waiting = nil
		return true
	}
	if (*ctx).Err() != nil {
		*ctx, l.stop = context.WithCancel(context.Background())
	}
	return false
}

// dispatch hands a payload to the listeners of a channel ("" channel: to
// all). A listener that is behind gets "" ("look again") once it catches
// up, instead of blocking the others.
func (l *listener) dispatch(channel, payload string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, subs := range l.subs {
		if channel != "" && name != channel {
			continue
		}
		for sub := range subs {
			if sub.missed {
				select {
				case sub.out <- "":
					sub.missed = false
				default:
				}
			}
			select {
			case sub.out <- payload:
			default:
				sub.missed = true
			}
		}
	}
}

// connect opens the listening connection and LISTENs on every channel of
// scopes.
func (l *listener) connect(ctx context.Context, scopes []string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.connConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	for _, name := range channelsOf(scopes) {
		if _, err := conn.Exec(ctx, `LISTEN "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			_ = conn.Close(context.Background())
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return conn, nil
}

package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlstore"
)

// coordinator carries notifications with NOTIFY/LISTEN and critical
// sections with advisory transaction locks. All of a store's listeners
// share one connection, LISTENing on every channel the store knows: a
// process holds one connection for its notifications, which matters when
// dozens of processes share a server's max_connections.
type coordinator struct {
	connConfig *pgx.ConnConfig
	scope      string

	mu      sync.Mutex
	subs    map[string]map[*subscription]bool // channel name -> listeners
	started bool
	attempt *connectAttempt // the connection being made or made
	stop    context.CancelFunc
}

// connectAttempt is one making of the listening connection: ready is
// closed when it LISTENs or failed, err says why it failed.
type connectAttempt struct {
	ready chan struct{}
	err   error
}

// subscription is one Listen call; missed is set when it fell behind.
type subscription struct {
	out    chan string
	missed bool
}

func (c *coordinator) NotifySQL() string { return "SELECT pg_notify(?, ?)" }

func (c *coordinator) TxLockSQL() string { return "SELECT pg_advisory_xact_lock(?)" }

func (c *coordinator) Scope() string { return c.scope }

// knownChannels are the names of every channel of this store's scope.
func (c *coordinator) knownChannels() []string {
	var names []string
	for _, ch := range store.Channels() {
		names = append(names, sqlstore.ChannelName(c.scope, ch))
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

// Listen delivers the notifications sent on channel (scoped) until ctx
// ends, when the returned channel is closed. The store's connection is
// made by the first Listen, which fails if the database cannot be
// reached; it LISTENs before any Listen returns, so nothing committed
// afterwards is missed. Later breaks are retried with backoff, and each
// reconnection delivers "" because notifications sent meanwhile are lost.
func (c *coordinator) Listen(ctx context.Context, name string) (<-chan string, error) {
	known := false
	for _, k := range c.knownChannels() {
		known = known || k == name
	}
	if !known {
		return nil, fmt.Errorf("listen: %q is not one of the store's channels", name)
	}
	sub := &subscription{out: make(chan string, 256)}
	c.mu.Lock()
	if c.subs == nil {
		c.subs = map[string]map[*subscription]bool{}
	}
	if c.subs[name] == nil {
		c.subs[name] = map[*subscription]bool{}
	}
	c.subs[name][sub] = true
	if !c.started {
		a := &connectAttempt{ready: make(chan struct{})}
		c.started, c.attempt = true, a
		var loopCtx context.Context
		loopCtx, c.stop = context.WithCancel(context.Background())
		c.mu.Unlock()
		conn, err := c.connect(ctx)
		c.mu.Lock()
		a.err = err
		close(a.ready)
		if err == nil {
			go c.run(loopCtx, conn)
		} else {
			c.started = false
			c.stop()
		}
	}
	a := c.attempt
	c.mu.Unlock()
	<-a.ready
	if err := a.err; err != nil {
		c.unsubscribe(name, sub)
		return nil, err
	}
	go func() {
		<-ctx.Done()
		c.unsubscribe(name, sub)
	}()
	return sub.out, nil
}

// unsubscribe removes a listener and closes its channel; the connection
// is let go with the last one.
func (c *coordinator) unsubscribe(name string, sub *subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.subs[name][sub] {
		return
	}
	delete(c.subs[name], sub)
	if len(c.subs[name]) == 0 {
		delete(c.subs, name)
	}
	close(sub.out)
	if len(c.subs) == 0 && c.stop != nil {
		c.stop()
	}
}

// run waits for notifications on conn and hands them out, reconnecting
// when the connection breaks, until no listener is left.
func (c *coordinator) run(ctx context.Context, conn *pgx.Conn) {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			c.dispatch(n.Channel, n.Payload)
			continue
		}
		_ = conn.Close(context.Background())
		for {
			if c.idle(&ctx) {
				return
			}
			wait := listenRetryMin
			for conn = nil; conn == nil; wait = min(2*wait, listenRetryMax) {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
					conn, _ = c.connect(ctx)
				}
				if ctx.Err() != nil {
					break
				}
			}
			if conn != nil {
				break
			}
		}
		c.dispatch("", "") // to every listener: look again
	}
}

// idle reports whether no listener is left (and marks the loop stopped);
// when listeners came back after a stop, it gives ctx a fresh lifetime.
func (c *coordinator) idle(ctx *context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.subs) == 0 {
		c.started = false
		return true
	}
	if (*ctx).Err() != nil {
		*ctx, c.stop = context.WithCancel(context.Background())
	}
	return false
}

// dispatch hands a payload to the listeners of a channel ("" channel: to
// all). A listener that is behind gets "" ("look again") once it catches
// up, instead of blocking the others.
func (c *coordinator) dispatch(channel, payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, subs := range c.subs {
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

// connect opens the listening connection and LISTENs on every channel.
func (c *coordinator) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.connConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	for _, name := range c.knownChannels() {
		if _, err := conn.Exec(ctx, `LISTEN "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			_ = conn.Close(context.Background())
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	return conn, nil
}

package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// ServerConnLimit bounds the connections this process opens to one
// PostgreSQL server (host and port), across every environment it runs, so
// that forty environments in one process fit in a server's
// max_connections (Airflow's default server has 100) with room for other
// processes. Each store still has its own pool of up to maxOpenConns, in
// its own schema; when the bound is reached, idle connections of every
// store are closed to make room, and a store that needs one more waits.
// The listening connection of each database (one for all its stores) is
// not counted. Set it before the first Open.
var ServerConnLimit = 64

// shared are the resources of this process's stores: one listener per
// database (and user), one connection budget per server.
var shared struct {
	mu        sync.Mutex
	listeners map[string]*listener
	budgets   map[string]*connBudget
}

// sharedListener returns the listener of cfg's database, made on first use.
func sharedListener(cfg *pgx.ConnConfig) *listener {
	key := serverKey(cfg) + "/" + cfg.Database + "/" + cfg.User
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.listeners == nil {
		shared.listeners = map[string]*listener{}
	}
	l := shared.listeners[key]
	if l == nil {
		l = &listener{connConfig: cfg}
		shared.listeners[key] = l
	}
	return l
}

// sharedBudget returns the connection budget of cfg's server.
func sharedBudget(cfg *pgx.ConnConfig) *connBudget {
	key := serverKey(cfg)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.budgets == nil {
		shared.budgets = map[string]*connBudget{}
	}
	b := shared.budgets[key]
	if b == nil {
		b = &connBudget{slots: make(chan struct{}, max(ServerConnLimit, 1)), dbs: map[*sql.DB]bool{}}
		shared.budgets[key] = b
	}
	return b
}

func serverKey(cfg *pgx.ConnConfig) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// connBudget counts the open connections of the stores of one server.
type connBudget struct {
	slots chan struct{} // one token per open connection

	mu       sync.Mutex
	dbs      map[*sql.DB]bool
	trimming atomic.Bool
}

func (b *connBudget) add(db *sql.DB) {
	b.mu.Lock()
	b.dbs[db] = true
	b.mu.Unlock()
}

func (b *connBudget) remove(db *sql.DB) {
	b.mu.Lock()
	delete(b.dbs, db)
	b.mu.Unlock()
}

// acquire takes a slot for a new connection; when none is free it has
// every store close its idle connections and waits for a slot, or ctx.
func (b *connBudget) acquire(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	if b.trimming.CompareAndSwap(false, true) {
		go b.trimIdle()
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *connBudget) release() { <-b.slots }

// trimIdle closes the idle connections of every store (their pools
// reopen connections as they need them).
func (b *connBudget) trimIdle() {
	defer b.trimming.Store(false)
	b.mu.Lock()
	dbs := make([]*sql.DB, 0, len(b.dbs))
	for db := range b.dbs {
		dbs = append(dbs, db)
	}
	b.mu.Unlock()
	for _, db := range dbs {
		db.SetMaxIdleConns(0)
		db.SetMaxIdleConns(maxIdleConns)
	}
}

// budgetedConnector opens pgx connections within a budget.
type budgetedConnector struct {
	driver.Connector
	budget *connBudget
}

func (c budgetedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.budget.acquire(ctx); err != nil {
		return nil, err
	}
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		c.budget.release()
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		c.budget.release()
		return nil, errors.New("postgres: unexpected driver connection type")
	}
	return &budgetedConn{Conn: pc, release: c.budget.release}, nil
}

// budgetedConn gives its slot back when closed; every other method is
// pgx's (database/sql looks for them on the connection).
type budgetedConn struct {
	*stdlib.Conn
	once    sync.Once
	release func()
}

func (c *budgetedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

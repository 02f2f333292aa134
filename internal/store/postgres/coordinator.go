package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// coordinator carries notifications with NOTIFY/LISTEN and critical
// sections with advisory transaction locks.
type coordinator struct {
	connConfig *pgx.ConnConfig
	scope      string
}

func (c *coordinator) NotifySQL() string { return "SELECT pg_notify(?, ?)" }

func (c *coordinator) TxLockSQL() string { return "SELECT pg_advisory_xact_lock(?)" }

func (c *coordinator) Scope() string { return c.scope }

// channelName fits a scoped channel into PostgreSQL's 63-byte identifiers.
func channelName(scoped string) string {
	if len(scoped) <= 63 {
		return scoped
	}
	sum := sha256.Sum256([]byte(scoped))
	return hex.EncodeToString(sum[:16])
}

// Reconnection backoff of a listener whose connection broke (a server
// restart, a network cut): from listenRetryMin doubling to listenRetryMax.
const (
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 5 * time.Second
)

// Listen holds a connection of its own LISTENing on channel. The first
// connection is made before it returns, so a bad database is an error
// here; later breaks are retried with backoff until ctx ends, and each
// reconnection delivers "" because notifications sent meanwhile are lost.
func (c *coordinator) Listen(ctx context.Context, channel string) (<-chan string, error) {
	name := channelName(channel)
	conn, err := c.connect(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make(chan string, 256)
	go func() {
		defer close(out)
		missed := false
		send := func(p string) {
			if missed {
				select {
				case out <- "":
					missed = false
				default:
				}
			}
			select {
			case out <- p:
			default:
				missed = true // the listener is behind; it will be told to look again
			}
		}
		for {
			n, err := conn.WaitForNotification(ctx)
			if err == nil {
				send(n.Payload)
				continue
			}
			_ = conn.Close(context.Background())
			if ctx.Err() != nil {
				return
			}
			wait := listenRetryMin
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
				if conn, err = c.connect(ctx, name); err == nil {
					break
				}
				wait = min(2*wait, listenRetryMax)
			}
			send("")
		}
	}()
	return out, nil
}

func (c *coordinator) connect(ctx context.Context, name string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.connConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("listen: %w", err)
	}
	return conn, nil
}

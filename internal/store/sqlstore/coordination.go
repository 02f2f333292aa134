package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Coordinator is how a database carries coordination between processes
// (PostgreSQL: NOTIFY, LISTEN and advisory locks). A store without one
// belongs to one process, as an SQLite file does: notifications are
// delivered within the process and the single write connection already
// makes every transaction exclusive.
type Coordinator interface {
	// NotifySQL is a statement taking (channel, payload) that sends a
	// notification when its transaction commits.
	NotifySQL() string
	// TxLockSQL is a statement taking one int64 key that takes an
	// exclusive lock held until the transaction ends.
	TxLockSQL() string
	// Listen delivers the notifications sent on channel (already scoped)
	// until ctx ends; "" after a reconnection.
	Listen(ctx context.Context, channel string) (<-chan string, error)
	// Scope tells this store's notifications and locks apart from those
	// of other stores in the same database (its schema).
	Scope() string
}

// coordination is shared by a store and its transactions' queries.
type coordination struct {
	db  Coordinator // nil: in-process
	hub hub
}

// SetCoordinator makes the store coordinate through its database; call it
// before the store is used.
func (s *Store) SetCoordinator(c Coordinator) { s.co.db = c }

func (c *coordination) channel(name string) string {
	if c.db == nil {
		return name
	}
	return ChannelName(c.db.Scope(), name)
}

// ChannelName is the database's name for a store's channel: scope:name,
// hashed when longer than PostgreSQL's 63-byte identifiers. Notify and
// Listen both use it, so they always meet.
func ChannelName(scope, name string) string {
	scoped := scope + ":" + name
	if len(scoped) <= 63 {
		return scoped
	}
	sum := sha256.Sum256([]byte(scoped))
	return hex.EncodeToString(sum[:16])
}

// Listen delivers the payloads sent on channel until ctx ends.
func (s *Store) Listen(ctx context.Context, channel string) (<-chan string, error) {
	if s.co.db != nil {
		ch, err := s.co.db.Listen(ctx, s.co.channel(channel))
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", channel, err)
		}
		return ch, nil
	}
	return s.co.hub.subscribe(ctx, channel), nil
}

// Notify sends payload on channel when the transaction commits.
func (q *queries) Notify(ctx context.Context, channel, payload string) error {
	if q.co.db != nil {
		if _, err := q.exec(ctx, q.co.db.NotifySQL(), q.co.channel(channel), payload); err != nil {
			return fmt.Errorf("notify %s: %w", channel, err)
		}
		return nil
	}
	if q.tx != nil {
		q.pending = append(q.pending, notice{channel, payload})
		return nil
	}
	q.co.hub.publish(channel, payload)
	return nil
}

// TxLock takes the named exclusive lock until the transaction ends.
func (q *queries) TxLock(ctx context.Context, name string) error {
	if q.tx == nil {
		return errors.New("lock " + name + ": only inside a transaction")
	}
	if q.co.db == nil {
		return nil // the write transaction is exclusive already
	}
	h := fnv.New64a()
	h.Write([]byte(q.co.channel(name)))
	if _, err := q.exec(ctx, q.co.db.TxLockSQL(), int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// JobListAlive returns the running jobs of a type heartbeating since since.
func (q *queries) JobListAlive(ctx context.Context, jobType string, since time.Time) ([]*windsock.Job, error) {
	rows, err := q.query(ctx, `SELECT `+jobColumns+`
		FROM job WHERE job_type = ? AND state = ? AND latest_heartbeat >= ?
		ORDER BY id`, jobType, windsock.JobRunning, utc(since))
	if err != nil {
		return nil, fmt.Errorf("list live jobs: %w", err)
	}
	jobs, err := scanJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("list live jobs: %w", err)
	}
	return jobs, nil
}

// notice is a notification waiting for its transaction to commit.
type notice struct{ channel, payload string }

// hub delivers notifications within the process.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[*subscriber]bool
}

// subscriber queues what was published to it so that a publisher never
// blocks on a slow listener; past maxBacklog it drops the backlog and
// sends "" ("look again") instead.
type subscriber struct {
	mu     sync.Mutex
	queue  []string
	signal chan struct{}
}

const maxBacklog = 4096

func (h *hub) subscribe(ctx context.Context, channel string) <-chan string {
	sub := &subscriber{signal: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[*subscriber]bool{}
	}
	if h.subs[channel] == nil {
		h.subs[channel] = map[*subscriber]bool{}
	}
	h.subs[channel][sub] = true
	h.mu.Unlock()

	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer func() {
			h.mu.Lock()
			delete(h.subs[channel], sub)
			h.mu.Unlock()
		}()
		for {
			sub.mu.Lock()
			batch := sub.queue
			sub.queue = nil
			sub.mu.Unlock()
			for _, p := range batch {
				select {
				case out <- p:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-sub.signal:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (h *hub) publish(channel, payload string) {
	h.mu.Lock()
	subs := make([]*subscriber, 0, len(h.subs[channel]))
	for s := range h.subs[channel] {
		subs = append(subs, s)
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.mu.Lock()
		if len(s.queue) >= maxBacklog {
			s.queue = append(s.queue[:0], "")
		} else {
			s.queue = append(s.queue, payload)
		}
		s.mu.Unlock()
		select {
		case s.signal <- struct{}{}:
		default:
		}
	}
}

// EnvironmentID returns the stored environment id, making it when the
// database has none: concurrent first callers each try to insert theirs
// and all read back the one that won.
func (s *Store) EnvironmentID(ctx context.Context) (string, error) {
	if id := s.envID.Load(); id != nil {
		return *id, nil
	}
	// Migration 013 made the id; the insert is for a row someone removed,
	// and is the only write, so a read-only database reads its id.
	id, err := s.readEnvironmentID(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("make environment id: %w", err)
		}
		if _, err := s.exec(ctx, `INSERT INTO windsock_environment (singleton, environment_id, created_at)
			VALUES (1, ?, ?) ON CONFLICT (singleton) DO NOTHING`, hex.EncodeToString(b[:]), utc(time.Now())); err != nil {
			return "", fmt.Errorf("make environment id: %w", err)
		}
		id, err = s.readEnvironmentID(ctx)
	}
	if err != nil {
		return "", fmt.Errorf("read environment id: %w", err)
	}
	s.envID.Store(&id)
	return id, nil
}

func (s *Store) readEnvironmentID(ctx context.Context) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT environment_id FROM windsock_environment WHERE singleton = 1`).Scan(&id)
	return id, err
}

package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Notification channels: what one process tells the others sharing the
// store. Payloads are small strings; an empty payload means "you may have
// missed notifications: look again" (sent after a listener reconnects).
const (
	// ChannelQueued wakes workers: task instances were queued.
	ChannelQueued = "windsock_queued"
	// ChannelTryDone wakes schedulers: a try ended; the payload is
	// EncodeTryDone's.
	ChannelTryDone = "windsock_try_done"
	// ChannelRunChanged wakes schedulers: a run was triggered, cleared or
	// marked; the payload is {"DagID":..., "RunID":...}.
	ChannelRunChanged = "windsock_run_changed"
	// ChannelDAGsChanged wakes schedulers: the DAG processor stored new
	// definitions.
	ChannelDAGsChanged = "windsock_dags_changed"
)

// Channels returns every notification channel: Listen and Notify take
// only these.
func Channels() []string {
	return []string{ChannelQueued, ChannelTryDone, ChannelRunChanged, ChannelDAGsChanged, ChannelDatasetQueued}
}

// Coordination lets the processes that share a store (schedulers,
// workers, web servers, on one host or many) wake each other. PostgreSQL
// carries notifications across processes with LISTEN/NOTIFY; SQLite, which
// one process owns, delivers them within the process.
type Coordination interface {
	// Listen delivers the payloads sent on channel until ctx ends, when the
	// returned channel is closed. Delivery is best effort: when a listener
	// falls behind or reconnects, it receives "" and must look for what
	// it may have missed.
	Listen(ctx context.Context, channel string) (<-chan string, error)
	// EnvironmentID returns the id of the environment this store belongs
	// to: random, made by the first call on a new database and stored, so
	// that every process of the environment, on any host, gets the same
	// one. Tries' process marks include it, so that environments that
	// share a host never take each other's processes for their own.
	EnvironmentID(ctx context.Context) (string, error)
}

// CoordinationQueries are the coordination writes, usable in a
// transaction.
type CoordinationQueries interface {
	// Notify sends payload on channel to every listener, when the
	// transaction commits (at once outside one); nothing is sent when it
	// rolls back.
	Notify(ctx context.Context, channel, payload string) error
	// TxLock takes the exclusive lock called name, held until the
	// transaction ends: the critical sections of several schedulers (a
	// PostgreSQL advisory transaction lock). It is an error outside a
	// transaction.
	TxLock(ctx context.Context, name string) error
	// JobListAlive returns the running jobs of a type whose latest
	// heartbeat is at or after since, by id.
	JobListAlive(ctx context.Context, jobType string, since time.Time) ([]*windsock.Job, error)
}

// TryDone is the payload of ChannelTryDone.
type TryDone struct {
	Key windsock.TaskInstanceKey `json:"key"`
	// Reload is set when the try changed other task instances of its run
	// too (a branch skipped some), so its run must be re-read.
	Reload bool `json:"reload,omitempty"`
}

// EncodeTryDone returns the ChannelTryDone payload for d.
func EncodeTryDone(d TryDone) string {
	b, _ := json.Marshal(d) // plain strings and ints: cannot fail
	return string(b)
}

// DecodeTryDone parses a ChannelTryDone payload.
func DecodeTryDone(payload string) (TryDone, error) {
	var d TryDone
	if err := json.Unmarshal([]byte(payload), &d); err != nil {
		return d, fmt.Errorf("decode try-done notification: %w", err)
	}
	return d, nil
}

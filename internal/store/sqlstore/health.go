package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/windsock/windsock/internal/store"
)

// writeHealth remembers the outcome of the latest write: the error when
// it failed for want of the database, nil when it succeeded. A success
// only writes the shared word when a failure was recorded, so writers do
// not contend on it in the normal case.
type writeHealth struct {
	failed atomic.Pointer[error]
}

func (h *writeHealth) failure() error {
	if h == nil {
		return nil
	}
	if p := h.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func (h *writeHealth) record(err error) {
	if h == nil {
		return
	}
	if err != nil {
		h.failed.Store(&err)
	} else if h.failed.Load() != nil {
		h.failed.Store(nil)
	}
}

// unavailable wraps store.ErrUnavailable around err when the dialect says
// the database cannot work right now; other errors (and nil) are returned
// as they are. A statement stopped because its caller gave up (a client
// gone, a request past its time) says nothing about the database, even
// when the driver reports it as a broken connection.
func (q *queries) unavailable(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		!q.d.IsUnavailable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
}

// wroteErr is unavailable for the outcome of a write (a statement outside
// a transaction, or a commit), which it also records for WriteFailure: a
// success clears a recorded failure. Errors that are the request's fault
// (a constraint, a cancelled context) leave the record as it is.
func (q *queries) wroteErr(err error) error {
	err = q.unavailable(err)
	switch {
	case err == nil:
		q.health.record(nil)
	case errors.Is(err, store.ErrUnavailable):
		q.health.record(err)
	}
	return err
}

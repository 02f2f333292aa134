package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// groupCommit merges the transactions that queue for SQLite's single write
// connection into one: while one transaction runs, the others wait; the
// next to go takes every waiting one and runs each in a savepoint of one
// transaction with one commit. A failing one rolls back to its savepoint
// and fails alone. Under load (many tries finishing at once) that turns
// hundreds of commits into a few, which is most of what a commit costs.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*txRequest
	leading bool
}

type txRequest struct {
	ctx     context.Context
	fn      func(q *queries) error
	err     error
	pending []notice
	done    chan struct{}
	lead    chan struct{}
}

// groupTx runs fn in a transaction shared with the others waiting.
func (q *queries) groupTx(ctx context.Context, fn func(q *queries) error) error {
	g := q.group
	req := &txRequest{ctx: ctx, fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, req)
	if !g.leading {
		g.leading = true
		req.lead <- struct{}{}
	}
	g.mu.Unlock()

	select {
	case <-req.done:
		return req.err
	case <-req.lead:
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	defer func() {
		// Hand over to the first that queued meanwhile, even on a panic.
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].lead <- struct{}{}
		} else {
			g.leading = false
		}
		g.mu.Unlock()
	}()
	q.runBatch(batch)
	return req.err
}

var errBatchAborted = errors.New("transaction aborted: another transaction of its group panicked")

// runBatch runs the requests in one transaction and tells each its
// outcome.
func (q *queries) runBatch(batch []*txRequest) {
	finished := false
	defer func() {
		if finished {
			return
		}
		for _, r := range batch {
			if r.err == nil {
				r.err = errBatchAborted
			}
			close(r.done)
		}
	}()
	fail := func(err error) {
		for _, r := range batch {
			if r.err == nil {
				r.err = err
			}
		}
	}
	// The transaction belongs to no single request: one giving up must not
	// roll back the others.
	tx, err := q.begin.BeginTx(context.Background(), nil)
	if err != nil {
		fail(fmt.Errorf("begin transaction: %w", q.wroteErr(err)))
		finished = true
		for _, r := range batch {
			close(r.done)
		}
		return
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	savepoints := len(batch) > 1
	changedMembership := false
	ok := 0
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if savepoints {
			if _, err := tx.Exec("SAVEPOINT grouped"); err != nil {
				r.err = fmt.Errorf("begin transaction: %w", err)
				continue
			}
		}
		txq := &queries{db: tx, d: q.d, tx: tx, stmts: q.stmts, co: q.co, detached: savepoints, health: q.health,
			marks: q.marks}
		r.err = r.fn(txq)
		if txq.membershipChanged {
			changedMembership = true
		}
		if r.err == nil {
			r.pending = txq.pending
			ok++
		} else if savepoints {
			if _, err := tx.Exec("ROLLBACK TO grouped"); err != nil {
				fail(fmt.Errorf("roll back to savepoint: %w", err))
				ok = 0 // the transaction is in doubt: commit nothing
				break
			}
		}
		if savepoints {
			if _, err := tx.Exec("RELEASE grouped"); err != nil {
				fail(fmt.Errorf("release savepoint: %w", err))
				ok = 0
				break
			}
		}
	}
	if ok > 0 {
		if err := q.wroteErr(tx.Commit()); err != nil {
			fail(fmt.Errorf("commit transaction: %w", err))
		} else {
			committed = true
			if changedMembership {
				q.marks.changed()
			}
		}
	}
	finished = true
	for _, r := range batch {
		if r.err == nil {
			for _, n := range r.pending {
				q.co.hub.publish(n.channel, n.payload)
			}
		}
		close(r.done)
	}
}

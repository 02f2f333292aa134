package scheduler

import "sync"

// maxHookCalls bounds the listener calls (OnRunFinished and
// OnRunEndedElsewhere, which run DAG callbacks) under way at once.
const maxHookCalls = 8

// hookQueue runs the scheduler's listeners off its loop, so that a slow
// listener (a DAG callback, a caller's channel nobody reads) delays only
// itself, never scheduling. Calls about one run keep their order; calls
// about different runs may overlap, up to maxHookCalls at once. Stop
// waits for the calls queued before it.
type hookQueue struct {
	mu sync.Mutex
	// queued are the calls waiting behind the one under way for each run;
	// a run with a call under way has an entry, possibly empty.
	queued map[RunRef][]func()
	slots  chan struct{}
	calls  sync.WaitGroup
}

func newHookQueue() *hookQueue {
	return &hookQueue{queued: map[RunRef][]func(){}, slots: make(chan struct{}, maxHookCalls)}
}

// do runs call on another goroutine, after the calls about ref queued
// before it.
func (q *hookQueue) do(ref RunRef, call func()) {
	q.calls.Add(1)
	q.mu.Lock()
	if waiting, busy := q.queued[ref]; busy {
		q.queued[ref] = append(waiting, call)
		q.mu.Unlock()
		return
	}
	q.queued[ref] = nil
	q.mu.Unlock()
	go q.run(ref, call)
}

// run makes call and then the calls queued behind it for ref.
func (q *hookQueue) run(ref RunRef, call func()) {
	for {
		q.slots <- struct{}{}
		call()
		<-q.slots
		q.calls.Done()
		q.mu.Lock()
		waiting := q.queued[ref]
		if len(waiting) == 0 {
			delete(q.queued, ref)
			q.mu.Unlock()
			return
		}
		call, q.queued[ref] = waiting[0], waiting[1:]
		q.mu.Unlock()
	}
}

// wait returns once every call queued so far has returned.
func (q *hookQueue) wait() { q.calls.Wait() }

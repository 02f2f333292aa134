// Package startstop gives every long-running service of an environment
// (scheduler, executor, DAG processor, log server, web server) one shape:
// Start(ctx) does the start-up work synchronously, returns its error, and
// leaves the service running in the background; Stop ends it and returns
// only once it is fully stopped; Started and Stopped are channels a caller
// (or a test) can wait on instead of sleeping. A service embeds Base,
// which makes Stop idempotent, callable before Start, and safe to race
// with Start.
package startstop

import (
	"context"
	"errors"
	"sync"
)

// ErrStop is the cause of a service's context when Stop ended it, telling
// a controlled stop apart from the caller's context ending.
var ErrStop = errors.New("service stopped")

// ErrStarted is what Start returns for a service already started: a
// service runs once.
var ErrStarted = errors.New("service already started")

// Service is a long-running part of an environment.
type Service interface {
	// Start does the service's start-up work, returning its error, and
	// runs the service in the background until Stop is called or ctx
	// ends.
	Start(ctx context.Context) error
	// Started is closed once the service has started, or has failed to.
	Started() <-chan struct{}
	// Stop ends the service and returns once it has stopped. It may be
	// called more than once, and before Start.
	Stop()
}

// Base implements the bookkeeping of Service. A service's Start calls
// StartInit first and, when told to go on, runs its loop on a goroutine
// that calls stopped when it returns:
//
//	func (s *S) Start(ctx context.Context) error {
//		ctx, started, stopped, err := s.StartInit(ctx)
//		if err != nil {
//			return err
//		}
//		if err := setUp(ctx); err != nil {
//			stopped()
//			return err
//		}
//		go func() {
//			defer stopped()
//			s.loop(ctx)
//		}()
//		started()
//		return nil
//	}
//
// The context StartInit returns ends when Stop is called (its cause is
// ErrStop) or when the context given to Start ends.
type Base struct {
	mu      sync.Mutex
	cancel  context.CancelCauseFunc
	started chan struct{}
	stopped chan struct{}
}

// StartInit begins a Start: it returns the service's context and the
// functions that mark it started and stopped (stopped also marks it
// started, for a Start that fails), or ErrStarted when Start was called
// before.
func (b *Base) StartInit(ctx context.Context) (runCtx context.Context, started, stopped func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped != nil {
		return nil, nil, nil, ErrStarted
	}
	if b.started == nil {
		b.started = make(chan struct{})
	}
	startedCh, stoppedCh := b.started, make(chan struct{})
	b.stopped = stoppedCh
	runCtx, cancel := context.WithCancelCause(ctx)
	b.cancel = cancel
	markStarted := sync.OnceFunc(func() { close(startedCh) })
	return runCtx, markStarted, sync.OnceFunc(func() {
		markStarted()
		cancel(ErrStop) // releases the context of a service that ended on its own
		close(stoppedCh)
	}), nil
}

// Started returns a channel closed once the service has started or
// failed to; it may be taken before Start.
func (b *Base) Started() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started == nil {
		b.started = make(chan struct{})
	}
	return b.started
}

// Stopped returns a channel closed once the service has stopped, or nil
// before Start.
func (b *Base) Stopped() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopped
}

// Stop cancels the service's context and waits until it has stopped.
func (b *Base) Stop() {
	b.mu.Lock()
	cancel, stopped := b.cancel, b.stopped
	b.mu.Unlock()
	if stopped == nil {
		return
	}
	cancel(ErrStop)
	<-stopped
}

// StartAll starts services in order; when one fails, those already
// started are stopped, last first, and its error is returned.
func StartAll(ctx context.Context, services ...Service) error {
	for i, s := range services {
		if err := s.Start(ctx); err != nil {
			for j := i - 1; j >= 0; j-- {
				services[j].Stop()
			}
			return err
		}
	}
	return nil
}

// StopAll stops services one after the other, in the order given: an
// environment stops what produces work before what consumes it.
func StopAll(services ...Service) {
	for _, s := range services {
		s.Stop()
	}
}

// Func is a service made of a function, for a service too small to need a
// type: run does the start-up work and returns a function that runs the
// service until its context ends (nil for nothing to run).
type Func struct {
	Base
	run func(ctx context.Context) (loop func(ctx context.Context), err error)
}

// NewFunc returns the service run describes.
func NewFunc(run func(ctx context.Context) (loop func(ctx context.Context), err error)) *Func {
	return &Func{run: run}
}

// Start runs the start-up work and the loop.
func (f *Func) Start(ctx context.Context) error {
	ctx, started, stopped, err := f.StartInit(ctx)
	if err != nil {
		return err
	}
	loop, err := f.run(ctx)
	if err != nil {
		stopped()
		return err
	}
	go func() {
		defer stopped()
		if loop != nil {
			loop(ctx)
		} else {
			<-ctx.Done()
		}
	}()
	started()
	return nil
}

package startstop_test

import (
	"context"
	"errors"
	"testing"

	"github.com/windsock/windsock/internal/startstop"
)

// loopService counts its loops and records why its context ended.
type loopService struct {
	startstop.Base
	failStart error
	cause     error
}

func (s *loopService) Start(ctx context.Context) error {
	ctx, started, stopped, err := s.StartInit(ctx)
	if err != nil {
		return err
	}
	if s.failStart != nil {
		stopped()
		return s.failStart
	}
	go func() {
		defer stopped()
		<-ctx.Done()
		s.cause = context.Cause(ctx)
	}()
	started()
	return nil
}

func TestStopIsIdempotentAndMayComeFirst(t *testing.T) {
	t.Parallel()
	s := &loopService{}
	s.Stop() // before Start: nothing to do
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-s.Started()
	s.Stop()
	s.Stop()
	if !errors.Is(s.cause, startstop.ErrStop) {
		t.Fatalf("cause = %v, want ErrStop", s.cause)
	}
	if err := s.Start(context.Background()); !errors.Is(err, startstop.ErrStarted) {
		t.Fatalf("second Start = %v, want ErrStarted", err)
	}
}

func TestStartedMayBeTakenBeforeStart(t *testing.T) {
	t.Parallel()
	s := &loopService{}
	started := s.Started()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-started
	s.Stop()
}

func TestCallerContextStopsTheService(t *testing.T) {
	t.Parallel()
	s := &loopService{}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := s.Stopped()
	cancel()
	<-stopped
	if !errors.Is(s.cause, context.Canceled) {
		t.Fatalf("cause = %v, want context.Canceled", s.cause)
	}
	s.Stop()
}

func TestStartAllStopsWhatStartedWhenOneFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	a, b, c := &loopService{}, &loopService{failStart: boom}, &loopService{}
	if err := startstop.StartAll(context.Background(), a, b, c); !errors.Is(err, boom) {
		t.Fatalf("StartAll = %v, want boom", err)
	}
	<-a.Stopped() // stopped again
	<-b.Started() // a failed start counts as started, so waiters go on
	if c.Stopped() != nil {
		t.Fatal("a service after the failing one was started")
	}
}

func TestFunc(t *testing.T) {
	t.Parallel()
	ran := make(chan struct{})
	f := startstop.NewFunc(func(context.Context) (func(context.Context), error) {
		return func(ctx context.Context) {
			close(ran)
			<-ctx.Done()
		}, nil
	})
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-ran
	f.Stop()
	<-f.Stopped()
}

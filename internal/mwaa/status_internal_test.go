package mwaa

import (
	"context"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envspec"
)

// slowStatusRunner is a runner whose Status waits until released, as a
// runner reading state files and /proc on a busy disk does.
type slowStatusRunner struct {
	stubRunner
	entered chan struct{}
	release chan struct{}
}

func (r *slowStatusRunner) Status(name string) (envspec.Status, bool) {
	r.entered <- struct{}{}
	<-r.release
	return r.stubRunner.Status(name)
}

// TestSlowStatusBlocksNoOperation: while the runner reports an
// environment's status slowly (GetEnvironment, tokens), other operations
// go on: the service's lock is not held across the runner's I/O.
func TestSlowStatusBlocksNoOperation(t *testing.T) {
	t.Parallel()
	r := &slowStatusRunner{stubRunner: stubRunner{host: "localhost:1"}, entered: make(chan struct{}), release: make(chan struct{})}
	s, err := New(Config{Home: t.TempDir(), Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	s.envs = map[string]*record{"slow": {Env: Environment{Name: "slow", Status: "AVAILABLE"}, TokenSecret: "x"}}
	ctx := context.Background()
	for _, op := range []func(){
		func() { _, _ = s.Get(ctx, "slow") },
		func() { _, _, _ = s.tokenTarget("slow") },
	} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			op()
		}()
		<-r.entered
		listed := make(chan error, 1)
		go func() {
			_, _, err := s.List(ctx, nil, "")
			listed <- err
		}()
		select {
		case err := <-listed:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second): // a bound for the failure, not a wait for success
			t.Fatal("ListEnvironments waited for another environment's status")
		}
		close(r.release)
		<-done
		r.release = make(chan struct{})
	}
}

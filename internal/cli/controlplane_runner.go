package cli

import (
	"context"
	"errors"
	"log/slog"

	"github.com/windsock/windsock/internal/envspec"
)

// environmentRunner is the envspec.Runner `windsock controlplane` drives.
// This is the one place to wire internal/envrunner in when it is merged
// (envrunner.New(home, ...)); until then environments fail to start with
// a message saying so, and everything else of the API works.
func (r *runner) environmentRunner(_ string, _ *slog.Logger) (envspec.Runner, error) {
	return unwiredRunner{}, nil
}

// errNoRunner is what environments fail with while no runner is wired.
var errNoRunner = errors.New("this build of windsock has no environment runner: internal/envrunner is not wired into `windsock controlplane` yet")

type unwiredRunner struct{}

func (unwiredRunner) Start(context.Context, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{}, errNoRunner
}
func (unwiredRunner) Update(context.Context, envspec.Spec, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{}, errNoRunner
}
func (unwiredRunner) Adopt(context.Context, envspec.Spec) (envspec.Status, error) {
	return envspec.Status{}, errNoRunner
}
func (unwiredRunner) Stop(context.Context, string) error   { return nil }
func (unwiredRunner) Remove(context.Context, string) error { return nil }
func (unwiredRunner) Status(string) (envspec.Status, bool) { return envspec.Status{}, false }
func (unwiredRunner) Invoke(context.Context, string, string) ([]byte, []byte, error) {
	return nil, nil, errNoRunner
}

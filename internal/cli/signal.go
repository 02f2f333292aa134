package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
)

// signalContext is cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}

// startService sets up a long-running command (scheduler, worker, DAG
// processor, web server): a context that SIGINT or SIGTERM ends, an
// info-level logger on stderr and the open environment; done releases
// them.
func (r *runner) startService(cmd *cobra.Command) (ctx context.Context, logger *slog.Logger, env *app.Environment, done func(), err error) {
	ctx, stop := signalContext(cmd.Context())
	logger = slog.New(slog.NewTextHandler(r.io.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if env, err = r.openEnv(ctx, logger); err != nil {
		stop()
		return nil, nil, nil, nil, err
	}
	return ctx, logger, env, func() {
		env.Close()
		stop()
	}, nil
}

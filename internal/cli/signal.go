package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

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
	env.PreparePythonAtStart(ctx)
	return ctx, logger, env, func() {
		env.Close()
		stop()
	}, nil
}

// defaultGracePeriod is how long a worker or scheduler stopped by SIGTERM
// lets its running tries finish before handing them back.
const defaultGracePeriod = 60 * time.Second

// gracePeriodFlag adds --grace-period, the bound of drainGracefully, to a
// command that runs tries (worker, scheduler, standalone).
func gracePeriodFlag(cmd *cobra.Command, grace *time.Duration) {
	cmd.Flags().DurationVar(grace, "grace-period", defaultGracePeriod, "how long running tries may go on after SIGTERM or SIGINT before they are handed back, to run again as the same try under the next scheduler (a second signal hands them back at once)")
}

// drainGracefully runs drain, the graceful shutdown of a process that runs
// tries (app.Environment.Drain), once the first SIGINT or
// SIGTERM has been received: a second one ends drain's hurry context, to
// hand the running tries back at once.
func drainGracefully(logger *slog.Logger, grace time.Duration, drain func(hurry context.Context, grace time.Duration)) {
	hurry, stop := signalContext(context.Background())
	defer stop()
	logger.Info("shutting down: no new tries; the running ones may finish for the grace period, then are handed back (signal again to hand them back now)", "grace_period", grace)
	drain(hurry, grace)
}

package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) jobsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Manage jobs"}
	cmd.AddCommand(r.jobsCheckCommand())
	return cmd
}

// jobsCheckCommand is Airflow's `jobs check`: the liveness probe MWAA and
// Kubernetes deployments run against schedulers. It exits 0 when the
// running jobs matching the flags include a live one (a heartbeat recent
// enough), 1 otherwise.
func (r *runner) jobsCheckCommand() *cobra.Command {
	var (
		jobType, host string
		limit         int
		allowMultiple bool
		local         bool
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check that jobs are still alive (exit 1 if none is)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if allowMultiple && limit <= 1 {
				return windsock.Errorf(windsock.EINVALID, "To use option --allow-multiple, you must set the limit to a value greater than 1.")
			}
			if host != "" && local {
				return windsock.Errorf(windsock.EINVALID, "You can't use --hostname and --local at the same time")
			}
			if local {
				host = hostname()
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				jobs, err := env.Store.JobList(ctx, &store.JobListParams{
					JobType: jobType, Hostname: host, State: windsock.JobRunning, Limit: limit,
				})
				if err != nil {
					return err
				}
				now := env.Clock()
				alive := 0
				for _, j := range jobs {
					if jobAlive(env.Config, j, now) {
						alive++
					}
				}
				switch {
				case alive == 0:
					return windsock.Errorf(windsock.ENOTFOUND, "No alive jobs found.")
				case alive > 1 && !allowMultiple:
					return windsock.Errorf(windsock.ECONFLICT, "Found %d alive jobs. Expected only one.", alive)
				case alive == 1:
					_, err = fmt.Fprintln(r.io.Stdout, "Found one alive job.")
				default:
					_, err = fmt.Fprintf(r.io.Stdout, "Found %d alive jobs.\n", alive)
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&jobType, "job-type", "", "the type of job(s) to check: SchedulerJob, DagProcessorJob, TriggererJob or LocalTaskJob")
	f.StringVar(&host, "hostname", "", "only jobs on this host")
	f.IntVar(&limit, "limit", 1, "the number of most recent jobs to check (0: all)")
	f.BoolVar(&allowMultiple, "allow-multiple", false, "succeed when more than one job is alive (needs --limit > 1)")
	f.BoolVar(&local, "local", false, "only jobs on this host (its hostname)")
	return cmd
}

// jobAlive is Airflow's Job.is_alive: a scheduler job is alive while its
// last heartbeat is younger than scheduler_health_check_threshold, any
// other job while it is younger than 2.1 heartbeat intervals.
func jobAlive(cfg *config.Config, j *windsock.Job, now time.Time) bool {
	threshold := time.Duration(2.1 * float64(cfg.Scheduler.SchedulerHeartbeatSec))
	if j.JobType == windsock.JobTypeScheduler {
		threshold = cfg.Scheduler.SchedulerHealthCheckThreshold
	}
	return j.State == windsock.JobRunning && now.Sub(j.LatestHeartbeat) < threshold
}

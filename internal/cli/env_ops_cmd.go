package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/mwaa"
	"github.com/windsock/windsock/internal/mwaaclient"
)

func (f *envFlags) raw(r *runner) (*mwaaclient.Raw, error) {
	return mwaaclient.NewRaw(mwaaclient.Settings{Endpoint: f.endpoint, Region: f.region, Profile: f.profile, Environ: r.io.Environ})
}

func (r *runner) envLogsCommand(f *envFlags) *cobra.Command {
	var group, since string
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print an environment's log group (scheduler, dag-processing, webserver, worker or task)",
		Long: `Print the lines of one of an environment's log groups, named as MWAA names
them (airflow-NAME-Scheduler, ...), each prefixed with its stream (the
process, or the task log file, that wrote it), in time order. --since keeps
the lines of the last duration (10m, 1h) or from a time (RFC 3339); --follow
goes on printing new lines until interrupted. The control plane answers a
page at a time (at most 10,000 events or 1 MB of messages, as CloudWatch's
FilterLogEvents); the command reads every page. -o json prints one event a
line with CloudWatch's field names (logStreamName, timestamp, message).
The key needs logs:FilterLogEvents on the group's ARN.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if f.output != formatTable && f.output != formatJSON {
				return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", f.output)}
			}
			q := url.Values{"group": {group}}
			if since != "" {
				at, err := sinceTime(since, r.clock())
				if err != nil {
					return usageError{err}
				}
				q.Set("since", at.UTC().Format(time.RFC3339Nano))
			}
			if follow {
				q.Set("follow", "true")
			}
			if f.output == formatJSON {
				q.Set("format", "json")
			}
			c, err := f.raw(r)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			// Page after page, each copied out as it arrives: a group of
			// any size is never held here.
			for {
				next, err := r.logsPage(ctx, c, a[0], q)
				if follow && ctx.Err() != nil {
					return nil // interrupted, as asked
				}
				if err != nil || next == "" {
					return err
				}
				q.Set("nextToken", next)
			}
		},
	}
	cmd.Flags().StringVar(&group, "group", "scheduler", "log group: scheduler, dag-processing, webserver, worker or task (or its MWAA name)")
	cmd.Flags().StringVar(&since, "since", "", "only lines of the last duration (10m, 2h) or since a time (RFC 3339)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until interrupted")
	return cmd
}

// logsPage copies one page of a log group to stdout and returns the
// token of the next ("" after the last).
func (r *runner) logsPage(ctx context.Context, c *mwaaclient.Raw, name string, q url.Values) (string, error) {
	resp, err := c.Do(ctx, "GetEnvironmentLogs", "GET", "/windsock/environments/"+url.PathEscape(name)+"/logs", q, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(r.io.Stdout, resp.Body); err != nil {
		return "", err
	}
	return resp.Header.Get(mwaa.NextTokenHeader), nil
}

// sinceTime reads --since: a duration back from now, or a time.
func sinceTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (10m, 2h) or an RFC 3339 time", v)
}

func (r *runner) envMigrateCommand(f *envFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate SRC DST",
		Short: "Copy environment SRC's metadata (runs, task instances, XComs, variables, connections, pools...) into DST",
		Long: `Copy environment SRC's metadata into environment DST through the control
plane, as steps three and four of AWS's migration guide do: the DAGs of both
environments are paused during the move and given back their states after
(DST's DAGs that SRC has take SRC's states). The report counts rows per
table as "windsock db import" does; running the same migration again
changes nothing. The key needs airflow:ExportEnvironmentMetadata on SRC and
airflow:ImportEnvironmentMetadata on DST.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if f.output != formatTable && f.output != formatJSON {
				return usageError{fmt.Errorf("argument -o/--output: invalid choice: '%s' (choose from 'table', 'json')", f.output)}
			}
			return r.migrateMetadata(cmd, f, a[0], a[1])
		},
	}
}

// migrateMetadata asks the control plane to move src's metadata into dst
// and prints its report.
func (r *runner) migrateMetadata(cmd *cobra.Command, f *envFlags, src, dst string) error {
	c, err := f.raw(r)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"Destination": dst})
	resp, err := c.Do(cmd.Context(), "MigrateEnvironmentMetadata", "POST", "/windsock/environments/"+url.PathEscape(src)+"/migrate", nil, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var rep metaport.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return fmt.Errorf("MigrateEnvironmentMetadata: read the report: %w", err)
	}
	return printImportReport(r.io.Stdout, f.output, &rep)
}

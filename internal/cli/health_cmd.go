package cli

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/app"
)

// healthRow is one component of `health`.
type healthRow struct {
	Component string `json:"component"`
	Status    string `json:"status"`
	Detail    string `json:"detail"`
}

// healthCommand reports what /health reports, from the home and its
// metadata database, without a web server: the metadata database, each
// component's heartbeat and the environment's Python (a failed pip
// install with pip's message). It exits 1 when a component is unhealthy.
// -o json prints /health's document itself.
func (r *runner) healthCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Report the health of the environment, as /health does (exit 1 when a component is unhealthy)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				h := env.Health(ctx)
				var err error
				if output == formatJSON {
					var b bytes.Buffer
					enc := json.NewEncoder(&b)
					enc.SetIndent("", "  ")
					if err = enc.Encode(h); err == nil {
						_, err = r.io.Stdout.Write(b.Bytes())
					}
				} else {
					err = printRows(r.io.Stdout, output, healthRows(h))
				}
				if err != nil {
					return err
				}
				for _, row := range healthRows(h) {
					if row.Status == "unhealthy" {
						return silentExit{exitError}
					}
				}
				return nil
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func healthRows(h api.HealthInfo) []healthRow {
	beat := func(status *string, at *time.Time) healthRow {
		row := healthRow{Status: "none"}
		if status != nil {
			row.Status = *status
		}
		if at != nil {
			row.Detail = "latest heartbeat " + at.UTC().Format(time.RFC3339)
		}
		return row
	}
	rows := []healthRow{{Component: "metadatabase", Status: h.Metadatabase.Status}}
	for _, c := range []struct {
		name string
		row  healthRow
	}{
		{"scheduler", beat(h.Scheduler.Status, h.Scheduler.LatestSchedulerHeartbeat)},
		{"dag_processor", beat(h.DagProcessor.Status, h.DagProcessor.LatestDagProcessorHeartbeat)},
		{"triggerer", beat(h.Triggerer.Status, h.Triggerer.LatestTriggererHeartbeat)},
	} {
		c.row.Component = c.name
		rows = append(rows, c.row)
	}
	py := h.PythonEnvironment
	row := healthRow{Component: "python_environment", Status: py.Status}
	switch {
	case py.Error != nil:
		row.Detail = *py.Error
	case py.Python != nil:
		row.Detail = *py.Python
	}
	if py.RequirementsPending {
		row.Detail += " (requirements.txt changed: the next start installs it)"
	}
	return append(rows, row)
}

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"
	"github.com/aws/aws-sdk-go-v2/service/mwaa/types"
	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/mwaaclient"
)

// envFlags are the options every `windsock env` command takes: where the
// control plane is and how to sign (as the AWS CLI: environment
// variables, then a profile of ~/.aws/credentials).
type envFlags struct {
	endpoint, region, profile, output string
	wait                              bool
}

func (f *envFlags) client(r *runner) (*awsmwaa.Client, error) {
	return mwaaclient.New(mwaaclient.Settings{Endpoint: f.endpoint, Region: f.region, Profile: f.profile, Environ: r.io.Environ})
}

func (r *runner) envCommand() *cobra.Command {
	f := &envFlags{}
	cmd := &cobra.Command{Use: "env", Short: "Manage MWAA-style environments through a Windsock control plane"}
	cmd.PersistentFlags().StringVar(&f.endpoint, "endpoint-url", "", "control plane URL (default: $WINDSOCK_CONTROLPLANE_URL, $AWS_ENDPOINT_URL_MWAA or "+mwaaclient.DefaultEndpoint+")")
	cmd.PersistentFlags().StringVar(&f.region, "region", "", "region to sign for (default: $AWS_REGION or the profile's)")
	cmd.PersistentFlags().StringVar(&f.profile, "profile", "", "profile of ~/.aws/credentials (default: $AWS_PROFILE or default)")
	cmd.PersistentFlags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	cmd.AddCommand(r.envCreateCommand(f), r.envGetCommand(f, "get"), r.envGetCommand(f, "status"), r.envListCommand(f),
		r.envUpdateCommand(f), r.envDeleteCommand(f), r.envCloneCommand(f), r.envLogsCommand(f), r.envMigrateCommand(f))
	return cmd
}

// loggingInput reads --logging COMPONENT=LEVEL flags into MWAA's
// LoggingConfigurationInput (nil without flags: the service's default).
func loggingInput(flags []string) (*types.LoggingConfigurationInput, error) {
	pairs, err := parsePairs(flags, "--logging")
	if err != nil || pairs == nil {
		return nil, err
	}
	in := &types.LoggingConfigurationInput{}
	for k, v := range pairs {
		c, ok := envspec.ComponentOf("", k)
		if !ok {
			return nil, usageError{fmt.Errorf("--logging %s: want scheduler, dag-processing, webserver, worker or task", k)}
		}
		m := &types.ModuleLoggingConfigurationInput{Enabled: aws.Bool(true), LogLevel: types.LoggingLevel(strings.ToUpper(v))}
		switch c {
		case envspec.DAGProcessing:
			in.DagProcessingLogs = m
		case envspec.Scheduler:
			in.SchedulerLogs = m
		case envspec.Task:
			in.TaskLogs = m
		case envspec.WebServer:
			in.WebserverLogs = m
		case envspec.Worker:
			in.WorkerLogs = m
		}
	}
	return in, nil
}

// parsePairs reads KEY=VALUE flags.
func parsePairs(pairs []string, what string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("%s %q: use KEY=VALUE", what, p)}
		}
		m[k] = v
	}
	return m, nil
}

func (r *runner) envCreateCommand(f *envFlags) *cobra.Command {
	var bucket, dags, role, version, class string
	var subnets, groups, options, tags, logging []string
	var minW, maxW, schedulers int32
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an environment (CreateEnvironment)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			opts, err := parsePairs(options, "--option")
			if err != nil {
				return err
			}
			tagMap, err := parsePairs(tags, "--tag")
			if err != nil {
				return err
			}
			if bucket == "" {
				bucket = "arn:aws:s3:::" + strings.ToLower(a[0])
			}
			in := &awsmwaa.CreateEnvironmentInput{Name: aws.String(a[0]), SourceBucketArn: aws.String(bucket), DagS3Path: aws.String(dags),
				ExecutionRoleArn:            aws.String(role),
				NetworkConfiguration:        &types.NetworkConfiguration{SubnetIds: subnets, SecurityGroupIds: groups},
				AirflowConfigurationOptions: opts, Tags: tagMap}
			if in.LoggingConfiguration, err = loggingInput(logging); err != nil {
				return err
			}
			if version != "" {
				in.AirflowVersion = aws.String(version)
			}
			if class != "" {
				in.EnvironmentClass = aws.String(class)
			}
			setInt := func(name string, dst **int32, v int32) {
				if cmd.Flags().Changed(name) {
					*dst = aws.Int32(v)
				}
			}
			setInt("min-workers", &in.MinWorkers, minW)
			setInt("max-workers", &in.MaxWorkers, maxW)
			setInt("schedulers", &in.Schedulers, schedulers)
			c, err := f.client(r)
			if err != nil {
				return err
			}
			out, err := c.CreateEnvironment(cmd.Context(), in)
			if err != nil {
				return mwaaclient.Describe("CreateEnvironment", err)
			}
			return r.envAfterChange(cmd.Context(), f, c, a[0], aws.ToString(out.Arn))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&bucket, "source-bucket-arn", "", "source bucket (default: arn:aws:s3:::NAME)")
	fl.StringVar(&dags, "dag-s3-path", "dags", "DAG folder in the bucket")
	fl.StringVar(&role, "execution-role-arn", "arn:aws:iam::000000000000:role/windsock-execution", "execution role ARN")
	fl.StringVar(&version, "airflow-version", "", "Apache Airflow version (default: the control plane's)")
	fl.StringVar(&class, "environment-class", "", "mw1.micro ... mw1.2xlarge (default mw1.small)")
	fl.StringSliceVar(&subnets, "subnet-ids", []string{"subnet-windsock-a", "subnet-windsock-b"}, "two subnet ids (recorded)")
	fl.StringSliceVar(&groups, "security-group-ids", []string{"sg-windsock"}, "security group ids (recorded)")
	fl.StringArrayVar(&options, "option", nil, "Airflow configuration option SECTION.KEY=VALUE (repeatable)")
	fl.StringArrayVar(&tags, "tag", nil, "tag KEY=VALUE (repeatable)")
	fl.StringArrayVar(&logging, "logging", nil, "enable a log group at a level, COMPONENT=LEVEL: scheduler, dag-processing, webserver, worker or task and DEBUG, INFO, WARNING, ERROR or CRITICAL (repeatable; default: task=INFO only, as MWAA)")
	fl.Int32Var(&minW, "min-workers", 1, "minimum workers")
	fl.Int32Var(&maxW, "max-workers", 10, "maximum workers")
	fl.Int32Var(&schedulers, "schedulers", 2, "schedulers")
	fl.BoolVar(&f.wait, "wait", false, "wait until the environment is AVAILABLE or failed")
	return cmd
}

// envAfterChange prints the ARN, or with --wait the environment once its
// operation has ended (an error if it failed).
func (r *runner) envAfterChange(ctx context.Context, f *envFlags, c *awsmwaa.Client, name, arn string) error {
	if !f.wait {
		if f.output == "json" {
			return json.NewEncoder(r.io.Stdout).Encode(map[string]string{"Arn": arn})
		}
		fmt.Fprintln(r.io.Stdout, arn)
		return nil
	}
	for {
		out, err := c.GetEnvironment(ctx, &awsmwaa.GetEnvironmentInput{Name: aws.String(name)})
		if err != nil {
			return mwaaclient.Describe("GetEnvironment", err)
		}
		switch out.Environment.Status {
		case types.EnvironmentStatusCreating, types.EnvironmentStatusUpdating, types.EnvironmentStatusPending:
		case types.EnvironmentStatusCreateFailed, types.EnvironmentStatusUpdateFailed:
			if err := r.printEnvironment(f, out.Environment); err != nil {
				return err
			}
			msg := string(out.Environment.Status)
			if lu := out.Environment.LastUpdate; lu != nil && lu.Error != nil {
				msg += ": " + aws.ToString(lu.Error.ErrorMessage)
			}
			return errors.New(msg)
		default:
			return r.printEnvironment(f, out.Environment)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (r *runner) printEnvironment(f *envFlags, e *types.Environment) error {
	if f.output == "json" {
		enc := json.NewEncoder(r.io.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	tw := tabwriter.NewWriter(r.io.Stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("Name", aws.ToString(e.Name))
	row("Status", string(e.Status))
	row("Arn", aws.ToString(e.Arn))
	row("AirflowVersion", aws.ToString(e.AirflowVersion))
	row("EnvironmentClass", aws.ToString(e.EnvironmentClass))
	row("Workers", fmt.Sprintf("%d-%d", aws.ToInt32(e.MinWorkers), aws.ToInt32(e.MaxWorkers)))
	row("Schedulers", fmt.Sprint(aws.ToInt32(e.Schedulers)))
	row("WebserverUrl", aws.ToString(e.WebserverUrl))
	row("SourceBucketArn", aws.ToString(e.SourceBucketArn))
	row("DagS3Path", aws.ToString(e.DagS3Path))
	if lu := e.LastUpdate; lu != nil {
		last := string(lu.Status)
		if lu.Error != nil {
			last += ": " + aws.ToString(lu.Error.ErrorMessage)
		}
		row("LastUpdate", last)
	}
	keys := make([]string, 0, len(e.AirflowConfigurationOptions))
	for k := range e.AirflowConfigurationOptions {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row("Option "+k, e.AirflowConfigurationOptions[k])
	}
	return tw.Flush()
}

func (r *runner) envGetCommand(f *envFlags, use string) *cobra.Command {
	short := "Show an environment (GetEnvironment)"
	if use == "status" {
		short = "Show an environment's status, last update and web server"
	}
	return &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := f.client(r)
			if err != nil {
				return err
			}
			out, err := c.GetEnvironment(cmd.Context(), &awsmwaa.GetEnvironmentInput{Name: aws.String(a[0])})
			if err != nil {
				return mwaaclient.Describe("GetEnvironment", err)
			}
			e := out.Environment
			if use == "status" && f.output != "json" {
				last := ""
				if lu := e.LastUpdate; lu != nil {
					last = string(lu.Status)
					if lu.Error != nil {
						last += ": " + aws.ToString(lu.Error.ErrorMessage)
					}
				}
				fmt.Fprintf(r.io.Stdout, "%s\t%s\t%s\t%s\n", aws.ToString(e.Name), e.Status, aws.ToString(e.WebserverUrl), last)
				return nil
			}
			return r.printEnvironment(f, e)
		},
	}
}

func (r *runner) envListCommand(f *envFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List environments (ListEnvironments, every page)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(r)
			if err != nil {
				return err
			}
			var envs []*types.Environment
			pages := awsmwaa.NewListEnvironmentsPaginator(c, &awsmwaa.ListEnvironmentsInput{})
			for pages.HasMorePages() {
				page, err := pages.NextPage(cmd.Context())
				if err != nil {
					return mwaaclient.Describe("ListEnvironments", err)
				}
				for _, name := range page.Environments {
					out, err := c.GetEnvironment(cmd.Context(), &awsmwaa.GetEnvironmentInput{Name: aws.String(name)})
					if err != nil {
						return mwaaclient.Describe("GetEnvironment", err)
					}
					envs = append(envs, out.Environment)
				}
			}
			if f.output == "json" {
				names := []string{}
				for _, e := range envs {
					names = append(names, aws.ToString(e.Name))
				}
				return json.NewEncoder(r.io.Stdout).Encode(map[string]any{"Environments": names})
			}
			tw := tabwriter.NewWriter(r.io.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tCLASS\tVERSION\tWORKERS\tWEBSERVER")
			for _, e := range envs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d-%d\t%s\n", aws.ToString(e.Name), e.Status, aws.ToString(e.EnvironmentClass),
					aws.ToString(e.AirflowVersion), aws.ToInt32(e.MinWorkers), aws.ToInt32(e.MaxWorkers), aws.ToString(e.WebserverUrl))
			}
			return tw.Flush()
		},
	}
}

func (r *runner) envUpdateCommand(f *envFlags) *cobra.Command {
	var version, class, strategy string
	var options []string
	var minW, maxW, schedulers int32
	cmd := &cobra.Command{
		Use:   "update NAME",
		Short: "Update an environment (UpdateEnvironment; --option replaces every option)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			opts, err := parsePairs(options, "--option")
			if err != nil {
				return err
			}
			in := &awsmwaa.UpdateEnvironmentInput{Name: aws.String(a[0]), AirflowConfigurationOptions: opts,
				WorkerReplacementStrategy: types.WorkerReplacementStrategy(strategy)}
			if version != "" {
				in.AirflowVersion = aws.String(version)
			}
			if class != "" {
				in.EnvironmentClass = aws.String(class)
			}
			for _, p := range []struct {
				name string
				dst  **int32
				v    int32
			}{{"min-workers", &in.MinWorkers, minW}, {"max-workers", &in.MaxWorkers, maxW}, {"schedulers", &in.Schedulers, schedulers}} {
				if cmd.Flags().Changed(p.name) {
					*p.dst = aws.Int32(p.v)
				}
			}
			c, err := f.client(r)
			if err != nil {
				return err
			}
			out, err := c.UpdateEnvironment(cmd.Context(), in)
			if err != nil {
				return mwaaclient.Describe("UpdateEnvironment", err)
			}
			return r.envAfterChange(cmd.Context(), f, c, a[0], aws.ToString(out.Arn))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&version, "airflow-version", "", "new Apache Airflow version")
	fl.StringVar(&class, "environment-class", "", "new environment class")
	fl.StringVar(&strategy, "worker-replacement-strategy", "", "GRACEFUL or FORCED")
	fl.StringArrayVar(&options, "option", nil, "Airflow configuration option SECTION.KEY=VALUE (repeatable)")
	fl.Int32Var(&minW, "min-workers", 0, "minimum workers")
	fl.Int32Var(&maxW, "max-workers", 0, "maximum workers")
	fl.Int32Var(&schedulers, "schedulers", 0, "schedulers")
	fl.BoolVar(&f.wait, "wait", false, "wait until the update has ended")
	return cmd
}

func (r *runner) envDeleteCommand(f *envFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an environment (DeleteEnvironment)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := f.client(r)
			if err != nil {
				return err
			}
			if _, err := c.DeleteEnvironment(cmd.Context(), &awsmwaa.DeleteEnvironmentInput{Name: aws.String(a[0])}); err != nil {
				return mwaaclient.Describe("DeleteEnvironment", err)
			}
			fmt.Fprintf(r.io.Stdout, "Deleting environment %s\n", a[0])
			return nil
		},
	}
}

// CloneInput is what `windsock env clone` sends: the source's settings
// (GetEnvironment) as a CreateEnvironment input, the recipe of AWS's
// migration guide, with the web server counts too.
func CloneInput(src *types.Environment, name, version, executionRole string) *awsmwaa.CreateEnvironmentInput {
	in := &awsmwaa.CreateEnvironmentInput{
		Name:                         aws.String(name),
		AirflowConfigurationOptions:  src.AirflowConfigurationOptions,
		AirflowVersion:               src.AirflowVersion,
		DagS3Path:                    src.DagS3Path,
		EndpointManagement:           src.EndpointManagement,
		EnvironmentClass:             src.EnvironmentClass,
		ExecutionRoleArn:             src.ExecutionRoleArn,
		KmsKey:                       src.KmsKey,
		MaxWorkers:                   src.MaxWorkers,
		MinWorkers:                   src.MinWorkers,
		MaxWebservers:                src.MaxWebservers,
		MinWebservers:                src.MinWebservers,
		PluginsS3ObjectVersion:       src.PluginsS3ObjectVersion,
		PluginsS3Path:                src.PluginsS3Path,
		RequirementsS3ObjectVersion:  src.RequirementsS3ObjectVersion,
		RequirementsS3Path:           src.RequirementsS3Path,
		Schedulers:                   src.Schedulers,
		SourceBucketArn:              src.SourceBucketArn,
		StartupScriptS3ObjectVersion: src.StartupScriptS3ObjectVersion,
		StartupScriptS3Path:          src.StartupScriptS3Path,
		WebserverAccessMode:          src.WebserverAccessMode,
		WeeklyMaintenanceWindowStart: src.WeeklyMaintenanceWindowStart,
	}
	if n := src.NetworkConfiguration; n != nil {
		in.NetworkConfiguration = &types.NetworkConfiguration{SubnetIds: n.SubnetIds, SecurityGroupIds: n.SecurityGroupIds}
	}
	if l := src.LoggingConfiguration; l != nil {
		module := func(m *types.ModuleLoggingConfiguration) *types.ModuleLoggingConfigurationInput {
			if m == nil {
				return nil
			}
			return &types.ModuleLoggingConfigurationInput{Enabled: m.Enabled, LogLevel: m.LogLevel}
		}
		in.LoggingConfiguration = &types.LoggingConfigurationInput{DagProcessingLogs: module(l.DagProcessingLogs),
			SchedulerLogs: module(l.SchedulerLogs), WebserverLogs: module(l.WebserverLogs), WorkerLogs: module(l.WorkerLogs),
			TaskLogs: module(l.TaskLogs)}
	}
	if len(src.Tags) > 0 {
		in.Tags = src.Tags
	}
	if version != "" {
		in.AirflowVersion = aws.String(version)
	}
	if executionRole != "" {
		in.ExecutionRoleArn = aws.String(executionRole)
	}
	return in
}

func (r *runner) envCloneCommand(f *envFlags) *cobra.Command {
	var version, role string
	var withMetadata bool
	cmd := &cobra.Command{
		Use:   "clone SRC DST",
		Short: "Create DST with SRC's settings, on a new Airflow version (the migration guide's recipe)",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := f.client(r)
			if err != nil {
				return err
			}
			src, err := c.GetEnvironment(cmd.Context(), &awsmwaa.GetEnvironmentInput{Name: aws.String(a[0])})
			if err != nil {
				return mwaaclient.Describe("GetEnvironment", err)
			}
			out, err := c.CreateEnvironment(cmd.Context(), CloneInput(src.Environment, a[1], version, role))
			if err != nil {
				return mwaaclient.Describe("CreateEnvironment", err)
			}
			if withMetadata {
				f.wait = true // the metadata moves once the clone is AVAILABLE
			}
			if err := r.envAfterChange(cmd.Context(), f, c, a[1], aws.ToString(out.Arn)); err != nil || !withMetadata {
				return err
			}
			return r.migrateMetadata(cmd, f, a[0], a[1])
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "Apache Airflow version of the clone (default: the source's)")
	cmd.Flags().StringVar(&role, "execution-role", "", "execution role ARN of the clone (default: the source's)")
	cmd.Flags().BoolVar(&f.wait, "wait", false, "wait until the clone is AVAILABLE or failed")
	cmd.Flags().BoolVar(&withMetadata, "with-metadata", false, "once the clone is AVAILABLE, copy the source's metadata into it (as env migrate; implies --wait)")
	return cmd
}

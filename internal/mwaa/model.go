// Package mwaa is Windsock's MWAA-compatible control plane: the Amazon MWAA
// API (version 2020-07-01, restJson1) over environments that an
// envspec.Runner makes exist. Requests are authenticated with AWS
// Signature V4 against the control plane's own keys and authorized by each
// key's IAM policy, so the AWS CLI, boto3 and the AWS SDKs work against it
// with only the endpoint changed. State lives in the control plane's home
// and survives its restart.
package mwaa

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// epoch is a timestamp as restJson1 sends it: seconds since the epoch, a
// JSON number with a fraction.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

func (e *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	*e = epoch(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

// Environment is GetEnvironment's Environment shape.
type Environment struct {
	Name                         string            `json:"Name"`
	Status                       string            `json:"Status"`
	Arn                          string            `json:"Arn"`
	CreatedAt                    *epoch            `json:"CreatedAt,omitempty"`
	WebserverUrl                 string            `json:"WebserverUrl,omitempty"`
	ExecutionRoleArn             string            `json:"ExecutionRoleArn,omitempty"`
	ServiceRoleArn               string            `json:"ServiceRoleArn,omitempty"`
	KmsKey                       string            `json:"KmsKey,omitempty"`
	AirflowVersion               string            `json:"AirflowVersion,omitempty"`
	SourceBucketArn              string            `json:"SourceBucketArn,omitempty"`
	DagS3Path                    string            `json:"DagS3Path,omitempty"`
	PluginsS3Path                string            `json:"PluginsS3Path,omitempty"`
	PluginsS3ObjectVersion       string            `json:"PluginsS3ObjectVersion,omitempty"`
	RequirementsS3Path           string            `json:"RequirementsS3Path,omitempty"`
	RequirementsS3ObjectVersion  string            `json:"RequirementsS3ObjectVersion,omitempty"`
	StartupScriptS3Path          string            `json:"StartupScriptS3Path,omitempty"`
	StartupScriptS3ObjectVersion string            `json:"StartupScriptS3ObjectVersion,omitempty"`
	AirflowConfigurationOptions  map[string]string `json:"AirflowConfigurationOptions"`
	EnvironmentClass             string            `json:"EnvironmentClass,omitempty"`
	MaxWorkers                   *int              `json:"MaxWorkers,omitempty"`
	MinWorkers                   *int              `json:"MinWorkers,omitempty"`
	Schedulers                   *int              `json:"Schedulers,omitempty"`
	MinWebservers                *int              `json:"MinWebservers,omitempty"`
	MaxWebservers                *int              `json:"MaxWebservers,omitempty"`
	NetworkConfiguration         *Network          `json:"NetworkConfiguration,omitempty"`
	LoggingConfiguration         *Logging          `json:"LoggingConfiguration,omitempty"`
	LastUpdate                   *LastUpdate       `json:"LastUpdate,omitempty"`
	WeeklyMaintenanceWindowStart string            `json:"WeeklyMaintenanceWindowStart,omitempty"`
	Tags                         map[string]string `json:"Tags"`
	WebserverAccessMode          string            `json:"WebserverAccessMode,omitempty"`
	EndpointManagement           string            `json:"EndpointManagement,omitempty"`
	CeleryExecutorQueue          string            `json:"CeleryExecutorQueue,omitempty"`
	WebserverVpcEndpointService  string            `json:"WebserverVpcEndpointService,omitempty"`
	DatabaseVpcEndpointService   string            `json:"DatabaseVpcEndpointService,omitempty"`
}

// Network is NetworkConfiguration.
type Network struct {
	SubnetIds        []string `json:"SubnetIds,omitempty"`
	SecurityGroupIds []string `json:"SecurityGroupIds,omitempty"`
}

// Logging is LoggingConfiguration (output) and LoggingConfigurationInput.
type Logging struct {
	DagProcessingLogs *ModuleLogging `json:"DagProcessingLogs,omitempty"`
	SchedulerLogs     *ModuleLogging `json:"SchedulerLogs,omitempty"`
	WebserverLogs     *ModuleLogging `json:"WebserverLogs,omitempty"`
	WorkerLogs        *ModuleLogging `json:"WorkerLogs,omitempty"`
	TaskLogs          *ModuleLogging `json:"TaskLogs,omitempty"`
}

// ModuleLogging is ModuleLoggingConfiguration(Input).
type ModuleLogging struct {
	Enabled               *bool  `json:"Enabled,omitempty"`
	LogLevel              string `json:"LogLevel,omitempty"`
	CloudWatchLogGroupArn string `json:"CloudWatchLogGroupArn,omitempty"`
}

// LastUpdate is the environment's last create or update.
type LastUpdate struct {
	Status                    string       `json:"Status"`
	CreatedAt                 *epoch       `json:"CreatedAt,omitempty"`
	Error                     *UpdateError `json:"Error,omitempty"`
	Source                    string       `json:"Source,omitempty"`
	WorkerReplacementStrategy string       `json:"WorkerReplacementStrategy,omitempty"`
}

// UpdateError is LastUpdate.Error.
type UpdateError struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// EnvironmentInput is the body of CreateEnvironment and UpdateEnvironment
// (Update takes a subset, plus WorkerReplacementStrategy). Pointers tell an
// absent member from a zero one.
type EnvironmentInput struct {
	ExecutionRoleArn             *string           `json:"ExecutionRoleArn"`
	SourceBucketArn              *string           `json:"SourceBucketArn"`
	DagS3Path                    *string           `json:"DagS3Path"`
	NetworkConfiguration         *Network          `json:"NetworkConfiguration"`
	PluginsS3Path                *string           `json:"PluginsS3Path"`
	PluginsS3ObjectVersion       *string           `json:"PluginsS3ObjectVersion"`
	RequirementsS3Path           *string           `json:"RequirementsS3Path"`
	RequirementsS3ObjectVersion  *string           `json:"RequirementsS3ObjectVersion"`
	StartupScriptS3Path          *string           `json:"StartupScriptS3Path"`
	StartupScriptS3ObjectVersion *string           `json:"StartupScriptS3ObjectVersion"`
	AirflowConfigurationOptions  map[string]string `json:"AirflowConfigurationOptions"`
	EnvironmentClass             *string           `json:"EnvironmentClass"`
	MaxWorkers                   *int              `json:"MaxWorkers"`
	MinWorkers                   *int              `json:"MinWorkers"`
	Schedulers                   *int              `json:"Schedulers"`
	MinWebservers                *int              `json:"MinWebservers"`
	MaxWebservers                *int              `json:"MaxWebservers"`
	KmsKey                       *string           `json:"KmsKey"`
	AirflowVersion               *string           `json:"AirflowVersion"`
	LoggingConfiguration         *Logging          `json:"LoggingConfiguration"`
	WeeklyMaintenanceWindowStart *string           `json:"WeeklyMaintenanceWindowStart"`
	Tags                         map[string]string `json:"Tags"`
	WebserverAccessMode          *string           `json:"WebserverAccessMode"`
	EndpointManagement           *string           `json:"EndpointManagement"`
	WorkerReplacementStrategy    *string           `json:"WorkerReplacementStrategy"`
}

// InvokeRestAPIInput is InvokeRestApi's body.
type InvokeRestAPIInput struct {
	Path            *string         `json:"Path"`
	Method          *string         `json:"Method"`
	QueryParameters json.RawMessage `json:"QueryParameters"`
	Body            json.RawMessage `json:"Body"`
}

package app

import (
	"net/http"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/amazon"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/operator/branching"
	"github.com/windsock/windsock/internal/operator/email"
	"github.com/windsock/windsock/internal/operator/empty"
	httpop "github.com/windsock/windsock/internal/operator/http"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/operator/sensors"
	"github.com/windsock/windsock/internal/operator/sqlop"
	"github.com/windsock/windsock/internal/operator/trigger"
)

// OperatorRegistry returns the operators this environment runs, keyed by
// the catalog's short names. Built once per environment, on first use,
// which may come from several goroutines at once (the schedulers'
// runners, a worker, the API's renderer).
func (e *Environment) OperatorRegistry() *operator.Registry {
	e.registryOnce.Do(func() { e.registry = e.newOperatorRegistry() })
	return e.registry
}

func (e *Environment) newOperatorRegistry() *operator.Registry {
	grace := e.Config.Core.KilledTaskCleanupTime
	client := &http.Client{Timeout: 5 * time.Minute}
	r := operator.NewRegistry()
	r.Add("empty", empty.New())
	shell := bash.New(bash.Options{KillGrace: grace})
	r.Add("bash", shell)
	r.Add("bash_sensor", bash.NewSensor(bash.Options{KillGrace: grace}))
	r.Add("http", httpop.New(client))
	r.Add("http_sensor", httpop.NewSensor(client))
	r.Add("email", email.New())
	r.Add("file_sensor", sensors.NewFileSensor())
	r.Add("sql_sensor", sensors.NewSqlSensor())
	r.Add("time_delta_sensor", sensors.NewTimeDeltaSensor())
	r.Add("date_time_sensor", sensors.NewDateTimeSensor())
	r.Add("external_task_sensor", sensors.NewExternalTaskSensor())
	r.Add("sql_execute", sqlop.New())
	addAmazonOperators(r, shell, grace)
	r.Add("trigger_dagrun", trigger.New())
	r.Add("latest_only", branching.NewLatestOnly())
	r.Add("branch_day_of_week", branching.NewDayOfWeek())
	r.Add("branch_datetime", branching.NewDateTime())
	e.addPythonOperators(r, grace)
	return r
}

// addAmazonOperators registers the Amazon provider's operators: S3 runs
// natively; those Windsock cannot run fail at once saying what they need.
func addAmazonOperators(r *operator.Registry, shell operator.Operator, grace time.Duration) {
	opts := amazon.Options{}
	r.Add("s3_file_transform", amazon.NewFileTransform(opts, process.Runner{KillGrace: grace}))
	r.Add("s3_key_sensor", amazon.NewKeySensor(opts))
	r.Add("s3_create_object", amazon.NewCreateObject(opts))
	r.Add("s3_copy_object", amazon.NewCopyObject(opts))
	r.Add("s3_delete_objects", amazon.NewDeleteObjects(opts))
	r.Add("s3_list", amazon.NewList(opts))
	r.Add("sql_to_s3", amazon.NewSqlToS3(opts))
	r.Add("s3_to_sql", amazon.NewS3ToSql(opts))
	r.Add("datapipeline_shell", amazon.NewStagedShell(shell, opts))
	r.Add("emr_add_steps", amazon.Missing("EmrAddStepsOperator", "Amazon EMR"))
	r.Add("s3_to_redshift", amazon.Missing("S3ToRedshiftOperator", "Amazon Redshift"))
	r.Add("dynamodb_value_sensor", amazon.Missing("DynamoDBValueSensor", "Amazon DynamoDB"))
}

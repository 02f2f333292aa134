package operator

// amazonSpecs are the operators of Airflow's Amazon provider that Windsock
// knows (S3 natively; EMR, Redshift and DynamoDB as placeholders that fail
// saying the provider is missing), the SQL operator, and the operator that
// runs a converted Data Pipeline ShellCommandActivity.
func amazonSpecs() []*Spec {
	aws := []Arg{{Name: "aws_conn_id"}, {Name: "verify"}, {Name: "region_name"}}
	return []*Spec{
		sensor(&Spec{
			Name: "s3_key_sensor", Class: "S3KeySensor",
			Paths: []string{
				"airflow.providers.amazon.aws.sensors.s3.S3KeySensor",
				"airflow.providers.amazon.aws.sensors.s3_key.S3KeySensor",
				"airflow.sensors.s3_key_sensor.S3KeySensor",
			},
			Args: append([]Arg{
				{Name: "bucket_key", Required: true, Templated: true},
				{Name: "bucket_name", Templated: true},
				{Name: "wildcard_match"},
				{Name: "use_regex"},
				{Name: "deferrable"},
				{Name: "check_fn"},
				{Name: "metadata_keys"},
			}, aws...),
		}),
		{
			Name: "s3_create_object", Class: "S3CreateObjectOperator",
			Paths: []string{"airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator"},
			Args: append([]Arg{
				{Name: "s3_key", Required: true, Templated: true},
				{Name: "data", Required: true, Templated: true},
				{Name: "s3_bucket", Templated: true},
				{Name: "replace"},
				{Name: "encrypt"},
				{Name: "acl_policy"},
				{Name: "encoding"},
				{Name: "compression"},
			}, aws...),
		},
		{
			Name: "s3_copy_object", Class: "S3CopyObjectOperator",
			Paths: []string{"airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator"},
			Args: append([]Arg{
				{Name: "source_bucket_key", Required: true, Templated: true},
				{Name: "dest_bucket_key", Required: true, Templated: true},
				{Name: "source_bucket_name", Templated: true},
				{Name: "dest_bucket_name", Templated: true},
				{Name: "source_version_id"},
				{Name: "acl_policy"},
				{Name: "meta_data_directive"},
			}, aws...),
		},
		{
			Name: "s3_delete_objects", Class: "S3DeleteObjectsOperator",
			Paths: []string{"airflow.providers.amazon.aws.operators.s3.S3DeleteObjectsOperator"},
			Args: append([]Arg{
				{Name: "bucket", Required: true, Templated: true},
				{Name: "keys", Templated: true},
				{Name: "prefix", Templated: true},
				{Name: "from_datetime", Templated: true},
				{Name: "to_datetime", Templated: true},
			}, aws...),
		},
		{
			Name: "s3_list", Class: "S3ListOperator",
			Paths: []string{"airflow.providers.amazon.aws.operators.s3.S3ListOperator"},
			Args: append([]Arg{
				{Name: "bucket", Required: true, Templated: true},
				{Name: "prefix", Templated: true},
				{Name: "delimiter", Templated: true},
				{Name: "apply_wildcard"},
			}, aws...),
		},
		{
			Name: "s3_file_transform", Class: "S3FileTransformOperator",
			Paths: []string{"airflow.providers.amazon.aws.operators.s3.S3FileTransformOperator"},
			Args: []Arg{
				{Name: "source_s3_key", Required: true, Templated: true},
				{Name: "dest_s3_key", Required: true, Templated: true},
				{Name: "transform_script"},
				{Name: "select_expression"},
				{Name: "script_args", Templated: true},
				{Name: "source_aws_conn_id"},
				{Name: "dest_aws_conn_id"},
				{Name: "source_verify"},
				{Name: "dest_verify"},
				{Name: "replace"},
			},
		},
		{
			Name: "sql_to_s3", Class: "SqlToS3Operator",
			Paths: []string{"airflow.providers.amazon.aws.transfers.sql_to_s3.SqlToS3Operator"},
			Args: append([]Arg{
				{Name: "query", Required: true, Templated: true},
				{Name: "s3_key", Required: true, Templated: true},
				{Name: "sql_conn_id", Required: true},
				{Name: "s3_bucket", Templated: true},
				{Name: "replace"},
				{Name: "file_format"},
				{Name: "pd_kwargs"},
			}, aws...),
		},
		{
			Name: "s3_to_sql", Class: "S3ToSqlOperator",
			Paths: []string{"airflow.providers.amazon.aws.transfers.s3_to_sql.S3ToSqlOperator"},
			Args: append([]Arg{
				{Name: "s3_key", Required: true, Templated: true},
				{Name: "s3_bucket", Templated: true},
				{Name: "table", Templated: true},
				{Name: "sql_conn_id", Required: true},
				{Name: "column_list"},
				{Name: "commit_every"},
				{Name: "schema"},
				{Name: "parser"},
				{Name: "sql_hook_params"},
				// Windsock's: the CSV the native parser reads, and Data
				// Pipeline's insertQuery.
				{Name: "header"},
				{Name: "delimiter"},
				{Name: "insert_query", Templated: true},
			}, aws...),
		},
		{
			Name: "emr_add_steps", Class: "EmrAddStepsOperator", Missing: "Amazon EMR",
			Paths: []string{"airflow.providers.amazon.aws.operators.emr.EmrAddStepsOperator"},
			Args: append([]Arg{
				{Name: "job_flow_id", Templated: true},
				{Name: "job_flow_name", Templated: true},
				{Name: "cluster_states"},
				{Name: "steps", Templated: true},
				{Name: "wait_for_completion"},
				{Name: "waiter_delay"},
				{Name: "waiter_max_attempts"},
				{Name: "execution_role_arn"},
				{Name: "deferrable"},
			}, aws...),
		},
		{
			Name: "s3_to_redshift", Class: "S3ToRedshiftOperator", Missing: "Amazon Redshift",
			Paths: []string{"airflow.providers.amazon.aws.transfers.s3_to_redshift.S3ToRedshiftOperator"},
			Args: append([]Arg{
				{Name: "table", Required: true, Templated: true},
				{Name: "s3_key", Required: true, Templated: true},
				{Name: "s3_bucket", Templated: true},
				{Name: "schema", Templated: true},
				{Name: "redshift_conn_id"},
				{Name: "column_list"},
				{Name: "copy_options"},
				{Name: "autocommit"},
				{Name: "method"},
				{Name: "upsert_keys"},
			}, aws...),
		},
		sensor(&Spec{
			Name: "dynamodb_value_sensor", Class: "DynamoDBValueSensor", Missing: "Amazon DynamoDB",
			Paths: []string{"airflow.providers.amazon.aws.sensors.dynamodb.DynamoDBValueSensor"},
			Args: append([]Arg{
				{Name: "table_name", Required: true, Templated: true},
				{Name: "partition_key_name", Required: true, Templated: true},
				{Name: "partition_key_value", Required: true, Templated: true},
				{Name: "attribute_name", Templated: true},
				{Name: "attribute_value", Templated: true},
				{Name: "sort_key_name", Templated: true},
				{Name: "sort_key_value", Templated: true},
			}, aws...),
		}),
		{
			Name: "sql_execute", Class: "SQLExecuteQueryOperator",
			Paths: []string{
				"airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
				"airflow.providers.postgres.operators.postgres.PostgresOperator",
				"airflow.providers.sqlite.operators.sqlite.SqliteOperator",
			},
			Args: []Arg{
				{Name: "sql", Required: true, Templated: true},
				{Name: "conn_id"},
				{Name: "postgres_conn_id"},
				{Name: "sqlite_conn_id"},
				{Name: "parameters", Templated: true},
				{Name: "autocommit"},
				{Name: "split_statements"},
				{Name: "return_last"},
				{Name: "database"},
				{Name: "show_return_value_in_logs"},
			},
		},
		{
			Name: "datapipeline_shell", Class: "ShellCommandActivityOperator",
			Paths: []string{"windsock.datapipeline.ShellCommandActivityOperator"},
			Args: []Arg{
				{Name: "bash_command", Templated: true},
				{Name: "script_uri", Templated: true},
				{Name: "script_args", Templated: true},
				{Name: "input_staging", Templated: true},
				{Name: "output_staging", Templated: true},
				{Name: "env", Templated: true},
				{Name: "aws_conn_id"},
			},
		},
	}
}

// newCatalogWith is NewCatalog over specs followed by extra.
func newCatalogWith(extra []*Spec, specs ...*Spec) *Catalog {
	return NewCatalog(append(specs, extra...)...)
}

"""The one alias table: Airflow 1.10 module paths (and Airflow 3's standard
provider paths) that 2.10 still loads, mapped to where the class lives now;
plus the import hook that makes every airflow.providers.* and
airflow.contrib.* module importable (native classes where Windsock has them,
placeholders otherwise)."""
import importlib

import importlib.machinery
import sys

P = "airflow.providers."

# old module -> {old name: new dotted path}
ALIASES = {
    "airflow.operators.bash_operator": {"BashOperator": "airflow.operators.bash.BashOperator"},
    "airflow.operators.python_operator": {
        "PythonOperator": "airflow.operators.python.PythonOperator",
        "BranchPythonOperator": "airflow.operators.python.BranchPythonOperator",
        "ShortCircuitOperator": "airflow.operators.python.ShortCircuitOperator",
        "PythonVirtualenvOperator": "airflow.operators.python.PythonVirtualenvOperator",
    },
    "airflow.operators.dummy_operator": {
        "DummyOperator": "airflow.operators.empty.EmptyOperator",
        "EmptyOperator": "airflow.operators.empty.EmptyOperator",
    },
    "airflow.operators.email_operator": {"EmailOperator": "airflow.operators.email.EmailOperator"},
    "airflow.operators.dagrun_operator": {
        "TriggerDagRunOperator": "airflow.operators.trigger_dagrun.TriggerDagRunOperator",
        "TriggerDagRunLink": "airflow.operators.trigger_dagrun.TriggerDagRunLink",
    },
    "airflow.operators.latest_only_operator": {"LatestOnlyOperator": "airflow.operators.latest_only.LatestOnlyOperator"},
    "airflow.operators.branch_operator": {"BaseBranchOperator": "airflow.operators.branch.BaseBranchOperator"},
    "airflow.operators.subdag_operator": {"SubDagOperator": "airflow.operators.subdag.SubDagOperator"},
    "airflow.operators.check_operator": {
        "CheckOperator": P + "common.sql.operators.sql.SQLCheckOperator",
        "IntervalCheckOperator": P + "common.sql.operators.sql.SQLIntervalCheckOperator",
        "ValueCheckOperator": P + "common.sql.operators.sql.SQLValueCheckOperator",
        "ThresholdCheckOperator": P + "common.sql.operators.sql.SQLThresholdCheckOperator",
    },
    "airflow.operators.sql": {
        "SQLCheckOperator": P + "common.sql.operators.sql.SQLCheckOperator",
        "SQLExecuteQueryOperator": P + "common.sql.operators.sql.SQLExecuteQueryOperator",
        "BranchSQLOperator": P + "common.sql.operators.sql.BranchSQLOperator",
        "SQLValueCheckOperator": P + "common.sql.operators.sql.SQLValueCheckOperator",
        "SQLIntervalCheckOperator": P + "common.sql.operators.sql.SQLIntervalCheckOperator",
        "SQLThresholdCheckOperator": P + "common.sql.operators.sql.SQLThresholdCheckOperator",
    },
    "airflow.operators.http_operator": {"SimpleHttpOperator": P + "http.operators.http.SimpleHttpOperator"},
    "airflow.operators.postgres_operator": {"PostgresOperator": P + "postgres.operators.postgres.PostgresOperator"},
    "airflow.operators.mysql_operator": {"MySqlOperator": P + "mysql.operators.mysql.MySqlOperator"},
    "airflow.operators.sqlite_operator": {"SqliteOperator": P + "sqlite.operators.sqlite.SqliteOperator"},
    "airflow.operators.docker_operator": {"DockerOperator": P + "docker.operators.docker.DockerOperator"},
    "airflow.operators.s3_file_transform_operator": {"S3FileTransformOperator": P + "amazon.aws.operators.s3.S3FileTransformOperator"},
    "airflow.operators.s3_to_redshift_operator": {"S3ToRedshiftOperator": P + "amazon.aws.transfers.s3_to_redshift.S3ToRedshiftOperator"},
    "airflow.operators.redshift_to_s3_operator": {"RedshiftToS3Operator": P + "amazon.aws.transfers.redshift_to_s3.RedshiftToS3Operator"},
    "airflow.operators.slack_operator": {"SlackAPIPostOperator": P + "slack.operators.slack.SlackAPIPostOperator"},
    "airflow.operators.hive_operator": {"HiveOperator": P + "apache.hive.operators.hive.HiveOperator"},
    "airflow.operators.mssql_operator": {"MsSqlOperator": P + "microsoft.mssql.operators.mssql.MsSqlOperator"},
    "airflow.operators.oracle_operator": {"OracleOperator": P + "oracle.operators.oracle.OracleOperator"},
    "airflow.operators.papermill_operator": {"PapermillOperator": P + "papermill.operators.papermill.PapermillOperator"},
    "airflow.operators.generic_transfer": {"GenericTransfer": P + "common.sql.operators.generic_transfer.GenericTransfer"},
    "airflow.operators.python_virtualenv_operator": {"PythonVirtualenvOperator": "airflow.operators.python.PythonVirtualenvOperator"},
    "airflow.sensors.base_sensor_operator": {"BaseSensorOperator": "airflow.sensors.base.BaseSensorOperator"},
    "airflow.sensors.date_time_sensor": {"DateTimeSensor": "airflow.sensors.date_time.DateTimeSensor"},
    "airflow.sensors.external_task_sensor": {
        "ExternalTaskSensor": "airflow.sensors.external_task.ExternalTaskSensor",
        "ExternalTaskMarker": "airflow.sensors.external_task.ExternalTaskMarker",
        "ExternalTaskSensorLink": "airflow.sensors.external_task.ExternalDagLink",
    },
    "airflow.sensors.time_delta_sensor": {"TimeDeltaSensor": "airflow.sensors.time_delta.TimeDeltaSensor"},
    "airflow.sensors.time_sensor": {"TimeSensor": "airflow.sensors.time_sensor.TimeSensor"},
    "airflow.sensors.sql_sensor": {"SqlSensor": P + "common.sql.sensors.sql.SqlSensor"},
    "airflow.sensors.sql": {"SqlSensor": P + "common.sql.sensors.sql.SqlSensor"},
    "airflow.sensors.http_sensor": {"HttpSensor": P + "http.sensors.http.HttpSensor"},
    "airflow.sensors.bash_sensor": {"BashSensor": "airflow.sensors.bash.BashSensor"},
    "airflow.sensors.python_sensor": {"PythonSensor": "airflow.sensors.python.PythonSensor"},
    "airflow.sensors.s3_key_sensor": {"S3KeySensor": P + "amazon.aws.sensors.s3.S3KeySensor"},
    "airflow.sensors.s3_prefix_sensor": {"S3PrefixSensor": P + "amazon.aws.sensors.s3.S3KeySensor"},
    "airflow.sensors.hive_partition_sensor": {"HivePartitionSensor": P + "apache.hive.sensors.hive_partition.HivePartitionSensor"},
    "airflow.sensors.weekday_sensor": {"DayOfWeekSensor": "airflow.sensors.weekday.DayOfWeekSensor"},
    "airflow.hooks.base_hook": {"BaseHook": "airflow.hooks.base.BaseHook"},
    "airflow.hooks.dbapi_hook": {"DbApiHook": P + "common.sql.hooks.sql.DbApiHook"},
    "airflow.hooks.dbapi": {"DbApiHook": P + "common.sql.hooks.sql.DbApiHook"},
    "airflow.hooks.http_hook": {"HttpHook": P + "http.hooks.http.HttpHook"},
    "airflow.hooks.postgres_hook": {"PostgresHook": P + "postgres.hooks.postgres.PostgresHook"},
    "airflow.hooks.sqlite_hook": {"SqliteHook": P + "sqlite.hooks.sqlite.SqliteHook"},
    "airflow.hooks.mysql_hook": {"MySqlHook": P + "mysql.hooks.mysql.MySqlHook"},
    "airflow.hooks.S3_hook": {"S3Hook": P + "amazon.aws.hooks.s3.S3Hook", "provide_bucket_name": P + "amazon.aws.hooks.s3.provide_bucket_name"},
    "airflow.hooks.slack_hook": {"SlackHook": P + "slack.hooks.slack.SlackHook"},
    "airflow.hooks.docker_hook": {"DockerHook": P + "docker.hooks.docker.DockerHook"},
    "airflow.hooks.hive_hooks": {"HiveCliHook": P + "apache.hive.hooks.hive.HiveCliHook", "HiveServer2Hook": P + "apache.hive.hooks.hive.HiveServer2Hook"},
    "airflow.hooks.mssql_hook": {"MsSqlHook": P + "microsoft.mssql.hooks.mssql.MsSqlHook"},
    "airflow.hooks.oracle_hook": {"OracleHook": P + "oracle.hooks.oracle.OracleHook"},
    "airflow.hooks.filesystem": {"FSHook": "airflow.hooks.filesystem.FSHook"},
    "airflow.contrib.hooks.fs_hook": {"FSHook": "airflow.hooks.filesystem.FSHook"},
    "airflow.contrib.hooks.aws_hook": {"AwsHook": P + "amazon.aws.hooks.base_aws.AwsBaseHook"},
    "airflow.contrib.hooks.ssh_hook": {"SSHHook": P + "ssh.hooks.ssh.SSHHook"},
    "airflow.contrib.hooks.snowflake_hook": {"SnowflakeHook": P + "snowflake.hooks.snowflake.SnowflakeHook"},
    "airflow.contrib.hooks.gcs_hook": {"GoogleCloudStorageHook": P + "google.cloud.hooks.gcs.GCSHook"},
    "airflow.contrib.hooks.bigquery_hook": {"BigQueryHook": P + "google.cloud.hooks.bigquery.BigQueryHook"},
    "airflow.contrib.sensors.file_sensor": {"FileSensor": "airflow.sensors.filesystem.FileSensor"},
    "airflow.contrib.sensors.bash_sensor": {"BashSensor": "airflow.sensors.bash.BashSensor"},
    "airflow.contrib.sensors.python_sensor": {"PythonSensor": "airflow.sensors.python.PythonSensor"},
    "airflow.contrib.sensors.weekday_sensor": {"DayOfWeekSensor": "airflow.sensors.weekday.DayOfWeekSensor"},
    "airflow.contrib.operators.ssh_operator": {"SSHOperator": P + "ssh.operators.ssh.SSHOperator"},
    "airflow.contrib.operators.snowflake_operator": {"SnowflakeOperator": P + "snowflake.operators.snowflake.SnowflakeOperator"},
    "airflow.contrib.operators.bigquery_operator": {"BigQueryOperator": P + "google.cloud.operators.bigquery.BigQueryExecuteQueryOperator"},
    "airflow.contrib.operators.kubernetes_pod_operator": {"KubernetesPodOperator": P + "cncf.kubernetes.operators.pod.KubernetesPodOperator"},
    "airflow.contrib.operators.databricks_operator": {
        "DatabricksSubmitRunOperator": P + "databricks.operators.databricks.DatabricksSubmitRunOperator",
        "DatabricksRunNowOperator": P + "databricks.operators.databricks.DatabricksRunNowOperator",
    },
    "airflow.contrib.operators.emr_add_steps_operator": {"EmrAddStepsOperator": P + "amazon.aws.operators.emr.EmrAddStepsOperator"},
    "airflow.contrib.operators.emr_create_job_flow_operator": {"EmrCreateJobFlowOperator": P + "amazon.aws.operators.emr.EmrCreateJobFlowOperator"},
    "airflow.contrib.operators.emr_terminate_job_flow_operator": {"EmrTerminateJobFlowOperator": P + "amazon.aws.operators.emr.EmrTerminateJobFlowOperator"},
    "airflow.contrib.sensors.emr_step_sensor": {"EmrStepSensor": P + "amazon.aws.sensors.emr.EmrStepSensor"},
    "airflow.contrib.operators.slack_webhook_operator": {"SlackWebhookOperator": P + "slack.operators.slack_webhook.SlackWebhookOperator"},
    "airflow.contrib.operators.sftp_operator": {"SFTPOperator": P + "sftp.operators.sftp.SFTPOperator"},
    "airflow.contrib.operators.gcs_to_bq": {"GoogleCloudStorageToBigQueryOperator": P + "google.cloud.transfers.gcs_to_bigquery.GCSToBigQueryOperator"},
    "airflow.contrib.operators.spark_submit_operator": {"SparkSubmitOperator": P + "apache.spark.operators.spark_submit.SparkSubmitOperator"},
    "airflow.contrib.operators.ecs_operator": {"ECSOperator": P + "amazon.aws.operators.ecs.EcsRunTaskOperator"},
    "airflow.contrib.operators.aws_athena_operator": {"AWSAthenaOperator": P + "amazon.aws.operators.athena.AthenaOperator"},
    "airflow.contrib.operators.gcp_sql_operator": {"CloudSqlQueryOperator": P + "google.cloud.operators.cloud_sql.CloudSQLExecuteQueryOperator"},
    "airflow.contrib.kubernetes.secret": {"Secret": P + "cncf.kubernetes.secret.Secret"},
    "airflow.kubernetes": {},
    "airflow.kubernetes.secret": {"Secret": P + "cncf.kubernetes.secret.Secret"},
    "airflow.kubernetes.pod": {"Port": P + "cncf.kubernetes.backcompat.pod.Port",
                               "Resources": P + "cncf.kubernetes.backcompat.pod.Resources"},
    "airflow.kubernetes.volume": {"Volume": P + "cncf.kubernetes.backcompat.volume.Volume"},
    "airflow.kubernetes.volume_mount": {"VolumeMount": P + "cncf.kubernetes.backcompat.volume_mount.VolumeMount"},
}

# Whole modules that are another module under a new name (Airflow 3's
# standard provider spelling of the core operators and sensors).
MODULE_ALIASES = {
    P + "standard.operators.bash": "airflow.operators.bash",
    P + "standard.operators.python": "airflow.operators.python",
    P + "standard.operators.empty": "airflow.operators.empty",
    P + "standard.operators.trigger_dagrun": "airflow.operators.trigger_dagrun",
    P + "standard.operators.latest_only": "airflow.operators.latest_only",
    P + "standard.operators.datetime": "airflow.operators.datetime",
    P + "standard.operators.weekday": "airflow.operators.weekday",
    P + "standard.operators.branch": "airflow.operators.branch",
    P + "standard.sensors.bash": "airflow.sensors.bash",
    P + "standard.sensors.python": "airflow.sensors.python",
    P + "standard.sensors.filesystem": "airflow.sensors.filesystem",
    P + "standard.sensors.time_delta": "airflow.sensors.time_delta",
    P + "standard.sensors.time": "airflow.sensors.time_sensor",
    P + "standard.sensors.date_time": "airflow.sensors.date_time",
    P + "standard.sensors.external_task": "airflow.sensors.external_task",
    P + "standard.sensors.weekday": "airflow.sensors.weekday",
    P + "standard.hooks.filesystem": "airflow.hooks.filesystem",
    P + "standard.utils.python_virtualenv": "airflow.operators.python",
    P + "smtp.operators.smtp": "airflow.operators.email",
}

# Names under these prefixes always import (placeholders when not native).
_OPEN_PREFIXES = ("airflow.providers.", "airflow.contrib.")


def resolve(path):
    """The object at a dotted path (module.attr)."""
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class _AliasModule:
    """Loader of the virtual modules: attribute lookups go through the alias
    table, then to placeholders for provider and contrib paths."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        module.__path__ = []
        target = MODULE_ALIASES.get(name)
        table = ALIASES.get(name, {})
        open_ended = name.startswith(_OPEN_PREFIXES)

        def __getattr__(attr, _name=name, _table=table, _target=target, _open=open_ended):
            if attr.startswith("__"):
                raise AttributeError(attr)
            if attr in _table:
                value = resolve(_table[attr])
                if not _name.startswith(("airflow.providers.", "airflow.contrib.")):
                    # Not cached on the module: a reused worker warns for every file, as a fresh process would.
                    from airflow.models.dag import warn_deprecated

                    warn_deprecated("This module is deprecated. Please use `%s`." % _table[attr].rpartition(".")[0])
                    return value
            elif _target is not None:
                value = getattr(importlib.import_module(_target), attr)
            elif _open:
                from airflow._providers import placeholder

                value = placeholder(_name, attr)
            else:
                raise AttributeError("module %r has no attribute %r" % (_name, attr))
            setattr(sys.modules[_name], attr, value)
            return value

        module.__getattr__ = __getattr__
        if target is not None:
            # `from x import *` and dir() see the target's names.
            module.__all__ = [n for n in dir(importlib.import_module(target)) if not n.startswith("_")]


class AliasFinder:
    """Consulted after the normal finders: only modules with no file of
    their own reach it."""

    _loader = _AliasModule()

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("airflow."):
            return None
        if fullname in ALIASES or fullname in MODULE_ALIASES or fullname.startswith(_OPEN_PREFIXES):
            return importlib.machinery.ModuleSpec(fullname, self._loader, is_package=True)
        return None


_installed = []


def install():
    if not _installed:
        finder = AliasFinder()
        sys.meta_path.append(finder)
        _installed.append(finder)

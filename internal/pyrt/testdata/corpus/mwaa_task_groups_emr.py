from datetime import timedelta

from airflow import DAG
from airflow.operators.dummy import DummyOperator
from airflow.providers.amazon.aws.operators.emr import EmrAddStepsOperator, EmrCreateJobFlowOperator
from airflow.providers.amazon.aws.sensors.emr import EmrStepSensor
from airflow.utils.dates import days_ago
from airflow.utils.task_group import TaskGroup

JOB_FLOW_OVERRIDES = {"Name": "demo", "ReleaseLabel": "emr-6.9.0", "Instances": {"InstanceCount": 1}}
SPARK_STEPS = [{"Name": "calc", "ActionOnFailure": "CONTINUE",
                "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit", "s3://code/job.py"]}}]

with DAG(
    dag_id="mwaa_emr_groups",
    default_args={"owner": "airflow", "retries": 1, "retry_delay": timedelta(minutes=2)},
    start_date=days_ago(2),
    schedule_interval="@once",
    tags=["emr"],
) as dag:
    begin = DummyOperator(task_id="begin")
    with TaskGroup("cluster") as cluster:
        create = EmrCreateJobFlowOperator(task_id="create", job_flow_overrides=JOB_FLOW_OVERRIDES)
        add = EmrAddStepsOperator(task_id="add_steps", job_flow_id=create.output, steps=SPARK_STEPS)
        watch = EmrStepSensor(task_id="watch", job_flow_id=create.output,
                              step_id="{{ task_instance.xcom_pull(task_ids='cluster.add_steps')[0] }}")
        add >> watch
    end = DummyOperator(task_id="end")
    begin >> cluster >> end

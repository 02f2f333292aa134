import os

from airflow import DAG
from airflow.models import Variable
from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator
from airflow.utils.dates import days_ago

DAG_ID = os.path.basename(__file__).replace(".py", "")
BUCKET = Variable.get("mwaa_bucket", default_var="my-mwaa-bucket")

default_args = {"owner": "airflow", "depends_on_past": False, "start_date": days_ago(1), "aws_conn_id": "aws_default"}

with DAG(dag_id=DAG_ID, default_args=default_args, schedule_interval=None, dagrun_timeout=None, tags=["mwaa"]) as dag:
    wait = S3KeySensor(task_id="wait_for_file", bucket_name=BUCKET, bucket_key="incoming/{{ ds }}/data.csv",
                       poke_interval=60, timeout=3600)
    glue = GlueJobOperator(task_id="run_glue", job_name="transform-job", script_args={"--day": "{{ ds }}"},
                           region_name="us-east-1", iam_role_name="glue-role")
    marker = S3CreateObjectOperator(task_id="write_marker", s3_bucket=BUCKET, s3_key="done/{{ ds }}",
                                    data="ok", replace=True)
    wait >> glue >> marker

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.hooks.s3 import S3Hook
from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator
from airflow.providers.amazon.aws.operators.lambda_function import LambdaInvokeFunctionOperator
from airflow.operators.python import PythonOperator


def list_keys():
    hook = S3Hook(aws_conn_id="aws_default")
    return hook.list_keys(bucket_name="data")


with DAG("mwaa_lambda_ecs", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    invoke = LambdaInvokeFunctionOperator(task_id="invoke", function_name="prep", payload='{"x": 1}')
    ecs = EcsRunTaskOperator(
        task_id="ecs_task",
        cluster="batch",
        task_definition="job:3",
        launch_type="FARGATE",
        overrides={"containerOverrides": [{"name": "job", "command": ["run", "{{ ds }}"]}]},
        network_configuration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
    )
    keys = PythonOperator(task_id="list_keys", python_callable=list_keys)
    invoke >> ecs >> keys

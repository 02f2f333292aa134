from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.s3 import S3DeleteObjectsOperator
from airflow.decorators import task

with DAG("mapped_placeholder", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    @task
    def prefixes():
        return ["tmp/a/", "tmp/b/"]

    S3DeleteObjectsOperator.partial(task_id="delete", bucket="scratch").expand(prefix=prefixes())

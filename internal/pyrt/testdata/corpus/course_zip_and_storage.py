from datetime import datetime

from airflow.decorators import dag, task
from airflow.io.path import ObjectStoragePath

base = ObjectStoragePath("s3://course-bucket/raw/", conn_id="aws_default")


@dag(start_date=datetime(2024, 1, 1), schedule=None, catchup=False)
def zip_and_storage():
    @task
    def names():
        return ["a", "b"]

    @task
    def sizes():
        return [1, 2]

    @task
    def pair(item):
        name, size = item
        return f"{base / name}:{size}"

    pair.expand(item=names().zip(sizes()))


zip_and_storage()

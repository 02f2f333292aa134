from pendulum import datetime

from airflow.datasets import Dataset
from airflow.decorators import dag, task

RAW = Dataset("s3://lake/raw/orders.parquet")
CLEAN = Dataset("s3://lake/clean/orders.parquet")


@dag(start_date=datetime(2024, 3, 1), schedule="0 6 * * *", catchup=False, tags=["datasets"])
def datasets_producer():
    @task(outlets=[RAW])
    def land_raw():
        return "landed"

    @task(outlets=[CLEAN])
    def clean(msg):
        print(msg)

    clean(land_raw())


datasets_producer()

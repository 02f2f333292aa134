from pendulum import datetime

from airflow import Dataset
from airflow.decorators import dag, task

RAW = Dataset("s3://lake/raw/orders.parquet")
CLEAN = Dataset("s3://lake/clean/orders.parquet")


@dag(start_date=datetime(2024, 3, 1), schedule=[RAW, CLEAN], catchup=False)
def datasets_consumer():
    @task
    def report(triggering_dataset_events=None):
        for ds, events in (triggering_dataset_events or {}).items():
            print(ds, len(events))

    report()


@dag(start_date=datetime(2024, 3, 1), schedule=(RAW | CLEAN), catchup=False)
def datasets_any_consumer():
    @task
    def any_update():
        print("one of them changed")

    any_update()


datasets_consumer()
datasets_any_consumer()

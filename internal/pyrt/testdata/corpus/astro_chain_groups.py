from pendulum import datetime

from airflow.decorators import dag, task, task_group
from airflow.models.baseoperator import chain
from airflow.operators.empty import EmptyOperator


@dag(start_date=datetime(2024, 1, 1), schedule="@weekly", catchup=False)
def chain_and_groups():
    start = EmptyOperator(task_id="start")
    end = EmptyOperator(task_id="end")

    @task_group(group_id="per_region", tooltip="one branch per region")
    def per_region():
        @task
        def fetch(region: str):
            return region.upper()

        @task
        def store(value):
            print(value)

        for region in ["eu", "us"]:
            store(fetch(region))

    @task
    def audit():
        return "ok"

    chain(start, per_region(), audit(), end)


chain_and_groups()

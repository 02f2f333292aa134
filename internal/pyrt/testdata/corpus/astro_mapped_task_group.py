from pendulum import datetime

from airflow.decorators import dag, task, task_group
from airflow.operators.empty import EmptyOperator


@dag(start_date=datetime(2024, 2, 1), schedule=None, catchup=False, tags=["mapping"])
def mapped_task_group():
    @task
    def regions():
        return ["eu", "us", "apac"]

    @task_group(group_id="per_region")
    def per_region(region):
        @task
        def extract(r):
            return f"data-{r}"

        @task
        def load(payload):
            print(payload)

        load(extract(region))

    per_region.expand(region=regions()) >> EmptyOperator(task_id="end")


mapped_task_group()

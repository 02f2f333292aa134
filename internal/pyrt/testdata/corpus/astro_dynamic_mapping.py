from pendulum import datetime

from airflow.decorators import dag, task
from airflow.operators.bash import BashOperator


@dag(start_date=datetime(2024, 1, 1), schedule=None, catchup=False, tags=["mapping"])
def dynamic_mapping():
    @task
    def list_files():
        return ["a.csv", "b.csv", "c.csv"]

    @task
    def process(file_name: str, prefix: str):
        return f"{prefix}/{file_name}"

    @task
    def summarize(paths):
        return len(list(paths))

    processed = process.partial(prefix="s3://bucket").expand(file_name=list_files())
    summarize(processed)

    BashOperator.partial(task_id="echo_each", retries=1).expand(
        bash_command=["echo one", "echo two"],
    )


dynamic_mapping()

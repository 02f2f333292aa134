from datetime import datetime

from airflow import DAG, Dataset
from airflow.decorators import task

orders = Dataset("s3://mwaa-demo/orders/")

with DAG(dag_id="mwaa_dataset_producer", start_date=datetime(2023, 1, 1), schedule="@daily", catchup=False) as producer:
    @task(outlets=[orders])
    def write_orders():
        return ["o1", "o2"]

    write_orders()

with DAG(dag_id="mwaa_dataset_consumer", start_date=datetime(2023, 1, 1), schedule=[orders], catchup=False) as consumer:
    @task
    def get_ids():
        return [1, 2, 3]

    @task
    def handle(order_id):
        return order_id * 2

    handle.expand(order_id=get_ids())

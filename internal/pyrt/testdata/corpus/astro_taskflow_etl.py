"""
### TaskFlow ETL

Extracts orders, transforms them and loads a total.
"""
from pendulum import datetime

from airflow.decorators import dag, task


@dag(
    start_date=datetime(2024, 1, 1),
    schedule="@daily",
    catchup=False,
    doc_md=__doc__,
    default_args={"owner": "Astro", "retries": 3},
    tags=["example", "taskflow"],
)
def taskflow_etl():
    @task()
    def extract():
        return {"1001": 301.27, "1002": 433.21, "1003": 502.22}

    @task(multiple_outputs=True)
    def transform(order_data: dict):
        total = sum(order_data.values())
        return {"total_order_value": total, "count": len(order_data)}

    @task()
    def load(total_order_value: float):
        print(f"Total order value is: {total_order_value:.2f}")

    summary = transform(extract())
    load(summary["total_order_value"])


taskflow_etl()

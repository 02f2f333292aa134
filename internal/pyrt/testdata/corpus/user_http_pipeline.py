import json
from datetime import datetime

from airflow import DAG
from airflow.providers.http.operators.http import SimpleHttpOperator
from airflow.providers.http.sensors.http import HttpSensor

with DAG("http_pipeline", start_date=datetime(2023, 1, 1), schedule_interval="@hourly", catchup=False) as dag:
    api_up = HttpSensor(task_id="api_up", http_conn_id="api", endpoint="health", poke_interval=10, timeout=300)
    fetch = SimpleHttpOperator(
        task_id="fetch",
        http_conn_id="api",
        endpoint="items",
        method="GET",
        headers={"Accept": "application/json"},
        response_filter=lambda response: json.loads(response.text),
        log_response=True,
    )
    post = SimpleHttpOperator(task_id="post", http_conn_id="api", endpoint="ingest", method="POST",
                              data=json.dumps({"day": "{{ ds }}"}))
    api_up >> fetch >> post

from datetime import datetime

from airflow.models import DAG
from airflow.operators.dummy_operator import DummyOperator
from airflow.utils.helpers import chain

args = {"owner": "airflow", "start_date": datetime(2021, 1, 1)}

with DAG(dag_id="legacy_helpers_chain", default_args=args, schedule_interval="@once") as dag:
    tasks = [DummyOperator(task_id="step_%d" % i) for i in range(4)]
    chain(*tasks)

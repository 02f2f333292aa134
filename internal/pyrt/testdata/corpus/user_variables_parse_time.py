from datetime import datetime

from airflow import DAG
from airflow.models import Variable
from airflow.operators.bash import BashOperator

ENV = Variable.get("environment", default_var="dev")
CONFIG = Variable.get("pipeline_config", default_var={"tables": ["a", "b"]}, deserialize_json=True)

with DAG(
    dag_id=f"variables_{ENV}",
    start_date=datetime(2023, 1, 1),
    schedule="@daily",
    catchup=False,
    tags=[ENV],
) as dag:
    for table in CONFIG["tables"]:
        BashOperator(task_id=f"export_{table}", bash_command="echo {{ var.value.get('bucket', 'none') }}")

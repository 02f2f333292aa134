from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

from common.defaults import DEFAULT_ARGS, notify_failure


def validate():
    return True


with DAG(
    dag_id="uses_common_defaults",
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    start_date=datetime(2023, 6, 1),
    schedule="30 2 * * *",
    catchup=False,
) as dag:
    PythonOperator(task_id="validate", python_callable=validate) >> BashOperator(
        task_id="publish", bash_command="scripts/cleanup.sh"
    )

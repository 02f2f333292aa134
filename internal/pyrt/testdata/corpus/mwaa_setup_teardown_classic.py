from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG("mwaa_setup_teardown_classic", start_date=datetime(2023, 10, 1), schedule=None) as dag:
    create = BashOperator(task_id="create_resource", bash_command="echo create")
    use = BashOperator(task_id="use_resource", bash_command="echo use")
    delete = BashOperator(task_id="delete_resource", bash_command="echo delete")
    create >> use >> delete.as_teardown(setups=create)

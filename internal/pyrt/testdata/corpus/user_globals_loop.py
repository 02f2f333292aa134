from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

for team in ["finance", "marketing"]:
    dag_id = f"report_{team}"
    dag = DAG(dag_id, start_date=datetime(2023, 1, 1), schedule="@daily", catchup=False)
    BashOperator(task_id="render", bash_command=f"echo {team}", dag=dag)
    globals()[dag_id] = dag

from datetime import datetime

from airflow import DAG
from airflow.operators.dagrun_operator import TriggerDagRunOperator
from airflow.operators.latest_only_operator import LatestOnlyOperator
from airflow.operators.bash_operator import BashOperator

dag = DAG("legacy_trigger", start_date=datetime(2020, 1, 1), schedule_interval="@hourly", catchup=False)

latest = LatestOnlyOperator(task_id="latest_only", dag=dag)
run = BashOperator(task_id="run", bash_command="echo run", dag=dag)
trigger = TriggerDagRunOperator(task_id="trigger", trigger_dag_id="legacy_python_operator", dag=dag)
latest >> run >> trigger

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

dag = DAG(
    dag_id="dag_kwarg_style",
    start_date=datetime(2022, 11, 1),
    schedule_interval=timedelta(hours=6),
    catchup=False,
    dagrun_timeout=timedelta(minutes=45),
)


def say(msg):
    print(msg)


t1 = BashOperator(task_id="print_date", bash_command="date", dag=dag)
t2 = BashOperator(task_id="sleep", bash_command="sleep 1", retries=3, dag=dag)
t3 = PythonOperator(task_id="say", python_callable=say, op_args=["hello"], dag=dag)

t1.set_downstream(t2)
t3.set_upstream(t1)

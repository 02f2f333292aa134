from datetime import datetime

from airflow import DAG
from airflow.operators.python_operator import BranchPythonOperator, PythonOperator
from airflow.operators.dummy_operator import DummyOperator

dag = DAG(dag_id="legacy_branch", start_date=datetime(2019, 1, 1), schedule_interval="@daily", catchup=False)

options = ["branch_a", "branch_b", "branch_c"]


def pick(**kwargs):
    return options[kwargs["execution_date"].day % 3]


branching = BranchPythonOperator(task_id="branching", python_callable=pick, provide_context=True, dag=dag)
join = DummyOperator(task_id="join", trigger_rule="none_failed_or_skipped", dag=dag)
for option in options:
    t = DummyOperator(task_id=option, dag=dag)
    branching >> t >> join

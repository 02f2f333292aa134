from datetime import datetime

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.task_group import TaskGroup

with DAG("group_no_prefix", start_date=datetime(2023, 1, 1), schedule=None) as dag:
    a = EmptyOperator(task_id="a")
    with TaskGroup("flat", prefix_group_id=False) as flat:
        b = EmptyOperator(task_id="b")
        c = EmptyOperator(task_id="c")
    a.set_downstream(b, edge_modifier=Label("to b"))
    a >> c

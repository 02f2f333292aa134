from datetime import datetime

from airflow import DAG
from airflow.models.baseoperator import chain_linear, cross_downstream
from airflow.operators.empty import EmptyOperator

with DAG("cross_and_linear", start_date=datetime(2023, 1, 1), schedule=None) as dag:
    a, b, c, d = [EmptyOperator(task_id=x) for x in "abcd"]
    e, f, g = [EmptyOperator(task_id=x) for x in "efg"]
    cross_downstream([a, b], [c, d])
    chain_linear([c, d], [e, f], g)

"""A DAG factory: builds one DAG per source system."""
from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator


def build_ingest_dag(source, schedule, start_date):
    with DAG(
        dag_id=f"ingest_{source}",
        schedule=schedule,
        start_date=start_date,
        catchup=False,
        tags=["ingest", source],
    ) as dag:
        start = EmptyOperator(task_id="start")
        pull = BashOperator(task_id="pull", bash_command=f"echo pulling {source} for {{{{ ds }}}}")
        done = EmptyOperator(task_id="done")
        start >> pull >> done
    return dag

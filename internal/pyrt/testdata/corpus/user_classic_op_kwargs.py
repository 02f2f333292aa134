from datetime import datetime

from airflow import DAG
from airflow.operators.python import PythonOperator
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator

TABLES = ["customers", "orders", "payments", "refunds"]


def copy_table(table, target, **kwargs):
    print(f"copy {table} to {target} for {kwargs['ds']}")


with DAG(
    dag_id="copy_tables",
    start_date=datetime(2023, 1, 1),
    schedule="0 3 * * *",
    catchup=False,
) as dag:
    begin = EmptyOperator(task_id="begin")
    finish = EmptyOperator(task_id="finish")
    for table in TABLES:
        copy = PythonOperator(
            task_id=f"copy_{table}",
            python_callable=copy_table,
            op_kwargs={"table": table, "target": "warehouse"},
        )
        check = BashOperator(task_id=f"check_{table}", bash_command=f"echo checking {table}")
        begin >> copy >> check >> finish

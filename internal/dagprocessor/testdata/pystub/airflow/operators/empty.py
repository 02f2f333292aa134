from airflow import BaseOperator


class EmptyOperator(BaseOperator):
    operator_path = "airflow.operators.empty.EmptyOperator"

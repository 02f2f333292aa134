from airflow import BaseOperator


class BashOperator(BaseOperator):
    operator_path = "airflow.operators.bash.BashOperator"

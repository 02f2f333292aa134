from airflow import BaseOperator


class PythonOperator(BaseOperator):
    pass

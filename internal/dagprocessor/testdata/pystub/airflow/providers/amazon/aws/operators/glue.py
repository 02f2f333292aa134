from airflow import BaseOperator


class GlueJobOperator(BaseOperator):
    pass

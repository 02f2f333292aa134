from airflow.models.baseoperator import BaseOperator  # noqa: F401
from airflow.models.mappedoperator import MappedOperator  # noqa: F401

Operator = BaseOperator

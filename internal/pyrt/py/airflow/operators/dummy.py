"""Deprecated name of EmptyOperator."""
from airflow.operators.empty import EmptyOperator

DummyOperator = EmptyOperator

from airflow.models.baseoperator import AbstractOperator  # noqa: F401
from airflow.utils.trigger_rule import TriggerRule  # noqa: F401

DEFAULT_OWNER = "airflow"
DEFAULT_RETRIES = 0

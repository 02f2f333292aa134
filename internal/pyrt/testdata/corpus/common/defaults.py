"""Shared settings the team's DAG files import (a local helper package next to the DAGs)."""
from datetime import timedelta

DEFAULT_ARGS = {
    "owner": "data-platform",
    "depends_on_past": False,
    "email": ["alerts@example.com"],
    "email_on_failure": True,
    "email_on_retry": False,
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


def notify_failure(context):
    print("task failed:", context["task_instance"].task_id)

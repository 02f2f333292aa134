"""TaskInstance: the type of context["ti"] (the runtime builds the live one);
ORM queries are refused."""
from airflow.models._orm import _refuse


class TaskInstance:
    """Used in type hints (`ti: TaskInstance`); the running task's instance
    comes from the context."""

    def __init__(self, *args, **kwargs):
        _refuse("TaskInstance")


class SimpleTaskInstance:
    pass


def clear_task_instances(*args, **kwargs):
    _refuse("TaskInstance (clear_task_instances)")


TaskInstanceKey = tuple

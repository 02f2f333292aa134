"""@task.short_circuit."""
from airflow.decorators.base import task_decorator_factory
from airflow.decorators.python import _PythonDecoratedOperator
from airflow.operators.python import ShortCircuitOperator


class _ShortCircuitDecoratedOperator(_PythonDecoratedOperator, ShortCircuitOperator):
    custom_operator_name = "@task.short_circuit"


def short_circuit_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable, multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_ShortCircuitDecoratedOperator, **kwargs)

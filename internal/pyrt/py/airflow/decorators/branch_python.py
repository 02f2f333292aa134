"""@task.branch."""
from airflow.decorators.base import task_decorator_factory
from airflow.decorators.python import _PythonDecoratedOperator
from airflow.operators.branch import BranchMixIn


class _BranchPythonDecoratedOperator(_PythonDecoratedOperator, BranchMixIn):
    custom_operator_name = "@task.branch"
    inherits_from_skipmixin = True

    def execute(self, context):
        return self.do_branch(context, super().execute(context))


def branch_task(python_callable=None, multiple_outputs=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable, multiple_outputs=multiple_outputs,
                                  decorated_operator_class=_BranchPythonDecoratedOperator, **kwargs)

"""@setup and @teardown: mark the task a decorated function creates."""
from airflow.decorators.base import _TaskDecorator
from airflow.exceptions import AirflowException


def _mark(deco, kind, on_failure_fail_dagrun=False):
    if not isinstance(deco, _TaskDecorator):
        from airflow.decorators.python import python_task

        deco = python_task(deco)
    new = deco.override()
    orig = new._after_create

    def after(op, _orig=orig):
        _orig(op)
        if kind == "setup":
            op.is_setup = True
        else:
            op.is_teardown = True
            op.trigger_rule = "all_done_setup_success"
            op.on_failure_fail_dagrun = on_failure_fail_dagrun

    new._after_create = after
    return new


def setup_task(func):
    return _mark(func, "setup")


def teardown_task(_func=None, *, on_failure_fail_dagrun=False):
    def wrap(f):
        return _mark(f, "teardown", on_failure_fail_dagrun)

    if _func is None:
        return wrap
    return wrap(_func)


class ContextWrapper(list):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def context_wrapper(tasks):
    return ContextWrapper(tasks)


__all__ = ["setup_task", "teardown_task", "AirflowException"]

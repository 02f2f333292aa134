"""Helpers callables use: the 1.10 context_to_airflow_vars and KeywordParameters."""
from airflow.operators.bash import context_to_airflow_vars  # noqa: F401
from airflow.operators.python import KeywordParameters, determine_kwargs  # noqa: F401


def make_kwargs_callable(func):
    import functools

    @functools.wraps(func)
    def kwargs_func(*args, **kwargs):
        kwargs = determine_kwargs(func, args, kwargs)
        return func(*args, **kwargs)

    return kwargs_func

"""airflow.utils.context: the Context type and its helpers."""


class Context(dict):
    """The dict passed to execute(context) and to callables."""


KNOWN_CONTEXT_KEYS = None


def context_merge(context, *args, **kwargs):
    from airflow.operators.python import context_merge as _cm

    _cm(context, *args, **kwargs)


def context_copy_partial(source, keys):
    return Context({k: v for k, v in source.items() if k in keys})


def get_current_context():
    from airflow.operators.python import get_current_context as _g

    return _g()


def __getattr__(name):
    if name == "KNOWN_CONTEXT_KEYS":
        from airflow.decorators.base import KNOWN_CONTEXT_KEYS as k

        return k
    raise AttributeError(name)

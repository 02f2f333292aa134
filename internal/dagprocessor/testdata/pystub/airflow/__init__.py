"""Test stand-in for the airflow package (see README.md)."""
import datetime
import sys

_registry = []
_variables_read = set()
_dags = []
_groups = []


def _value(v):
    if isinstance(v, datetime.timedelta):
        return {"__type__": "datetime.timedelta", "seconds": v.total_seconds()}
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if callable(v):
        return {"__python__": getattr(v, "__qualname__", repr(v))}
    return v


class DAG:
    def __init__(self, dag_id, **kwargs):
        self.dag_id = dag_id
        self.kwargs = {k: _value(v) for k, v in kwargs.items()}
        self.tasks = {}
        self.groups = {}
        self.line = sys._getframe(1).f_lineno
        _registry.append(self)

    def __enter__(self):
        _dags.append(self)
        return self

    def __exit__(self, *exc):
        _dags.pop()

    def doc(self):
        d = dict(self.kwargs)
        d["tasks"] = {t.task_id: t.doc() for t in self.tasks.values()}
        if self.groups:
            d["task_groups"] = self.groups
        return d


class BaseOperator:
    operator_path = None  # native class path, None for python_file_task

    def __init__(self, task_id, dag=None, **kwargs):
        self.dag = dag or (_dags[-1] if _dags else None)
        self.group = _groups[-1] if _groups else None
        self.task_id = (self.group.group_id + "." + task_id) if self.group else task_id
        self.kwargs = {k: _value(v) for k, v in kwargs.items()}
        self.upstream = []
        if self.dag is not None:
            self.dag.tasks[self.task_id] = self

    def __rshift__(self, other):
        for o in other if isinstance(other, list) else [other]:
            o.upstream.append(self.task_id)
        return other

    def __rrshift__(self, other):
        for o in other:
            self.upstream.append(o.task_id)
        return self

    def doc(self):
        cls = type(self)
        if self.operator_path:
            d = dict(self.kwargs, operator=self.operator_path)
        else:
            path = cls.__module__ + "." + cls.__qualname__
            meta = {"class_path": path, "class_name": cls.__name__, "kwargs": self.kwargs}
            if cls.__module__.startswith("airflow.providers."):
                meta["placeholder"] = {"provider": cls.__module__.split(".")[2], "class_path": path}
            d = {"operator": "python_file_task", "python_file_task": meta}
        if self.upstream:
            d["dependencies"] = self.upstream
        if self.group:
            d["task_group_name"] = self.group.group_id
        return d

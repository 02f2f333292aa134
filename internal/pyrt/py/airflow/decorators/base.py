"""The machinery behind @task: a decorated function becomes an operator
each time it is called at DAG-build time, and the call returns an XComArg."""
import functools
import re

from airflow.exceptions import AirflowException
from airflow.models.baseoperator import BaseOperator
from airflow.models.dag import DagContext
from airflow.utils.types import NOTSET, ArgNotSet

# Context keys a task function may name as parameters (they must default to None).
KNOWN_CONTEXT_KEYS = frozenset((
    "conf", "conn", "dag", "dag_run", "data_interval_end", "data_interval_start", "ds", "ds_nodash",
    "execution_date", "expanded_ti_count", "exception", "inlets", "inlet_events", "logical_date", "macros",
    "map_index_template", "next_ds", "next_ds_nodash", "next_execution_date", "outlets", "outlet_events",
    "params", "prev_data_interval_start_success", "prev_data_interval_end_success", "prev_ds",
    "prev_ds_nodash", "prev_execution_date", "prev_execution_date_success", "prev_start_date_success",
    "prev_end_date_success", "reason", "run_id", "task", "task_instance", "task_instance_key_str",
    "test_mode", "templates_dict", "ti", "tomorrow_ds", "tomorrow_ds_nodash", "triggering_dataset_events",
    "ts", "ts_nodash", "ts_nodash_with_tz", "try_number", "var", "yesterday_ds", "yesterday_ds_nodash",
))


def get_unique_task_id(task_id, dag=None, task_group=None):
    """task_id, or task_id__N when the DAG already has it (repeated calls
    of one @task function)."""
    from airflow.utils.task_group import TaskGroupContext

    dag = dag or DagContext.get_current_dag()
    if not dag:
        return task_id
    task_group = task_group or TaskGroupContext.get_current_task_group(dag)
    tg_task_id = task_group.child_id(task_id) if task_group else task_id
    if tg_task_id not in dag.task_ids:
        return task_id

    def _find_id_suffixes(dag):
        prefix = re.split(r"__\d+$", tg_task_id)[0]
        for t in dag.task_ids:
            m = re.match(r"^%s__(\d+)$" % re.escape(prefix), t)
            if m:
                yield int(m.group(1))
        yield 0

    core = re.split(r"__\d+$", task_id)[0]
    return "%s__%d" % (core, max(_find_id_suffixes(dag)) + 1)


def _infer_multiple_outputs(fn):
    import inspect

    try:
        ret = inspect.signature(fn).return_annotation
    except (TypeError, ValueError):
        return False
    if ret is inspect.Signature.empty:
        return False
    if isinstance(ret, str):
        s = ret.replace(" ", "")
        return bool(re.match(r"^(typing\.)?(dict|Dict|Mapping|MutableMapping|collections\.abc\.Mapping)(\[|$)", s))
    import typing

    origin = typing.get_origin(ret) or ret
    try:
        import collections.abc

        return isinstance(origin, type) and issubclass(origin, (dict, collections.abc.Mapping))
    except TypeError:
        return False


class DecoratedOperator(BaseOperator):
    """An operator built from a decorated function."""

    template_fields = ("op_args", "op_kwargs")
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}
    shallow_copy_attrs = ("python_callable",)

    def __init__(self, *, python_callable, task_id, op_args=None, op_kwargs=None, kwargs_to_upstream=None, **kwargs):
        import inspect

        task_id = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        self.python_callable = python_callable
        op_args = list(op_args or [])
        op_kwargs = dict(op_kwargs or {})
        sig = inspect.signature(python_callable)
        # default_args feed the function's parameters the call left out.
        defaults = self.__dict__.get("_ws_defaults") or {}
        if defaults:
            bound_names = set(list(sig.parameters)[: len(op_args)]) | set(op_kwargs)
            for name, p in sig.parameters.items():
                if name not in bound_names and name in defaults and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    op_kwargs[name] = defaults[name]
        # Bind now so a wrong call fails at parse time, as in Airflow;
        # context keys (def f(*, outlet_events)) are filled when it runs.
        try:
            sig = sig.replace(parameters=[p.replace(default=None) if p.name in KNOWN_CONTEXT_KEYS and p.default is p.empty else p
                                          for p in sig.parameters.values()])
        except ValueError:  # a context key before a parameter without default
            pass
        sig.bind(*op_args, **op_kwargs)
        self.op_args = op_args
        self.op_kwargs = op_kwargs
        upstream = dict(kwargs_to_upstream or {})
        if "op_args" in upstream:
            upstream["op_args"] = op_args
        if "op_kwargs" in upstream:
            upstream["op_kwargs"] = op_kwargs
        super().__init__(task_id=task_id, **upstream, **kwargs)

    def get_python_source(self):
        import inspect

        return inspect.getsource(self.python_callable)


class _TaskDecorator:
    """What @task returns: call it to add a task, or use .override,
    .partial, .expand, .expand_kwargs."""

    def __init__(self, function, operator_class, multiple_outputs=NOTSET, kwargs=None, decorator_name="task"):
        import inspect

        self.function = function
        self.operator_class = operator_class
        self.kwargs = dict(kwargs or {})
        self.decorator_name = decorator_name
        sig = inspect.signature(function)
        params = list(sig.parameters.values())
        if params and params[0].name == "self":
            raise TypeError("@%s does not support methods" % decorator_name)
        for p in params:
            if p.name in KNOWN_CONTEXT_KEYS and p.default is not p.empty and p.default is not None:
                raise ValueError("Context key parameter %s can't have a default other than None" % p.name)
        if isinstance(multiple_outputs, ArgNotSet):
            multiple_outputs = _infer_multiple_outputs(function)
        self.multiple_outputs = multiple_outputs
        functools.update_wrapper(self, function)

    @property
    def task_id(self):
        return self.kwargs.get("task_id") or self.function.__name__

    def _op_kwargs(self):
        kw = dict(self.kwargs)
        kw.setdefault("task_id", self.function.__name__)
        return kw

    def __call__(self, *args, **kwargs):
        from airflow.models.xcom_arg import XComArg

        op = self.operator_class(
            python_callable=self.function,
            op_args=args,
            op_kwargs=kwargs,
            multiple_outputs=self.multiple_outputs,
            **self._op_kwargs(),
        )
        if self.function.__doc__ and not any(op.__dict__.get(d) for d in ("doc", "doc_md", "doc_json", "doc_yaml", "doc_rst")):
            op.doc_md = self.function.__doc__
            op._ws_doc_from_docstring = True
        self._after_create(op)
        return XComArg(op)

    def _after_create(self, op):
        """Hook for @setup/@teardown."""

    def override(self, **kwargs):
        new = _TaskDecorator.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.kwargs = {**self.kwargs, **kwargs}
        if "multiple_outputs" in kwargs:
            new.multiple_outputs = new.kwargs.pop("multiple_outputs")
        return new

    def partial(self, **kwargs):
        return _TaskDecoratorPartial(self, kwargs)

    def expand(self, **map_kwargs):
        return self.partial().expand(**map_kwargs)

    def expand_kwargs(self, kwargs, *, strict=True):
        return self.partial().expand_kwargs(kwargs, strict=strict)

    # Build the real operator for one map index (windsock_rt.execute).
    def unmap(self, mapped, partial_kwargs, resolved):
        op_kwargs = dict(partial_kwargs.pop("op_kwargs", {}) or {})
        op_kwargs.update(resolved)
        short = mapped.task_id.rsplit(".", 1)[-1] if mapped.task_group is not None and mapped.task_group.group_id else mapped.task_id
        op = self.operator_class(
            python_callable=self.function,
            op_args=(),
            op_kwargs=op_kwargs,
            multiple_outputs=self.multiple_outputs,
            **{k: v for k, v in partial_kwargs.items() if k not in ("task_id", "python_callable", "op_args", "multiple_outputs")},
            task_id=short,
            dag=mapped.dag,
            task_group=mapped.task_group,
            _airflow_from_mapped=True,
        )
        op.task_id = mapped.task_id
        op.upstream_task_ids = mapped.upstream_task_ids
        op.downstream_task_ids = mapped.downstream_task_ids
        return op

    def __repr__(self):
        return "<%s %s>" % (self.decorator_name, self.function.__name__)


class _TaskDecoratorPartial:
    def __init__(self, decorator, fixed):
        self.decorator = decorator
        self.fixed = fixed

    def _create(self, expand_input, kind):
        from airflow.models.mappedoperator import MappedOperator, ensure_xcomarg_return_value, _check_mappable
        from airflow.models.xcom_arg import XComArg

        d = self.decorator
        if kind == "dict":
            for k, v in expand_input.items():
                _check_mappable(k, v)
            ensure_xcomarg_return_value(expand_input)
        kw = d._op_kwargs()
        task_id = get_unique_task_id(kw.pop("task_id"), kw.get("dag"), kw.get("task_group"))
        partial_kwargs = dict(kw, task_id=task_id, op_kwargs=dict(self.fixed), python_callable=d.function,
                              multiple_outputs=d.multiple_outputs)
        op = MappedOperator.create(d.operator_class, partial_kwargs, expand_input, kind, decorated=d)
        op._ws_fn_partial = dict(self.fixed)
        return XComArg(op)

    def expand(self, **map_kwargs):
        if not map_kwargs:
            raise TypeError("no arguments to expand against")
        import inspect

        sig = inspect.signature(self.decorator.function)
        has_var = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        if not has_var:
            for k in list(map_kwargs) + list(self.fixed):
                if k not in sig.parameters:
                    raise TypeError("%s() got an unexpected keyword argument %r" % (self.decorator.function.__name__, k))
        return self._create(map_kwargs, "dict")

    def expand_kwargs(self, kwargs, *, strict=True):
        return self._create(kwargs, "list")


def task_decorator_factory(python_callable=None, *, multiple_outputs=None, decorated_operator_class, **kwargs):
    """Build @task-style decorators: usable bare or with arguments."""
    mo = NOTSET if multiple_outputs is None else multiple_outputs
    if python_callable is not None and callable(python_callable) and not kwargs.get("_ws_no_bare"):
        return _TaskDecorator(python_callable, decorated_operator_class, mo, kwargs)
    if python_callable is not None:
        raise TypeError("No args allowed while using @task, use kwargs instead")

    def wrap(fn):
        return _TaskDecorator(fn, decorated_operator_class, mo, kwargs)

    return wrap


def get_unique_task_id_(task_id, dag=None, task_group=None):
    return get_unique_task_id(task_id, dag, task_group)


TaskDecorator = _TaskDecorator
Task = _TaskDecorator

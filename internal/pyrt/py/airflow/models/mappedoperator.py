"""Dynamic task mapping: Op.partial(...).expand(...) / .expand_kwargs(...)
builds a MappedOperator, a task of the DAG that records its class, its
fixed kwargs and what it expands over; unmap() builds one real instance."""
import copy

from airflow.exceptions import AirflowException
from airflow.models.baseoperator import AbstractOperator, BaseOperator, OrderedIdSet, _merged_defaults
from airflow.models.dag import DagContext
from airflow.utils.helpers import validate_key

# BaseOperator arguments a partial() may not take.
_NOT_PARTIAL = ("dag", "task_group")


def _init_params(cls):
    """Every named __init__ parameter along the MRO, and whether some class
    accepts arbitrary keywords beyond BaseOperator (placeholders do)."""
    import inspect

    names, open_ended = set(), False
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind == p.VAR_KEYWORD:
                if klass.__dict__.get("_ws_accepts_any_kwargs"):
                    open_ended = True
            elif p.name != "self":
                names.add(p.name)
        if klass is BaseOperator:
            break
    return names, open_ended


def validate_mapping_kwargs(op_cls, func, value):
    names, open_ended = _init_params(op_cls)
    if open_ended:
        return
    unknown = [k for k in value if k not in names]
    if unknown:
        if len(unknown) == 1:
            raise TypeError("%s.%s() got an unexpected keyword argument %r" % (op_cls.__name__, func, unknown[0]))
        raise TypeError("%s.%s() got unexpected keyword arguments %s" % (op_cls.__name__, func, ", ".join(sorted(unknown))))


def ensure_xcomarg_return_value(arg):
    from airflow.models.xcom_arg import XComArg

    if isinstance(arg, XComArg):
        for _, key in arg.iter_references():
            if key != "return_value":
                raise ValueError("cannot map over XCom with custom key %r from %r" % (key, arg))
    elif isinstance(arg, (list, tuple)):
        for v in arg:
            ensure_xcomarg_return_value(v)
    elif isinstance(arg, dict):
        for v in arg.values():
            ensure_xcomarg_return_value(v)


def _check_mappable(name, value):
    from airflow.models.xcom_arg import XComArg

    if isinstance(value, (list, dict, XComArg)) or value.__class__.__name__ == "MappedArgument":
        return
    raise ValueError("Cannot map over %r: expand() arguments must be a list, a dict or an XComArg; got %s for %s"
                     % (value, type(value).__name__, name))


class OperatorPartial:
    """The result of Op.partial(**kwargs): call expand or expand_kwargs."""

    def __init__(self, operator_class, kwargs):
        self.operator_class = operator_class
        self.kwargs = kwargs
        self._expand_called = False

    @classmethod
    def create(cls, operator_class, kwargs):
        validate_mapping_kwargs(operator_class, "partial", kwargs)
        if "task_id" not in kwargs:
            raise TypeError("partial() missing required keyword argument 'task_id'")
        return cls(operator_class, dict(kwargs))

    def __repr__(self):
        return "%s.partial(%s)" % (self.operator_class.__name__, ", ".join(self.kwargs))

    def expand(self, **mapped_kwargs):
        if not mapped_kwargs:
            raise TypeError("no arguments to expand against")
        validate_mapping_kwargs(self.operator_class, "expand", mapped_kwargs)
        for k, v in mapped_kwargs.items():
            _check_mappable(k, v)
        ensure_xcomarg_return_value(mapped_kwargs)
        self._expand_called = True
        return MappedOperator.create(self.operator_class, self.kwargs, expand_input=mapped_kwargs, kind="dict")

    def expand_kwargs(self, kwargs, *, strict=True):
        from airflow.models.xcom_arg import XComArg

        if isinstance(kwargs, (list, tuple)):
            for item in kwargs:
                if not isinstance(item, (dict, XComArg)):
                    raise TypeError("expected XComArg or list[dict], not %s" % type(kwargs).__name__)
        elif not isinstance(kwargs, XComArg):
            raise TypeError("expected XComArg or list[dict], not %s" % type(kwargs).__name__)
        self._expand_called = True
        return MappedOperator.create(self.operator_class, self.kwargs, expand_input=kwargs, kind="list")


class MappedOperator(AbstractOperator):
    """A task expanded at run time into one instance per element."""

    _is_mapped = True

    def __init__(self):
        self.upstream_task_ids = OrderedIdSet()
        self.downstream_task_ids = OrderedIdSet()

    @classmethod
    def create(cls, operator_class, partial_kwargs, expand_input, kind, *, decorated=None):
        from airflow.models.param import ParamsDict
        from airflow.utils.task_group import TaskGroupContext
        from airflow.models.dag import _caller_location

        self = cls()
        self.operator_class = operator_class
        kw = dict(partial_kwargs)
        dag = kw.pop("dag", None) or DagContext.get_current_dag()
        tg = kw.pop("task_group", None)
        if tg is None and dag is not None:
            tg = TaskGroupContext.get_current_task_group(dag)
        defaults = _merged_defaults({"dag": dag, "task_group": tg, "default_args": kw.pop("default_args", None)})
        names, _ = _init_params(operator_class)
        self._ws_written = dict(kw)
        self._ws_defaulted = {}
        for k, v in defaults.items():
            if k in names and k not in kw and k not in ("params", "task_id") and k not in (expand_input if kind == "dict" else {}):
                kw[k] = v
                self._ws_defaulted[k] = v
        task_id = kw.pop("task_id")
        validate_key(task_id)
        self.partial_kwargs = kw
        self.expand_input = expand_input
        self.expand_kind = kind  # "dict" (expand) or "list" (expand_kwargs)
        self._ws_decorated = decorated
        self.task_id = tg.child_id(task_id) if tg is not None else task_id
        self.task_group = tg
        self.dag = None
        own_params = dict(defaults.get("params") or {})
        own_params.update(kw.get("params") or {})
        self._ws_task_params = own_params
        self.params = ParamsDict(own_params)
        self.trigger_rule = kw.get("trigger_rule", "all_success")
        self.owner = kw.get("owner", "airflow")
        self.start_date = kw.get("start_date")
        self.end_date = kw.get("end_date")
        self.multiple_outputs = kw.get("multiple_outputs", False)
        self.template_fields = operator_class.template_fields
        self.template_ext = operator_class.template_ext
        self.ui_color = operator_class.ui_color
        self.ui_fgcolor = operator_class.ui_fgcolor
        self.custom_operator_name = getattr(operator_class, "custom_operator_name", None)
        self._ws_file, self._ws_line = _caller_location()
        if dag is not None:
            dag.add_task(self)
            if tg is not None:
                tg.add(self)
        from airflow.models.xcom_arg import XComArg

        XComArg.apply_upstream_relationship(self, expand_input)
        XComArg.apply_upstream_relationship(self, kw)
        return self

    def __repr__(self):
        return "<Mapped(%s): %s>" % (self.operator_class.__name__, self.task_id)

    @property
    def task_type(self):
        return self.operator_class.__name__

    @property
    def operator_name(self):
        return self.custom_operator_name or self.task_type

    @property
    def output(self):
        from airflow.models.xcom_arg import XComArg

        return XComArg(operator=self)

    def __getattr__(self, name):
        # Fields of the operator not recorded above read from the partial kwargs.
        if name.startswith("_") or name in ("partial_kwargs", "operator_class"):
            raise AttributeError(name)
        kw = self.__dict__.get("partial_kwargs", {})
        if name in kw:
            return kw[name]
        raise AttributeError("%r has no attribute %r" % (self, name))

    def unmap(self, resolved=None):
        """One real operator for one map index: the partial kwargs plus the
        expanded values in resolved (argument name -> value)."""
        kw = copy.copy(self.partial_kwargs)
        kw.pop("params", None)
        resolved = dict(resolved or {})
        if self._ws_decorated is not None:
            return self._ws_decorated.unmap(self, kw, resolved)
        kw.update(resolved)
        short = self.task_id
        tg = self.task_group
        if tg is not None and tg.prefix_group_id and tg.group_id and short.startswith(tg.group_id + "."):
            short = short[len(tg.group_id) + 1 :]
        op = self.operator_class(task_id=short, dag=self.dag, task_group=self.task_group, params=self._ws_task_params,
                                 _airflow_from_mapped=True, **kw)
        op.task_id = self.task_id
        op.upstream_task_ids = self.upstream_task_ids
        op.downstream_task_ids = self.downstream_task_ids
        return op


DecoratedMappedOperator = MappedOperator

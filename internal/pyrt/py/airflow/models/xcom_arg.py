"""XComArg: a reference to another task's XCom (a TaskFlow result or
op.output), usable as an argument and as an end of >> and <<."""
from airflow.models.taskmixin import DependencyMixin
from airflow.utils.types import NOTSET, ArgNotSet

XCOM_RETURN_KEY = "return_value"


class ResolveMixin:
    """Something resolved from the context when a task runs."""

    def iter_references(self):
        raise NotImplementedError

    def resolve(self, context, *, include_xcom=True):
        raise NotImplementedError


class XComArg(ResolveMixin, DependencyMixin):
    """XComArg(operator, key="return_value")."""

    def __new__(cls, *args, **kwargs):
        if cls is XComArg:
            return super().__new__(PlainXComArg)
        return super().__new__(cls)

    @staticmethod
    def iter_xcom_references(arg):
        """Every (operator, key) an argument value refers to, looking into
        lists, tuples, sets and dict values."""
        if isinstance(arg, ResolveMixin):
            yield from arg.iter_references()
        elif isinstance(arg, (tuple, set, list)):
            for elem in arg:
                yield from XComArg.iter_xcom_references(elem)
        elif isinstance(arg, dict):
            for elem in arg.values():
                yield from XComArg.iter_xcom_references(elem)

    @staticmethod
    def apply_upstream_relationship(op, arg):
        for operator, _ in XComArg.iter_xcom_references(arg):
            op.set_upstream(operator)

    @property
    def roots(self):
        return [op for op, _ in self.iter_references()]

    @property
    def leaves(self):
        return [op for op, _ in self.iter_references()]

    def set_upstream(self, task_or_task_list, edge_modifier=None):
        for operator, _ in self.iter_references():
            operator.set_upstream(task_or_task_list, edge_modifier)

    def set_downstream(self, task_or_task_list, edge_modifier=None):
        for operator, _ in self.iter_references():
            operator.set_downstream(task_or_task_list, edge_modifier)

    def __iter__(self):
        raise TypeError("'XComArg' object is not iterable")

    def map(self, f):
        return MapXComArg(self, [f])

    def zip(self, *others, fillvalue=NOTSET):
        return ZipXComArg([self, *others], fillvalue=fillvalue)

    def concat(self, *others):
        return ConcatXComArg([self, *others])


class PlainXComArg(XComArg):
    def __init__(self, operator, key=XCOM_RETURN_KEY):
        self.operator = operator
        self.key = key

    def __eq__(self, other):
        if not isinstance(other, PlainXComArg):
            return NotImplemented
        return self.operator is other.operator and self.key == other.key

    def __hash__(self):
        return hash((id(self.operator), self.key))

    def __getitem__(self, item):
        if not isinstance(item, str):
            raise ValueError("XComArg only supports str lookup, received %s" % type(item).__name__)
        return PlainXComArg(operator=self.operator, key=item)

    def __repr__(self):
        if self.key == XCOM_RETURN_KEY:
            return "XComArg(%r)" % (self.operator,)
        return "XComArg(%r, %r)" % (self.operator, self.key)

    def __str__(self):
        kw = ["task_ids='%s'" % self.operator.task_id, "dag_id='%s'" % self.operator.dag_id]
        if self.key is not None:
            kw.append("key='%s'" % self.key)
        return "{{ task_instance.xcom_pull(%s) }}" % ", ".join(kw)

    def iter_references(self):
        yield self.operator, self.key

    def resolve(self, context, *, include_xcom=True):
        ti = context["ti"]
        task_id = self.operator.task_id
        value = ti.xcom_pull(task_ids=task_id, key=self.key, default=NOTSET)
        if not isinstance(value, ArgNotSet):
            return value
        if self.key == XCOM_RETURN_KEY or getattr(self.operator, "multiple_outputs", False):
            return None
        from airflow.exceptions import XComNotFound

        raise XComNotFound(ti.dag_id, task_id, self.key)

    def map(self, f):
        if self.key != XCOM_RETURN_KEY:
            raise ValueError("cannot map against non-return XCom")
        return super().map(f)

    def zip(self, *others, fillvalue=NOTSET):
        if self.key != XCOM_RETURN_KEY:
            raise ValueError("cannot map against non-return XCom")
        return super().zip(*others, fillvalue=fillvalue)


class MapXComArg(XComArg):
    def __init__(self, arg, callables):
        self.arg = arg
        self.callables = list(callables)

    def __repr__(self):
        return "%r.map([%d functions])" % (self.arg, len(self.callables))

    def iter_references(self):
        yield from self.arg.iter_references()

    def map(self, f):
        return MapXComArg(self.arg, [*self.callables, f])

    def resolve(self, context, *, include_xcom=True):
        value = self.arg.resolve(context, include_xcom=include_xcom)
        if isinstance(value, dict):
            for fn in self.callables:
                value = {k: fn(v) for k, v in value.items()}
            return value
        # A mapped instance reads one entry: the functions run for that
        # entry only, when it is read (Airflow's _MapResult).
        return _MapResult(value, self.callables)


class _MapResult:
    """A sequence whose entries are the source's passed through callables
    when read."""

    def __init__(self, value, callables):
        self.value = value
        self.callables = list(callables)

    def _apply(self, v):
        for fn in self.callables:
            v = fn(v)
        return v

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._apply(v) for v in self.value[index]]
        return self._apply(self.value[index])

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self._apply(v) for v in self.value)

    def __repr__(self):
        return "_MapResult(%r, %d functions)" % (self.value, len(self.callables))


class ZipXComArg(XComArg):
    def __init__(self, args, *, fillvalue=NOTSET):
        self.args = list(args)
        self.fillvalue = fillvalue

    def __repr__(self):
        return "zip(%s)" % ", ".join(repr(a) for a in self.args)

    def iter_references(self):
        for a in self.args:
            if isinstance(a, ResolveMixin):
                yield from a.iter_references()

    def resolve(self, context, *, include_xcom=True):
        import itertools

        values = [a.resolve(context) if isinstance(a, ResolveMixin) else a for a in self.args]
        if isinstance(self.fillvalue, ArgNotSet):
            return list(zip(*values))
        return list(itertools.zip_longest(*values, fillvalue=self.fillvalue))


class ConcatXComArg(XComArg):
    def __init__(self, args):
        self.args = list(args)

    def __repr__(self):
        return "concat(%s)" % ", ".join(repr(a) for a in self.args)

    def iter_references(self):
        for a in self.args:
            yield from a.iter_references()

    def resolve(self, context, *, include_xcom=True):
        out = []
        for a in self.args:
            out.extend(a.resolve(context))
        return out


def serialize_xcom_arg(value):
    return {"type": type(value).__name__}

"""@task_group: calling the function opens a TaskGroup around its body."""
import functools

from airflow.utils.task_group import MappedTaskGroup, TaskGroup


from airflow.models.xcom_arg import ResolveMixin


class MappedArgument(ResolveMixin):
    """What a mapped @task_group's function receives for an expanded
    argument: resolved per map index when a task inside runs."""

    def __init__(self, input, key):
        self._input = input
        self._key = key

    def iter_references(self):
        from airflow.models.xcom_arg import XComArg

        value = self._input.get(self._key) if isinstance(self._input, dict) else self._input
        yield from XComArg.iter_xcom_references(value)

    def resolve(self, context, *, include_xcom=True):
        raise NotImplementedError("mapped task groups are resolved by the runtime")

    def __repr__(self):
        return "MappedArgument(%r)" % self._key


class _TaskGroupFactory:
    def __init__(self, function, tg_kwargs):
        self.function = function
        self.tg_kwargs = dict(tg_kwargs)
        functools.update_wrapper(self, function)

    def override(self, **kwargs):
        return _TaskGroupFactory(self.function, {**self.tg_kwargs, **kwargs})

    def _create(self, tg_class, *args, **kwargs):
        tg_kwargs = dict(self.tg_kwargs)
        tg_kwargs.setdefault("group_id", self.function.__name__)
        tg_kwargs.setdefault("add_suffix_on_collision", True)
        extra = tg_kwargs.pop("_expand_input", None)
        if extra is not None:
            tg_kwargs["expand_input"] = extra
        with tg_class(**tg_kwargs) as task_group:
            if self.function.__doc__ and not task_group.tooltip:
                task_group.tooltip = self.function.__doc__
            retval = self.function(*args, **kwargs)
        if retval is not None:
            return retval
        return task_group

    def __call__(self, *args, **kwargs):
        return self._create(TaskGroup, *args, **kwargs)

    def partial(self, **kwargs):
        return _TaskGroupPartial(self, kwargs)

    def expand(self, **kwargs):
        return self.partial().expand(**kwargs)

    def expand_kwargs(self, kwargs):
        return self.partial().expand_kwargs(kwargs)


class _TaskGroupPartial:
    def __init__(self, factory, fixed):
        self.factory = factory
        self.fixed = fixed

    def expand(self, **expand_kwargs):
        from airflow.models.xcom_arg import XComArg

        args = dict(self.fixed)
        for k in expand_kwargs:
            args[k] = MappedArgument(expand_kwargs, k)
        f = self.factory.override(_expand_input=expand_kwargs)
        tg = None
        ret = f._create(MappedTaskGroup, **args)
        return ret

    def expand_kwargs(self, kwargs):
        import inspect

        names = list(inspect.signature(self.factory.function).parameters)
        args = dict(self.fixed)
        for k in names:
            if k not in args:
                args[k] = MappedArgument(kwargs, k)
        f = self.factory.override(_expand_input=kwargs)
        return f._create(MappedTaskGroup, **args)


def task_group(python_callable=None, **tg_kwargs):
    """@task_group or @task_group(group_id=..., tooltip=..., ...)."""
    if callable(python_callable) and not tg_kwargs:
        return _TaskGroupFactory(python_callable, {})
    if python_callable is not None:
        tg_kwargs["group_id"] = python_callable

    def wrap(fn):
        return _TaskGroupFactory(fn, tg_kwargs)

    return wrap

"""PythonOperator and its family; get_current_context."""
import warnings

from airflow.exceptions import AirflowException
from airflow.models.baseoperator import BaseOperator
from airflow.models.skipmixin import SkipMixin, _outcome
from airflow.operators.branch import BranchMixIn


def _signature(fn):
    import inspect

    return inspect.signature(fn)


class KeywordParameters:
    """Which context keys a callable receives: all of them when it takes
    **kwargs, otherwise only those its signature names."""

    def __init__(self, kwargs, wildcard):
        self._kwargs = kwargs
        self._wildcard = wildcard

    @classmethod
    def determine(cls, func, args, kwargs):
        sig = _signature(func)
        params = list(sig.parameters.values())
        has_wildcard = any(p.kind == p.VAR_KEYWORD for p in params)
        for p in params[: len(args)]:
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name in kwargs:
                raise ValueError("The key %r in args is a part of kwargs and therefore reserved." % p.name)
        if has_wildcard:
            return cls(dict(kwargs), True)
        used = {p.name for p in params[len(args):] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        return cls({k: v for k, v in kwargs.items() if k in used}, False)

    def unpacking(self):
        return self._kwargs


def determine_kwargs(func, args, kwargs):
    return KeywordParameters.determine(func, args, kwargs).unpacking()


def context_merge(context, *args, **kwargs):
    """Merge dicts (and keyword arguments) into the context, later wins."""
    for a in args:
        if a:
            context.update(a)
    context.update(kwargs)


class PythonOperator(BaseOperator):
    """Calls python_callable(*op_args, **op_kwargs, **<context keys it accepts>)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    template_fields_renderers = {"templates_dict": "json", "op_args": "py", "op_kwargs": "py"}
    BLUE = "#ffefeb"
    ui_color = BLUE
    shallow_copy_attrs = ("python_callable", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable,
        op_args=None,
        op_kwargs=None,
        templates_dict=None,
        templates_exts=None,
        show_return_value_in_logs=True,
        **kwargs,
    ):
        if kwargs.get("provide_context"):
            warnings.warn(
                "provide_context is deprecated as of 2.0 and is no longer required", DeprecationWarning, stacklevel=3
            )
        kwargs.pop("provide_context", None)
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise AirflowException("`python_callable` param must be callable")
        self.python_callable = python_callable
        self.op_args = op_args or ()
        self.op_kwargs = op_kwargs or {}
        self.templates_dict = templates_dict
        if templates_exts:
            self.template_ext = templates_exts
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context):
        context_merge(context, self.op_kwargs, templates_dict=self.templates_dict)
        self.op_kwargs = self.determine_kwargs(context)
        return_value = self.execute_callable()
        if self.show_return_value_in_logs:
            print("Done. Returned value was: %s" % (return_value,))
        else:
            print("Done. Returned value not shown")
        return return_value

    def determine_kwargs(self, context):
        return KeywordParameters.determine(self.python_callable, self.op_args, context).unpacking()

    def execute_callable(self):
        return self.python_callable(*self.op_args, **self.op_kwargs)


class BranchPythonOperator(PythonOperator, BranchMixIn):
    """The callable returns the task id(s) to follow; the other direct
    downstream tasks are skipped."""

    inherits_from_skipmixin = True

    def execute(self, context):
        return self.do_branch(context, super().execute(context))


class ShortCircuitOperator(PythonOperator, SkipMixin):
    """A falsy return skips the downstream tasks."""

    inherits_from_skipmixin = True

    def __init__(self, *, ignore_downstream_trigger_rules=True, **kwargs):
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context):
        condition = super().execute(context)
        if condition:
            print("Proceeding with downstream tasks...")
            return condition
        print("Skipping downstream tasks")
        out = _outcome(self)
        out["skip_downstream"] = True
        out["ignore_downstream_trigger_rules"] = self.ignore_downstream_trigger_rules
        return condition


def _refuse_requirements(what, requirements):
    if requirements:
        from windsock_rt import Unsupported

        raise Unsupported(
            "%s with requirements" % what,
            "Windsock cannot install packages per task; add them to the environment's requirements.txt "
            "and use @task / PythonOperator",
        )


class PythonVirtualenvOperator(PythonOperator):
    """Without requirements it runs like PythonOperator in Windsock's
    interpreter; requirements are refused (no package installs per task)."""

    template_fields = tuple({"requirements", "index_urls", "venv_cache_path"} | set(PythonOperator.template_fields))

    def __init__(self, *, python_callable, requirements=None, python_version=None, serializer=None,
                 system_site_packages=True, pip_install_options=None, use_dill=False, use_airflow_context=False,
                 index_urls=None, venv_cache_path=None, expect_airflow=True, string_args=None,
                 skip_on_exit_code=None, env_vars=None, inherit_env=True, **kwargs):
        _refuse_requirements("PythonVirtualenvOperator", requirements)
        super().__init__(python_callable=python_callable, **kwargs)
        self.requirements = requirements or []
        self.python_version = python_version
        self.system_site_packages = system_site_packages
        self.index_urls = index_urls
        self.venv_cache_path = venv_cache_path
        self.string_args = string_args or []


class BranchPythonVirtualenvOperator(PythonVirtualenvOperator, BranchMixIn):
    def execute(self, context):
        return self.do_branch(context, super().execute(context))


class ExternalPythonOperator(PythonOperator):
    """Runs the callable in Windsock's interpreter (python= is recorded)."""

    template_fields = tuple({"python"} | set(PythonOperator.template_fields))

    def __init__(self, *, python, python_callable, serializer=None, use_dill=False, use_airflow_context=False,
                 expect_airflow=True, expect_pendulum=False, string_args=None, skip_on_exit_code=None,
                 env_vars=None, inherit_env=True, **kwargs):
        super().__init__(python_callable=python_callable, **kwargs)
        self.python = python
        self.string_args = string_args or []


class BranchExternalPythonOperator(ExternalPythonOperator, BranchMixIn):
    def execute(self, context):
        return self.do_branch(context, super().execute(context))


def get_current_context():
    """The context of the task running in this process."""
    try:
        from windsock_rt.context import current_context
    except ImportError:
        current_context = None
    ctx = current_context() if current_context is not None else None
    if not ctx:
        raise AirflowException(
            "Current context was requested but no context was found! Are you running within an airflow task?"
        )
    return ctx


def is_venv_installed():
    import importlib.util
    import shutil

    return bool(shutil.which("virtualenv") or importlib.util.find_spec("virtualenv"))

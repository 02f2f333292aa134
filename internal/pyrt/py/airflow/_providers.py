"""Placeholders for provider classes Windsock does not implement: the DAG
file imports and builds them, the DAG shows in the UI with its real
operator names, and a try (or any use of a hook) fails with a message
naming the provider package this environment lacks."""
from airflow.exceptions import AirflowException, AirflowFailException

# Provider packages whose names take two segments of the module path.
_TWO_LEVEL = frozenset(("apache", "cncf", "common", "microsoft", "dbt", "atlassian", "fab", "edge", "teradata_x"))

# Guesses for 1.10 airflow.contrib modules that the alias table does not list.
_CONTRIB_HINTS = (
    ("aws", "amazon"), ("s3", "amazon"), ("emr", "amazon"), ("sagemaker", "amazon"), ("ecs", "amazon"),
    ("redshift", "amazon"), ("athena", "amazon"), ("dynamodb", "amazon"), ("sqs", "amazon"), ("sns", "amazon"),
    ("glue", "amazon"), ("gcp", "google"), ("gcs", "google"), ("bigquery", "google"), ("dataproc", "google"),
    ("dataflow", "google"), ("pubsub", "google"), ("kubernetes", "cncf.kubernetes"), ("spark", "apache.spark"),
    ("hive", "apache.hive"), ("azure", "microsoft.azure"), ("wasb", "microsoft.azure"), ("adls", "microsoft.azure"),
    ("databricks", "databricks"), ("snowflake", "snowflake"), ("ssh", "ssh"), ("sftp", "sftp"), ("slack", "slack"),
    ("docker", "docker"), ("mongo", "mongo"), ("redis", "redis"), ("jira", "atlassian.jira"), ("mysql", "mysql"),
)


def provider_of(module):
    """The provider package name ("amazon", "cncf.kubernetes") a module path belongs to."""
    parts = module.split(".")
    if parts[:2] == ["airflow", "providers"] and len(parts) > 2:
        if parts[2] in _TWO_LEVEL and len(parts) > 3:
            return parts[2] + "." + parts[3]
        return parts[2]
    low = module.lower()
    for hint, provider in _CONTRIB_HINTS:
        if hint in low:
            return provider
    return "unknown"


def package_name(provider):
    return "apache-airflow-providers-" + provider.replace(".", "-").replace("_", "-")


def missing_message(provider, class_path):
    return "%s needs the provider package %s, which this environment lacks" % (class_path, package_name(provider))


_cache = {}


def _placeholder_operator_base():
    from airflow.models.baseoperator import BaseOperator, _sig_params

    base_names = set(_sig_params(BaseOperator.__init__)[0])

    class PlaceholderOperator(BaseOperator):
        """A provider operator this environment does not implement."""

        _ws_accepts_any_kwargs = True
        _ws_placeholder = None
        template_fields = ()
        ui_color = "#f9e4e4"

        def __init__(self, **kwargs):
            base = {k: v for k, v in kwargs.items() if k in base_names or k in ("provide_context", "_airflow_from_mapped")}
            own = {k: v for k, v in kwargs.items() if k not in base}
            self._ws_placeholder_kwargs = own
            for k, v in own.items():
                if not hasattr(type(self), k):
                    self.__dict__[k] = v
            super().__init__(**base)

        def set_xcomargs_dependencies(self):
            # The real class's template_fields are unknown: any argument
            # holding an XComArg makes an edge, as it would for a templated one.
            from airflow.models.xcom_arg import XComArg

            for value in self._ws_placeholder_kwargs.values():
                XComArg.apply_upstream_relationship(self, value)

        def execute(self, context):
            # Fails without retrying: the package will not appear between tries.
            p = self._ws_placeholder
            raise AirflowFailException(missing_message(p["provider"], p["class_path"]))

    return PlaceholderOperator


def _placeholder_hook_base():
    from airflow.hooks.base import BaseHook

    class PlaceholderHook(BaseHook):
        """A provider hook this environment does not implement: building it
        works (files do it at parse time), using it fails clearly."""

        _ws_placeholder = None

        def __init__(self, *args, **kwargs):
            self.__dict__["_ws_args"] = (args, kwargs)

        def __getattr__(self, name):
            if name.startswith("_"):
                raise AttributeError(name)
            p = type(self)._ws_placeholder
            raise AirflowFailException(missing_message(p["provider"], p["class_path"]))

    return PlaceholderHook


class PlaceholderValue:
    """Any other provider name (a helper class, a constant, a function):
    accepts any use at parse time."""

    def __init__(self, *args, **kwargs):
        self.__dict__["_ws_args"] = (args, kwargs)

    def __call__(self, *args, **kwargs):
        return PlaceholderValue(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return PlaceholderValue()

    def __iter__(self):
        return iter(())

    def __repr__(self):
        return "<%s placeholder>" % (getattr(type(self), "_ws_path", "provider"),)


def placeholder(module, name):
    """The placeholder for module.name (one object per name, so isinstance
    and subclassing work)."""
    key = (module, name)
    if key in _cache:
        return _cache[key]
    class_path = module + "." + name
    info = {"provider": provider_of(module), "class_path": class_path}
    low = module.lower()
    if name[:1].isupper():
        if name.endswith("Hook"):
            base = _bases("hook")
        elif name.endswith(("Operator", "Sensor")) or any(s in low for s in (".operators.", ".sensors.", ".transfers.")) and not name.endswith(
            ("Trigger", "Link", "Exception", "Error", "Secret", "Resource")
        ):
            base = _bases("operator")
        else:
            base = PlaceholderValue
        if base is PlaceholderValue:
            obj = type(name, (PlaceholderValue,), {"__module__": module, "_ws_path": class_path})
        else:
            obj = type(base)(name, (base,), {"__module__": module, "_ws_placeholder": info})
        obj.__qualname__ = name
    else:
        obj = PlaceholderValue()
        obj.__dict__["_ws_path"] = class_path
    _cache[key] = obj
    return obj


_base_cache = {}


def _bases(kind):
    if kind not in _base_cache:
        _base_cache[kind] = _placeholder_operator_base() if kind == "operator" else _placeholder_hook_base()
    return _base_cache[kind]


def placeholder_decorated_operator(provider, class_path, operator_name):
    """The operator class behind a provider task decorator (@task.docker...)."""
    key = ("decorated", class_path)
    if key in _cache:
        return _cache[key]
    from airflow.decorators.python import _PythonDecoratedOperator

    module, name = class_path.rsplit(".", 1)
    info = {"provider": provider, "class_path": class_path}
    ns = {"__module__": module, "_ws_placeholder": info, "custom_operator_name": operator_name, "_ws_accepts_any_kwargs": True}

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, **kwargs):
        from airflow.models.baseoperator import BaseOperator, _sig_params

        names = set(_sig_params(BaseOperator.__init__)[0]) | {"task_id", "multiple_outputs", "_airflow_from_mapped"}
        own = {k: kwargs.pop(k) for k in list(kwargs) if k not in names}
        self._ws_placeholder_kwargs = own
        _PythonDecoratedOperator.__init__(self, python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs, **kwargs)

    def execute(self, context):
        raise AirflowFailException(missing_message(provider, class_path))

    ns["__init__"] = __init__
    ns["execute"] = execute
    cls = type(_PythonDecoratedOperator)(name, (_PythonDecoratedOperator,), ns)
    cls.__qualname__ = name
    _cache[key] = cls
    return cls

"""airflow.decorators: task (and its variants), dag, task_group, setup, teardown."""
from airflow.decorators.base import DecoratedOperator, TaskDecorator, get_unique_task_id  # noqa: F401
from airflow.decorators.python import python_task
from airflow.decorators.setup_teardown import setup_task as setup, teardown_task as teardown  # noqa: F401
from airflow.decorators.task_group import task_group  # noqa: F401
from airflow.models.dag import dag  # noqa: F401

# Provider decorators: the task builds a placeholder that names the provider.
_PROVIDER_DECORATORS = {
    "docker": ("docker", "airflow.providers.docker.decorators.docker._DockerDecoratedOperator"),
    "kubernetes": ("cncf.kubernetes", "airflow.providers.cncf.kubernetes.decorators.kubernetes._KubernetesDecoratedOperator"),
    "kubernetes_cmd": ("cncf.kubernetes", "airflow.providers.cncf.kubernetes.decorators.kubernetes_cmd._KubernetesCmdDecoratedOperator"),
    "pyspark": ("apache.spark", "airflow.providers.apache.spark.decorators.pyspark._PySparkDecoratedOperator"),
    "snowpark": ("snowflake", "airflow.providers.snowflake.decorators.snowpark._SnowparkDecoratedOperator"),
    "sftp_sensor": ("sftp", "airflow.providers.sftp.decorators.sensors.sftp._DecoratedSFTPSensor"),
    "databricks_sql": ("databricks", "airflow.providers.databricks.decorators.databricks_sql._DatabricksSqlDecoratedOperator"),
}


class TaskDecoratorCollection:
    """`task`: callable as @task / @task(...), with .python, .branch,
    .short_circuit, .bash, .sensor, .virtualenv, .external_python,
    .branch_virtualenv, .branch_external_python, .run_if, .skip_if."""

    def __call__(self, python_callable=None, multiple_outputs=None, **kwargs):
        return python_task(python_callable, multiple_outputs=multiple_outputs, **kwargs)

    python = staticmethod(python_task)

    @staticmethod
    def branch(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.decorators.branch_python import branch_task

        return branch_task(python_callable, multiple_outputs=multiple_outputs, **kwargs)

    @staticmethod
    def short_circuit(python_callable=None, multiple_outputs=None, **kwargs):
        from airflow.decorators.short_circuit import short_circuit_task

        return short_circuit_task(python_callable, multiple_outputs=multiple_outputs, **kwargs)

    @staticmethod
    def bash(python_callable=None, **kwargs):
        from airflow.decorators.bash import bash_task

        return bash_task(python_callable, **kwargs)

    @staticmethod
    def sensor(python_callable=None, **kwargs):
        from airflow.decorators.sensor import sensor_task

        return sensor_task(python_callable, **kwargs)

    @staticmethod
    def virtualenv(python_callable=None, multiple_outputs=None, **kwargs):
        return _venv_like("@task.virtualenv", python_callable, multiple_outputs, kwargs, branch=False)

    @staticmethod
    def branch_virtualenv(python_callable=None, multiple_outputs=None, **kwargs):
        return _venv_like("@task.branch_virtualenv", python_callable, multiple_outputs, kwargs, branch=True)

    @staticmethod
    def external_python(python_callable=None, multiple_outputs=None, **kwargs):
        return _venv_like("@task.external_python", python_callable, multiple_outputs, kwargs, branch=False)

    @staticmethod
    def branch_external_python(python_callable=None, multiple_outputs=None, **kwargs):
        return _venv_like("@task.branch_external_python", python_callable, multiple_outputs, kwargs, branch=True)

    @staticmethod
    def run_if(condition, skip_message=None):
        return _condition(condition, skip_message, run=True)

    @staticmethod
    def skip_if(condition, skip_message=None):
        return _condition(condition, skip_message, run=False)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _PROVIDER_DECORATORS:
            provider, class_path = _PROVIDER_DECORATORS[name]

            def factory(python_callable=None, multiple_outputs=None, **kwargs):
                from airflow._providers import placeholder_decorated_operator

                cls = placeholder_decorated_operator(provider, class_path, "@task." + name)
                from airflow.decorators.base import task_decorator_factory

                return task_decorator_factory(python_callable, multiple_outputs=multiple_outputs,
                                              decorated_operator_class=cls, **kwargs)

            return factory
        raise AttributeError("task decorator %r not found" % name)


# Keyword arguments of the virtualenv/external-python operators that do not
# apply when the function runs in Windsock's own interpreter.
_VENV_KWARGS = (
    "requirements", "python_version", "serializer", "system_site_packages", "pip_install_options",
    "use_dill", "use_airflow_context", "index_urls", "venv_cache_path", "expect_airflow", "expect_pendulum",
    "string_args", "skip_on_exit_code", "env_vars", "inherit_env", "python",
)


def _venv_like(name, python_callable, multiple_outputs, kwargs, branch):
    if kwargs.get("requirements"):
        from windsock_rt import Unsupported

        raise Unsupported(
            "%s(requirements=...)" % name,
            "Windsock cannot install packages per task; add them to the environment's requirements.txt and use @task",
        )
    ignored = {k: kwargs.pop(k) for k in list(kwargs) if k in _VENV_KWARGS}
    from airflow.decorators.base import task_decorator_factory

    if branch:
        from airflow.decorators.branch_python import _BranchPythonDecoratedOperator as base
    else:
        from airflow.decorators.python import _PythonDecoratedOperator as base
    cls = type(base.__name__, (base,), {"custom_operator_name": name, "__module__": base.__module__,
                                        "_ws_venv_kwargs": ignored})
    cls.__qualname__ = base.__qualname__
    return task_decorator_factory(python_callable, multiple_outputs=multiple_outputs, decorated_operator_class=cls, **kwargs)


def _condition(condition, skip_message, run):
    from airflow.exceptions import AirflowSkipException

    def deco(task_deco):
        new = task_deco.override()
        prev = new.kwargs.get("pre_execute")

        def pre_execute(context, _prev=prev):
            ok = bool(condition(context))
            if ok != run:
                raise AirflowSkipException(skip_message or "Task was skipped because a condition was not met.")
            if _prev is not None:
                _prev(context)

        new.kwargs["pre_execute"] = pre_execute
        return new

    return deco


task = TaskDecoratorCollection()

__all__ = ["dag", "task", "task_group", "setup", "teardown"]


def __getattr__(name):
    # `import airflow` then `airflow.<pkg>.<module>.x` works in Airflow because
    # its start-up imports most modules; here submodules load on first use.
    import importlib

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return importlib.import_module(__name__ + "." + name)
    except ModuleNotFoundError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None

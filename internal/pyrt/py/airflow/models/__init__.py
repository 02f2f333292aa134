"""airflow.models: DAG, BaseOperator, Variable, Connection, Param... loaded
on first use so `import airflow` stays cheap."""
import importlib

_NAMES = {
    "DAG": "airflow.models.dag",
    "DagBag": "airflow.models.dagbag",
    "BaseOperator": "airflow.models.baseoperator",
    "BaseOperatorLink": "airflow.models.baseoperator",
    "Operator": "airflow.models.baseoperator",
    "MappedOperator": "airflow.models.mappedoperator",
    "Variable": "airflow.models.variable",
    "Connection": "airflow.models.connection",
    "Param": "airflow.models.param",
    "ParamsDict": "airflow.models.param",
    "XComArg": "airflow.models.xcom_arg",
    "XCom": "airflow.models.xcom",
    "TaskInstance": "airflow.models.taskinstance",
    "DagRun": "airflow.models.dagrun",
    "Pool": "airflow.models.pool",
    "SkipMixin": "airflow.models.skipmixin",
    "DagModel": "airflow.models._orm",
    "DagTag": "airflow.models._orm",
    "DagOwnerAttributes": "airflow.models._orm",
    "DagPickle": "airflow.models._orm",
    "DagWarning": "airflow.models._orm",
    "DbCallbackRequest": "airflow.models._orm",
    "ImportError": "airflow.models._orm",
    "Log": "airflow.models._orm",
    "RenderedTaskInstanceFields": "airflow.models._orm",
    "SlaMiss": "airflow.models._orm",
    "TaskFail": "airflow.models._orm",
    "TaskReschedule": "airflow.models._orm",
    "Trigger": "airflow.models._orm",
    "Base": "airflow.models._orm",
    "ID_LEN": "airflow.models._orm",
    "clear_task_instances": "airflow.models.taskinstance",
    "DagParam": "airflow.models.param",
}

__all__ = sorted(_NAMES)


def __getattr__(name):
    mod = _NAMES.get(name)
    if mod is None:
        if not name.startswith("__"):
            try:
                return importlib.import_module("airflow.models." + name)
            except ModuleNotFoundError:
                pass
        raise AttributeError("module 'airflow.models' has no attribute %r" % name)
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value

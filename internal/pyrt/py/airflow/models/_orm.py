"""Airflow's ORM models: importable (files import them for type hints and
cleanup DAGs), refused when used: Windsock tasks never touch the metadata
database."""


class _ORMMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        _refuse(cls.__name__)

    def __call__(cls, *args, **kwargs):
        _refuse(cls.__name__)


def _refuse(name):
    from windsock_rt import Unsupported

    raise Unsupported("Airflow's ORM model %s (direct metadata-database access)" % name,
                      "use the REST API, Variables, Connections or XComs instead")


def _model(name):
    cls = _ORMMeta(name, (), {"__module__": "airflow.models"})
    return cls


DagModel = _model("DagModel")
DagTag = _model("DagTag")
DagOwnerAttributes = _model("DagOwnerAttributes")
DagPickle = _model("DagPickle")
DagWarning = _model("DagWarning")
DbCallbackRequest = _model("DbCallbackRequest")
ImportError = _model("ImportError")  # noqa: A001 - Airflow's model name
Log = _model("Log")
RenderedTaskInstanceFields = _model("RenderedTaskInstanceFields")
SlaMiss = _model("SlaMiss")
TaskFail = _model("TaskFail")
TaskReschedule = _model("TaskReschedule")
Trigger = _model("Trigger")
Base = _model("Base")
Job = _model("Job")
ID_LEN = 250

"""Airflow's exception classes, with the names and bases DAG files and
operators catch and raise."""


class AirflowException(Exception):
    """The base of Airflow's own errors."""

    status_code = 500


class AirflowBadRequest(AirflowException):
    status_code = 400


class AirflowNotFoundException(AirflowException):
    status_code = 404


class AirflowConfigException(AirflowException):
    pass


class AirflowSensorTimeout(AirflowException):
    """A sensor gave up; the task fails without retrying."""


class AirflowRescheduleException(AirflowException):
    def __init__(self, reschedule_date):
        super().__init__()
        self.reschedule_date = reschedule_date


class AirflowSkipException(AirflowException):
    """Raised in a task to mark it skipped."""


class AirflowFailException(AirflowException):
    """Raised in a task to fail it without retrying."""


class AirflowOptionalProviderFeatureException(AirflowException):
    pass


class AirflowTaskTimeout(BaseException):
    """execution_timeout was reached (a BaseException, as in Airflow, so
    broad `except Exception` blocks do not swallow it)."""


class AirflowTaskTerminated(BaseException):
    pass


class AirflowWebServerTimeout(AirflowException):
    pass


class AirflowDagCycleException(AirflowException):
    pass


class AirflowDagDuplicatedIdException(AirflowException):
    def __init__(self, dag_id, incoming, existing):
        super().__init__(dag_id, incoming, existing)
        self.dag_id, self.incoming, self.existing = dag_id, incoming, existing

    def __str__(self):
        return "Ignoring DAG %s from %s - also found in %s" % (self.dag_id, self.incoming, self.existing)


class AirflowDagInconsistent(AirflowException):
    pass


class AirflowClusterPolicyViolation(AirflowException):
    pass


class AirflowClusterPolicySkipDag(AirflowException):
    pass


class AirflowClusterPolicyError(AirflowException):
    pass


class AirflowTimetableInvalid(AirflowException):
    pass


class DagNotFound(AirflowNotFoundException):
    pass


class DagCodeNotFound(AirflowNotFoundException):
    pass


class DagRunNotFound(AirflowNotFoundException):
    pass


class DagRunAlreadyExists(AirflowBadRequest):
    pass


class DagFileExists(AirflowBadRequest):
    pass


class TaskNotFound(AirflowNotFoundException):
    pass


class TaskInstanceNotFound(AirflowNotFoundException):
    pass


class PoolNotFound(AirflowNotFoundException):
    pass


class DuplicateTaskIdFound(AirflowException):
    pass


class TaskAlreadyInTaskGroup(AirflowException):
    pass


class SerializationError(AirflowException):
    pass


class ParamValidationError(AirflowException):
    pass


class XComNotFound(AirflowException):
    def __init__(self, dag_id, task_id, key):
        super().__init__()
        self.dag_id, self.task_id, self.key = dag_id, task_id, key

    def __str__(self):
        return 'XComArg result from %s at %s with key="%s" is not found!' % (self.task_id, self.dag_id, self.key)


class UnmappableXComTypePushed(AirflowException):
    pass


class UnmappableXComLengthPushed(AirflowException):
    pass


class AirflowProviderDeprecationWarning(DeprecationWarning):
    pass


class RemovedInAirflow3Warning(DeprecationWarning):
    pass


class TaskDeferred(BaseException):
    """Deferral needs a triggerer; Windsock runs deferrable operators in
    their non-deferrable mode, so reaching this fails the try clearly."""

    def __init__(self, *, trigger=None, method_name=None, kwargs=None, timeout=None):
        super().__init__()
        self.trigger, self.method_name, self.kwargs, self.timeout = trigger, method_name, kwargs, timeout


class TaskDeferralError(AirflowException):
    pass


class DownstreamTasksSkipped(AirflowException):
    def __init__(self, *, tasks):
        super().__init__()
        self.tasks = tasks

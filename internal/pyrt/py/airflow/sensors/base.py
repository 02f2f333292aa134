"""BaseSensorOperator: poke until done, time out, soft-fail."""
import datetime as dt
import time

from airflow.exceptions import AirflowException, AirflowSensorTimeout, AirflowSkipException
from airflow.models.baseoperator import BaseOperator

VALID_MODES = ("poke", "reschedule")


class PokeReturnValue:
    """What poke may return: done or not, and a value to push as XCom."""

    def __init__(self, is_done, xcom_value=None):
        self.xcom_value = xcom_value
        self.is_done = is_done

    def __bool__(self):
        return bool(self.is_done)


def _seconds(v):
    return v.total_seconds() if isinstance(v, dt.timedelta) else float(v)


class BaseSensorOperator(BaseOperator):
    ui_color = "#e6f1f2"
    valid_modes = VALID_MODES

    def __init__(self, *, poke_interval=60, timeout=7 * 24 * 60 * 60, soft_fail=False, mode="poke",
                 exponential_backoff=False, max_wait=None, silent_fail=False, never_fail=False, **kwargs):
        super().__init__(**kwargs)
        self.poke_interval = _seconds(poke_interval)
        self.timeout = _seconds(timeout)
        self.soft_fail = soft_fail
        self.mode = mode
        self.exponential_backoff = exponential_backoff
        self.max_wait = _seconds(max_wait) if max_wait is not None else None
        self.silent_fail = silent_fail
        self.never_fail = never_fail
        if self.poke_interval < 0:
            raise AirflowException("Cannot set poke_interval to a negative number")
        if self.timeout < 0:
            raise AirflowException("Cannot set timeout to a negative number")
        if mode not in VALID_MODES:
            raise AirflowException(
                "The mode must be one of %s,'%s.%s'; received '%s'."
                % (list(VALID_MODES), self.dag.dag_id if self.dag else "", self.task_id, mode)
            )

    def poke(self, context):
        raise AirflowException("Override me.")

    @property
    def reschedule(self):
        return self.mode == "reschedule"

    def execute(self, context):
        started = time.monotonic()
        tries = 0
        xcom_value = None
        while True:
            try:
                res = self.poke(context)
            except (AirflowSensorTimeout, AirflowSkipException):
                raise
            except Exception as e:
                if self.never_fail:
                    raise AirflowSkipException("Skipping due to never_fail is set to True and returned error: %s" % e)
                if self.soft_fail:
                    raise AirflowSkipException("Skipping due to soft_fail is set to True.") from e
                if self.silent_fail:
                    print("Sensor poke failed, continuing: %s" % e)
                    res = False
                else:
                    raise
            if isinstance(res, PokeReturnValue):
                done, xcom_value = res.is_done, res.xcom_value
            else:
                done = bool(res)
            if done:
                break
            elapsed = time.monotonic() - started
            if elapsed > self.timeout:
                msg = "Sensor has timed out; run duration of %s seconds exceeds the specified timeout of %s." % (elapsed, self.timeout)
                if self.soft_fail or self.never_fail:
                    raise AirflowSkipException(msg)
                raise AirflowSensorTimeout(msg)
            tries += 1
            time.sleep(self._get_next_poke_interval(tries))
        print("Success criteria met. Exiting.")
        return xcom_value

    def _get_next_poke_interval(self, tries):
        if not self.exponential_backoff:
            return self.poke_interval
        delay = self.poke_interval * (2 ** min(tries, 20))
        if self.max_wait is not None:
            delay = min(delay, self.max_wait)
        return delay


def poke_mode_only(cls):
    return cls

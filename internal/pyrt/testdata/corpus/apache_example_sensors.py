from __future__ import annotations

import datetime

import pendulum

from airflow.models.dag import DAG
from airflow.sensors.bash import BashSensor
from airflow.sensors.filesystem import FileSensor
from airflow.sensors.python import PythonSensor
from airflow.sensors.time_delta import TimeDeltaSensor
from airflow.sensors.date_time import DateTimeSensor
from airflow.sensors.weekday import DayOfWeekSensor
from airflow.utils.trigger_rule import TriggerRule
from airflow.utils.weekday import WeekDay


def success_callable():
    return True


with DAG("example_sensors_like", schedule=None, start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False):
    t0 = TimeDeltaSensor(task_id="wait_some_seconds", delta=datetime.timedelta(seconds=2))
    t1 = BashSensor(task_id="Sensor_succeeds", bash_command="exit 0")
    t2 = FileSensor(task_id="wait_for_file", filepath="/tmp/temporary_file_for_testing", timeout=3, soft_fail=True)
    t3 = PythonSensor(task_id="python_sensor", python_callable=success_callable)
    t4 = DayOfWeekSensor(task_id="week_day", week_day=WeekDay.MONDAY, use_task_logical_date=True)
    t5 = DateTimeSensor(task_id="until", target_time="{{ macros.datetime.utcnow().isoformat() }}")
    [t0, t1, t2, t3, t4, t5] >> TimeDeltaSensor(task_id="tail", delta=datetime.timedelta(seconds=1),
                                                trigger_rule=TriggerRule.ALL_DONE)

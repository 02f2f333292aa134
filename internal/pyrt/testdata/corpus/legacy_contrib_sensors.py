from datetime import datetime

from airflow import DAG
from airflow.contrib.sensors.file_sensor import FileSensor
from airflow.operators.bash_operator import BashOperator
from airflow.sensors.time_delta_sensor import TimeDeltaSensor
from datetime import timedelta

dag = DAG("legacy_contrib_sensors", start_date=datetime(2020, 1, 1), schedule_interval="@daily", catchup=False)

wait_file = FileSensor(task_id="wait_file", filepath="/data/in/{{ ds }}.csv", fs_conn_id="fs_default",
                       poke_interval=30, dag=dag)
wait_time = TimeDeltaSensor(task_id="wait_time", delta=timedelta(minutes=15), dag=dag)
process = BashOperator(task_id="process", bash_command="echo process", dag=dag)

process.set_upstream([wait_file, wait_time])

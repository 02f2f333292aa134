import datetime

import pendulum

from airflow.models.dag import DAG
from airflow.operators.datetime import BranchDateTimeOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.weekday import BranchDayOfWeekOperator
from airflow.utils.weekday import WeekDay

with DAG("example_branch_dt_like", start_date=pendulum.datetime(2021, 1, 1, tz="UTC"), catchup=False,
         schedule="@daily") as dag:
    in_hours = EmptyOperator(task_id="in_hours")
    out_hours = EmptyOperator(task_id="out_hours")
    by_time = BranchDateTimeOperator(task_id="by_time", follow_task_ids_if_true=["in_hours"],
                                     follow_task_ids_if_false=["out_hours"], target_upper=datetime.time(17, 0, 0),
                                     target_lower=datetime.time(9, 0, 0))
    weekend = EmptyOperator(task_id="weekend")
    by_day = BranchDayOfWeekOperator(task_id="by_day", follow_task_ids_if_true="weekend",
                                     follow_task_ids_if_false="in_hours",
                                     week_day={WeekDay.SATURDAY, WeekDay.SUNDAY})
    by_time >> [in_hours, out_hours]
    by_day >> [weekend, in_hours]

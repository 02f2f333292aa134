import pendulum

from airflow.datasets import Dataset
from airflow.decorators import dag, task
from airflow.timetables.datasets import DatasetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable


@dag(
    start_date=pendulum.datetime(2024, 6, 1, tz="America/New_York"),
    schedule=DatasetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 1 * * 5", timezone="America/New_York"),
        datasets=(Dataset("s3://reports/weekly") & Dataset("s3://reports/daily")),
    ),
    catchup=False,
)
def dataset_or_time():
    @task
    def build():
        print("build report")

    build()


dataset_or_time()

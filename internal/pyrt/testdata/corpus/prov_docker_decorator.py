from datetime import datetime

from airflow.decorators import dag, task


@dag(start_date=datetime(2024, 1, 1), schedule=None, catchup=False)
def docker_decorator():
    @task.docker(image="python:3.11-slim", auto_remove="success")
    def in_container():
        return 1

    @task
    def after(x):
        return x

    after(in_container())


docker_decorator()

from pendulum import datetime

from airflow.decorators import dag, task


@dag(start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False, tags=["bash"])
def bash_decorator():
    @task.bash
    def greet(name: str) -> str:
        return f"echo hello {name} on {{{{ ds }}}}"

    @task.short_circuit
    def weekday_only(ds=None):
        return True

    weekday_only() >> greet("team")


bash_decorator()

from pendulum import datetime

from airflow.decorators import dag, task
from airflow.sensors.base import PokeReturnValue


@dag(start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False)
def sensor_decorator():
    @task.sensor(poke_interval=30, timeout=600, mode="reschedule")
    def wait_for_api() -> PokeReturnValue:
        return PokeReturnValue(is_done=True, xcom_value={"status": "ready"})

    @task
    def use(payload):
        print(payload)

    use(wait_for_api())


sensor_decorator()

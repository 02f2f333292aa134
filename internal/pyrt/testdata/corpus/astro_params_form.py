from pendulum import datetime

from airflow.decorators import dag, task
from airflow.models.param import Param


@dag(
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    params={
        "environment": Param("dev", type="string", enum=["dev", "staging", "prod"], description="Target"),
        "batch_size": Param(100, type="integer", minimum=1, maximum=10000),
        "dry_run": Param(False, type="boolean"),
        "note": "free text",
    },
    render_template_as_native_obj=True,
)
def params_form():
    @task
    def show(params=None):
        print(params["environment"], params["batch_size"])

    show()


params_form()

import random

from pendulum import datetime

from airflow.decorators import dag, task
from airflow.operators.empty import EmptyOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.trigger_rule import TriggerRule


@dag(start_date=datetime(2024, 1, 1), schedule="@hourly", catchup=False)
def branching_labels():
    @task.branch
    def pick():
        return random.choice(["fast_path", "slow_path"])

    fast = EmptyOperator(task_id="fast_path")
    slow = EmptyOperator(task_id="slow_path")
    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    choice = pick()
    choice >> Label("quick") >> fast >> join
    choice >> Label("thorough") >> slow >> join


branching_labels()

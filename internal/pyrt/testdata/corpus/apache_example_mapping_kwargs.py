from __future__ import annotations

from datetime import datetime

from airflow.decorators import task
from airflow.models.dag import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id="example_expand_kwargs_like", start_date=datetime(2022, 3, 4), schedule=None, catchup=False) as dag:
    @task
    def make_arg_lists():
        return [[1], [2], [{"a": "b"}, "str"]]

    @task
    def consumer(*args):
        print(repr(args))

    @task
    def commands():
        return [{"bash_command": "echo a", "env": {"X": "1"}}, {"bash_command": "echo b", "env": {"X": "2"}}]

    consumer.expand_kwargs(make_arg_lists().map(lambda a: {"value": a}))
    BashOperator.partial(task_id="bash_kw").expand_kwargs(commands())
    numbers = [1, 2, 3]

    @task
    def add_one(x: int):
        return x + 1

    @task
    def sum_it(values):
        return sum(values)

    sum_it(add_one.expand(x=numbers))

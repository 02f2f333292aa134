from datetime import datetime

from airflow import DAG
from airflow.models import BaseOperator
from airflow.utils.decorators import apply_defaults


class HelloOperator(BaseOperator):
    template_fields = ("name",)
    ui_color = "#abcdef"

    @apply_defaults
    def __init__(self, name, greeting="hello", *args, **kwargs):
        super(HelloOperator, self).__init__(*args, **kwargs)
        self.name = name
        self.greeting = greeting

    def execute(self, context):
        message = "%s %s" % (self.greeting, self.name)
        print(message)
        return message


default_args = {"owner": "me", "start_date": datetime(2020, 1, 1), "greeting": "hi"}

dag = DAG("legacy_apply_defaults", default_args=default_args, schedule_interval=None)
hello = HelloOperator(task_id="hello", name="{{ dag.dag_id }}", dag=dag)

from datetime import timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.email import EmailOperator
from airflow.utils.dates import days_ago
from airflow.utils.trigger_rule import TriggerRule

args = {
    "owner": "ops",
    "start_date": days_ago(3),
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}

with DAG("mwaa_email_on_failure", default_args=args, schedule_interval="@daily", catchup=False) as dag:
    job = BashOperator(task_id="job", bash_command="exit 0")
    mail = EmailOperator(
        task_id="mail_on_failure",
        to=["ops@example.com"],
        subject="Job failed on {{ ds }}",
        html_content="<p>see logs</p>",
        trigger_rule=TriggerRule.ONE_FAILED,
    )
    job >> mail

from datetime import datetime

from airflow import DAG
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.providers.telegram.operators.telegram import TelegramOperator

with DAG("ssh_then_telegram", start_date=datetime(2024, 1, 1), schedule="0 8 * * *", catchup=False) as dag:
    backup = SSHOperator(task_id="backup", ssh_conn_id="server", command="/opt/backup.sh {{ ds }}", cmd_timeout=600)
    notify = TelegramOperator(task_id="notify", telegram_conn_id="bot", chat_id="-100123", text="Backup {{ ds }} done")
    backup >> notify

from datetime import datetime

from airflow import DAG
from airflow.contrib.operators.ssh_operator import SSHOperator
from airflow.contrib.operators.bigquery_operator import BigQueryOperator
from airflow.contrib.operators.kubernetes_pod_operator import KubernetesPodOperator
from airflow.contrib.hooks.ssh_hook import SSHHook

dag = DAG("legacy_contrib_operators", start_date=datetime(2020, 1, 1), schedule_interval=None)

ssh = SSHOperator(task_id="remote", ssh_hook=SSHHook(ssh_conn_id="box"), command="uptime", dag=dag)
bq = BigQueryOperator(task_id="bq", sql="select 1", use_legacy_sql=False, dag=dag)
pod = KubernetesPodOperator(task_id="pod", name="p", namespace="default", image="alpine", cmds=["echo"], dag=dag)
ssh >> bq >> pod

from datetime import datetime

from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret

secret_env = Secret(deploy_type="env", deploy_target="DB_PASSWORD", secret="db", key="password")

with DAG("k8s_pod", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    KubernetesPodOperator(
        task_id="run_pod",
        name="batch-job",
        namespace="jobs",
        image="python:3.11-slim",
        cmds=["python", "-c"],
        arguments=["print('hi')"],
        secrets=[secret_env],
        get_logs=True,
        is_delete_operator_pod=True,
        executor_config={"pod_override": {"metadata": {"labels": {"team": "data"}}}},
    )

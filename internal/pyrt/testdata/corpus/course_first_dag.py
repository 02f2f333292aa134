from airflow import DAG
from datetime import datetime
from airflow.operators.python import PythonOperator
from airflow.operators.bash import BashOperator


def _choose_best_model(ti):
    accuracies = ti.xcom_pull(task_ids=["training_model_A", "training_model_B"])
    return max(accuracies)


def _training_model():
    return 8


with DAG("course_my_dag", start_date=datetime(2021, 1, 1), schedule_interval="@daily", catchup=False) as dag:
    training = [PythonOperator(task_id=f"training_model_{m}", python_callable=_training_model) for m in "AB"]
    best = PythonOperator(task_id="choose_best_model", python_callable=_choose_best_model)
    accurate = BashOperator(task_id="accurate", bash_command="echo 'accurate'")
    training >> best >> accurate

if __name__ == "__main__":
    dag.cli()

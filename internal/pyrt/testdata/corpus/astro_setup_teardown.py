from pendulum import datetime

from airflow.decorators import dag, setup, task, teardown


@dag(start_date=datetime(2024, 1, 1), schedule=None, catchup=False)
def setup_teardown_demo():
    @setup
    def create_cluster():
        return "cluster-1"

    @task
    def run_query(cluster):
        return f"ran on {cluster}"

    @teardown
    def delete_cluster(cluster):
        print("deleting", cluster)

    c = create_cluster()
    run_query(c) >> delete_cluster(c)


setup_teardown_demo()

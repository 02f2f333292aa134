"""TriggerDagRunOperator, LatestOnlyOperator and the date branch operators
run in Go: a DAG file's tasks of these classes come out with their native
class path and kwargs (no python_file_task), under 2.x and 1.10 imports."""
import unittest

from tests.helpers import DagFiles, one_dag


class NativeOperatorsTest(unittest.TestCase):
    def setUp(self):
        self.files = DagFiles()
        self.addCleanup(self.files.close)

    def tasks(self, source):
        return one_dag(self.files.parse("native.py", source))["doc"]["tasks"]

    def test_trigger_and_branches_are_native(self):
        tasks = self.tasks("""
            import datetime
            import pendulum
            from airflow import DAG
            from airflow.operators.trigger_dagrun import TriggerDagRunOperator
            from airflow.operators.latest_only import LatestOnlyOperator
            from airflow.operators.weekday import BranchDayOfWeekOperator
            from airflow.operators.datetime import BranchDateTimeOperator
            from airflow.operators.empty import EmptyOperator
            from airflow.utils.weekday import WeekDay

            with DAG("d", start_date=pendulum.datetime(2024, 1, 1), schedule="@daily"):
                t = TriggerDagRunOperator(task_id="t", trigger_dag_id="target", conf={"n": 1, "ds": "{{ ds }}"},
                                          wait_for_completion=True, poke_interval=5, failed_states=["failed"])
                latest = LatestOnlyOperator(task_id="latest")
                wd = BranchDayOfWeekOperator(task_id="wd", week_day={WeekDay.SATURDAY, WeekDay.SUNDAY},
                                             follow_task_ids_if_true="a", follow_task_ids_if_false="b")
                when = BranchDateTimeOperator(task_id="when", target_lower=datetime.time(9, 30),
                                              target_upper=datetime.time(17), follow_task_ids_if_true="a",
                                              follow_task_ids_if_false=["b"])
                a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
                latest >> t >> wd >> [a, b]
                when >> [a, b]
        """)
        t = tasks["t"]
        self.assertEqual(t["operator"], "airflow.operators.trigger_dagrun.TriggerDagRunOperator")
        self.assertEqual(t["conf"], {"n": 1, "ds": "{{ ds }}"})
        self.assertEqual((t["trigger_dag_id"], t["wait_for_completion"], t["poke_interval"], t["failed_states"]),
                         ("target", True, 5, ["failed"]))
        self.assertEqual(tasks["latest"]["operator"], "airflow.operators.latest_only.LatestOnlyOperator")
        wd = tasks["wd"]
        self.assertEqual(wd["operator"], "airflow.operators.weekday.BranchDayOfWeekOperator")
        self.assertEqual(sorted(wd["week_day"]), [6, 7])
        when = tasks["when"]
        self.assertEqual(when["operator"], "airflow.operators.datetime.BranchDateTimeOperator")
        self.assertEqual((when["target_lower"], when["target_upper"]), ("09:30:00", "17:00:00"))
        for task in tasks.values():
            self.assertNotIn("python_file_task", task)

    def test_airflow_1_10_paths(self):
        tasks = self.tasks("""
            from datetime import datetime
            from airflow import DAG
            from airflow.operators.dagrun_operator import TriggerDagRunOperator
            from airflow.operators.latest_only_operator import LatestOnlyOperator

            dag = DAG("d", start_date=datetime(2024, 1, 1), schedule_interval="@daily")
            latest = LatestOnlyOperator(task_id="latest", dag=dag)
            t = TriggerDagRunOperator(task_id="t", trigger_dag_id="target", execution_date="{{ ds }}", dag=dag)
            latest >> t
        """)
        self.assertEqual(tasks["t"]["operator"], "airflow.operators.trigger_dagrun.TriggerDagRunOperator")
        self.assertEqual(tasks["t"]["execution_date"], "{{ ds }}")
        self.assertEqual(tasks["latest"]["operator"], "airflow.operators.latest_only.LatestOnlyOperator")

    def test_subclass_choosing_its_own_branch_runs_in_python(self):
        tasks = self.tasks("""
            from datetime import datetime
            from airflow import DAG
            from airflow.operators.latest_only import LatestOnlyOperator

            class Mine(LatestOnlyOperator):
                def choose_branch(self, context):
                    return []

            with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
                Mine(task_id="mine")
        """)
        self.assertEqual(tasks["mine"]["operator"], "python_file_task")

    def test_sql_and_s3_are_native(self):
        tasks = self.tasks("""
            from datetime import datetime
            from airflow import DAG
            from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
            from airflow.providers.postgres.operators.postgres import PostgresOperator
            from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
            from airflow.providers.amazon.aws.operators.s3 import S3CreateObjectOperator, S3ListOperator

            with DAG("d", start_date=datetime(2024, 1, 1), schedule=None):
                SQLExecuteQueryOperator(task_id="q", conn_id="db", sql="select {{ ds }}")
                PostgresOperator(task_id="pg", postgres_conn_id="pg", sql="select 1")
                S3KeySensor(task_id="key", bucket_key="s3://b/k", mode="reschedule", poke_interval=60)
                S3CreateObjectOperator(task_id="put", s3_key="s3://b/x", data="hi")
                S3ListOperator(task_id="ls", bucket="b", prefix="x/")
        """)
        self.assertEqual(tasks["q"]["operator"], "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator")
        self.assertEqual(tasks["pg"]["operator"], "airflow.providers.postgres.operators.postgres.PostgresOperator")
        self.assertEqual(tasks["key"]["operator"], "airflow.providers.amazon.aws.sensors.s3.S3KeySensor")
        self.assertEqual(tasks["put"]["operator"], "airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator")
        self.assertEqual(tasks["ls"]["operator"], "airflow.providers.amazon.aws.operators.s3.S3ListOperator")
        for task in tasks.values():
            self.assertNotIn("python_file_task", task)


if __name__ == "__main__":
    unittest.main()

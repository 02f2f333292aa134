"""Import errors (Contract 1): the right line, Airflow's traceback text,
refused features named, duplicate ids, bag-time errors."""
import unittest

from tests.helpers import DagFiles, one_dag


class ParseErrorsTest(unittest.TestCase):
    def setUp(self):
        self.files = DagFiles()

    def tearDown(self):
        self.files.close()

    def test_syntax_error_reports_its_line(self):
        res = self.files.parse("broken.py", """
            from airflow import DAG
            import datetime

            with DAG("broken", start_date=datetime.datetime(2024, 1, 1)) as dag:
                x = (1,
            y = 2 +
        """)
        self.assertEqual(res["dags"], [])
        self.assertEqual(len(res["import_errors"]), 1)
        err = res["import_errors"][0]
        self.assertIn(err["line"], (5, 6))
        self.assertIn("SyntaxError", err["message"])
        self.assertIn("broken.py", err["message"])

    def test_syntax_error_exact_line(self):
        res = self.files.parse("colon.py", """
            from airflow import DAG

            def f()
                pass
        """)
        err = res["import_errors"][0]
        self.assertEqual(err["line"], 3)
        self.assertIn('line 3', err["message"])
        self.assertIn("SyntaxError", err["message"])

    def test_exception_at_import_gives_traceback_and_line(self):
        path = self.files.write("boom.py", """
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            import datetime

            def helper():
                return 1 / 0

            with DAG("boom", start_date=datetime.datetime(2024, 1, 1)) as dag:
                EmptyOperator(task_id="a")
                helper()
        """)
        from windsock_rt import parse

        res = parse.parse_file(path, {})
        self.assertEqual(res["dags"], [], "a failing file yields no DAG")
        err = res["import_errors"][0]
        self.assertEqual(err["line"], 6, "the last frame inside the file")
        msg = err["message"]
        self.assertTrue(msg.startswith("Traceback (most recent call last):\n"), msg)
        self.assertIn('File "%s", line 10, in <module>' % path, msg)
        self.assertIn('File "%s", line 6, in helper' % path, msg)
        self.assertTrue(msg.rstrip().endswith("ZeroDivisionError: division by zero"), msg)
        self.assertNotIn("parse.py", msg)

    def test_traceback_keeps_the_last_two_frames(self):
        res = self.files.parse("deep.py", """
            def a():
                b()
            def b():
                c()
            def c():
                raise RuntimeError("deep")
            a()
        """)
        msg = res["import_errors"][0]["message"]
        self.assertEqual(res["import_errors"][0]["line"], 6)
        self.assertNotIn("in <module>", msg)
        self.assertIn("in b", msg)
        self.assertIn("in c", msg)
        self.assertIn("RuntimeError: deep", msg)

    def test_unknown_operator_argument_is_rejected(self):
        res = self.files.parse("badarg.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.bash import BashOperator
            with DAG("badarg", start_date=datetime.datetime(2024, 1, 1)):
                BashOperator(task_id="t", bash_command="echo", no_such_arg=1)
        """)
        err = res["import_errors"][0]
        self.assertEqual(err["line"], 5)
        self.assertIn("Invalid arguments were passed to BashOperator (task_id: t)", err["message"])
        self.assertIn("no_such_arg", err["message"])

    def test_positional_operator_arguments_are_rejected(self):
        res = self.files.parse("positional.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.python import PythonOperator
            def f(): pass
            with DAG("positional", start_date=datetime.datetime(2024, 1, 1)):
                PythonOperator(f, task_id="t")
        """)
        self.assertIn("Use keyword arguments when initializing operators", res["import_errors"][0]["message"])

    def test_missing_start_date_with_schedule(self):
        res = self.files.parse("nostart.py", """
            from airflow import DAG
            DAG("nostart", schedule="@daily")
        """)
        self.assertIn("DAG is missing the start_date parameter", res["import_errors"][0]["message"])

    def test_duplicate_task_id(self):
        res = self.files.parse("duptask.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            with DAG("duptask", start_date=datetime.datetime(2024, 1, 1)):
                EmptyOperator(task_id="a")
                EmptyOperator(task_id="a")
        """)
        self.assertEqual(res["import_errors"][0]["line"], 6)
        self.assertIn("DuplicateTaskIdFound: Task id 'a' has already been added to the DAG", res["import_errors"][0]["message"])

    def test_duplicate_dag_id_in_one_file_keeps_the_later(self):
        res = self.files.parse("dupdag.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            with DAG("same", start_date=datetime.datetime(2024, 1, 1)):
                EmptyOperator(task_id="first")
            with DAG("same", start_date=datetime.datetime(2024, 1, 1)):
                EmptyOperator(task_id="second")
        """)
        dag = one_dag(res)
        self.assertEqual(dag["dag_id"], "same")
        self.assertEqual(list(dag["doc"]["tasks"]), ["second"])
        self.assertEqual(dag["line"], 6)
        self.assertTrue(any("'same' is defined again" in w for w in res["warnings"]), res["warnings"])

    def test_cycle_is_an_import_error_and_other_dags_survive(self):
        res = self.files.parse("cycle.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            with DAG("cyclic", start_date=datetime.datetime(2024, 1, 1)):
                a = EmptyOperator(task_id="a")
                b = EmptyOperator(task_id="b")
                a >> b >> a
            with DAG("fine", start_date=datetime.datetime(2024, 1, 1)):
                EmptyOperator(task_id="x")
        """)
        self.assertEqual([d["dag_id"] for d in res["dags"]], ["fine"])
        self.assertEqual(len(res["import_errors"]), 1)
        self.assertIn("AirflowDagCycleException: Cycle detected in DAG: cyclic", res["import_errors"][0]["message"])
        self.assertEqual(res["import_errors"][0]["line"], 4)

    def test_scheduled_dag_needs_param_defaults(self):
        res = self.files.parse("params.py", """
            import datetime
            from airflow import DAG
            from airflow.models.param import Param
            from airflow.operators.empty import EmptyOperator
            with DAG("p1", start_date=datetime.datetime(2024, 1, 1), schedule="@daily", params={"x": Param(type="string")}):
                EmptyOperator(task_id="t")
            with DAG("p2", start_date=datetime.datetime(2024, 1, 1), schedule=None, params={"x": Param(type="string")}):
                EmptyOperator(task_id="t")
        """)
        self.assertEqual([d["dag_id"] for d in res["dags"]], ["p2"])
        self.assertIn("DAG Schedule must be None, if there are any required params without default values",
                      res["import_errors"][0]["message"])
        self.assertEqual(res["import_errors"][0]["line"], 5)

    def test_a_reused_process_parses_the_same_each_time(self):
        """Workers are reused (pyspec Update 2): a failure inside `with DAG` /
        `with TaskGroup` or a read Variable must not leak into the next parse."""
        good = self.files.write("good.py", """
            import datetime
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            from airflow.utils.task_group import TaskGroup
            with DAG("good", start_date=datetime.datetime(2024, 1, 1)):
                with TaskGroup("g"):
                    EmptyOperator(task_id="a")
        """)
        bad = self.files.write("bad.py", """
            import datetime
            from airflow import DAG
            from airflow.models import Variable
            from airflow.utils.task_group import TaskGroup
            Variable.get("x", default_var=None)
            with DAG("bad", start_date=datetime.datetime(2024, 1, 1)):
                with TaskGroup("left_open"):
                    raise RuntimeError("mid-group")
        """)
        from windsock_rt import parse

        first = parse.parse_file(good, {})
        self.assertEqual(len(parse.parse_file(bad, {})["import_errors"]), 1)
        again = parse.parse_file(good, {})
        for r in (first, again):
            r.pop("duration_s")
        self.assertEqual(first, again)
        self.assertEqual(list(again["dags"][0]["doc"]["tasks"]), ["g.a"])
        self.assertEqual(again["variables_read"], [])

    def test_deprecation_warnings_point_at_the_file(self):
        src = """
            from airflow import DAG
            from airflow.operators.bash_operator import BashOperator
            import datetime
            dag = DAG("w", schedule_interval="@daily", start_date=datetime.datetime(2024, 1, 1), concurrency=3)
            BashOperator(task_id="b", bash_command="echo", dag=dag)
        """
        for _ in range(2):  # a reused worker warns again for the next file
            res = self.files.parse("w.py", src)
            one_dag(res)
            path = self.files.folder + "/w.py"
            self.assertIn(path + ":2: RemovedInAirflow3Warning: This module is deprecated. Please use `airflow.operators.bash`.",
                          res["warnings"])
            self.assertIn(path + ":4: RemovedInAirflow3Warning: Param `schedule_interval` is deprecated and will be removed "
                          "in a future release. Please use `schedule` instead.", res["warnings"])
            self.assertIn(path + ":4: RemovedInAirflow3Warning: The 'concurrency' parameter is deprecated. Please use "
                          "'max_active_tasks'.", res["warnings"])

    def test_module_name_is_reported_and_kept(self):
        import sys

        from windsock_rt import parse

        path = self.files.write("my-dag.v2.py", "from airflow import DAG\nd = DAG('m', schedule=None)\n")
        res = parse.parse_file(path, {})
        self.assertTrue(res["module"].startswith("unusual_prefix_") and res["module"].endswith("_my_dag_v2"), res["module"])
        self.assertEqual(res["module"], parse.module_name(path))
        self.assertIs(sys.modules[res["module"]].d.__class__.__name__, "DAG")

    def test_duration_and_warnings(self):
        res = self.files.parse("warn.py", """
            from airflow import DAG
            from airflow.utils.dates import days_ago
            dag = DAG("warn", start_date=days_ago(1), schedule=None)
        """)
        one_dag(res)
        self.assertGreater(res["duration_s"], 0)
        self.assertTrue(any(w.startswith(self.files.folder) and ":3: DeprecationWarning: Function `days_ago`" in w
                            for w in res["warnings"]), res["warnings"])


class WithoutOptionalLibrariesTest(unittest.TestCase):
    """pendulum, jinja2 and dateutil are used when importable, never needed to parse."""

    def test_parse_without_pendulum_jinja2_dateutil(self):
        import json
        import subprocess
        import sys

        from tests.helpers import CORPUS, PY_ROOT

        code = (
            "import sys, json\n"
            "for m in ('pendulum', 'jinja2', 'dateutil', 'jsonschema'): sys.modules[m] = None\n"
            "sys.path.insert(0, %r); sys.path.insert(1, %r)\n"
            "from windsock_rt import parse\n"
            "out = {}\n"
            "for f in ('user_classic_python_etl.py', 'mwaa_task_groups_emr.py', 'legacy_python_operator.py', "
            "'user_custom_operator_sql.py', 'astro_params_form.py'):\n"
            "    r = parse.parse_file(%r + '/' + f, {})\n"
            "    out[f] = [len(r['dags']), [e['message'][-200:] for e in r['import_errors']]]\n"
            "print(json.dumps(out))\n" % (PY_ROOT, CORPUS, CORPUS)
        )
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual(out["user_classic_python_etl.py"], [1, []])
        self.assertEqual(out["mwaa_task_groups_emr.py"], [1, []])
        self.assertEqual(out["legacy_python_operator.py"], [1, []])
        self.assertEqual(out["user_custom_operator_sql.py"], [1, []])
        # A file that imports pendulum itself fails on that import, naming it.
        self.assertEqual(out["astro_params_form.py"][0], 0)
        self.assertIn("pendulum", out["astro_params_form.py"][1][0])


class RefusedTest(unittest.TestCase):
    """Features refused on purpose fail the file with a message naming them."""

    def setUp(self):
        self.files = DagFiles()

    def tearDown(self):
        self.files.close()

    def refused(self, source, feature, line):
        res = self.files.parse("refused.py", source)
        self.assertEqual(res["dags"], [])
        err = res["import_errors"][0]
        self.assertIn(feature, err["message"])
        self.assertIn("not supported by Windsock", err["message"])
        self.assertEqual(err["line"], line)
        return err

    def test_settings_session(self):
        self.refused("""
            from airflow import settings
            from airflow.models import DagRun
            session = settings.Session()
        """, "airflow.settings.Session", 3)

    def test_settings_session_import(self):
        self.refused("""
            import datetime
            from airflow.settings import Session
        """, "airflow.settings.Session", 2)

    def test_orm_model_query(self):
        self.refused("""
            from airflow.models import DagModel
            DagModel.get_current("x")
        """, "ORM model DagModel", 2)

    def test_subdag_operator(self):
        self.refused("""
            from airflow.operators.subdag import SubDagOperator
        """, "SubDagOperator", 1)

    def test_subdag_operator_old_path(self):
        self.refused("""
            import datetime
            from airflow.operators.subdag_operator import SubDagOperator
        """, "SubDagOperator", 2)

    def test_virtualenv_requirements(self):
        self.refused("""
            from airflow.decorators import task

            @task.virtualenv(requirements=["pandas==2.0"])
            def f():
                pass
        """, "@task.virtualenv(requirements=...)", 3)

    def test_trigger_dag_api(self):
        self.refused("""
            from airflow.api.common.trigger_dag import trigger_dag
        """, "airflow.api.common.trigger_dag", 1)

    def test_conf_set(self):
        self.refused("""
            from airflow.configuration import conf
            conf.set("core", "parallelism", "4")
        """, "conf.set", 2)

    def test_refusal_is_an_import_error(self):
        from windsock_rt import Unsupported

        self.assertTrue(issubclass(Unsupported, ImportError))


if __name__ == "__main__":
    unittest.main()

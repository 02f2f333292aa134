"""execute(context) of the operators Windsock may run in Python (the
pieces windsock_rt.execute calls around them are pyexec's)."""
import datetime as dt
import http.server
import json
import os
import sqlite3
import tempfile
import threading
import unittest

from tests.helpers import rpc

from airflow import DAG
from airflow.decorators import task
from airflow.exceptions import AirflowException, AirflowSensorTimeout, AirflowSkipException
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import (BranchPythonOperator, PythonOperator, ShortCircuitOperator,
                                      get_current_context)
from airflow.sensors.base import PokeReturnValue
from airflow.sensors.python import PythonSensor

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


class TI:
    """The XCom side of context["ti"] for these tests."""

    def __init__(self, xcoms=None):
        self.xcoms = dict(xcoms or {})
        self.pushed = {}
        self.task_id = "t"
        self.dag_id = "d"
        self.try_number = 1

    def xcom_pull(self, task_ids=None, key="return_value", **kwargs):
        return self.xcoms.get((task_ids, key), kwargs.get("default"))

    def xcom_push(self, key, value, **kwargs):
        self.pushed[key] = value


def context(**extra):
    ctx = {"ds": "2024-01-01", "ds_nodash": "20240101", "ts": "2024-01-01T00:00:00+00:00", "logical_date": START, "run_id": "manual__x",
           "ti": TI(), "params": {}, "data_interval_start": START, "data_interval_end": START + dt.timedelta(days=1)}
    ctx["task_instance"] = ctx["ti"]
    ctx.update(extra)
    return ctx


class PythonFamilyTest(unittest.TestCase):
    def test_callable_gets_the_context_keys_it_names(self):
        seen = {}

        def f(a, ds, ti, extra=None):
            seen.update(a=a, ds=ds, ti=ti, extra=extra)
            return "ok"

        def g(a, **kwargs):
            seen["kwargs"] = sorted(kwargs)
            return a

        with DAG("p", start_date=START):
            t1 = PythonOperator(task_id="t1", python_callable=f, op_args=[1], op_kwargs={"extra": "e"})
            t2 = PythonOperator(task_id="t2", python_callable=g, op_kwargs={"a": 5}, provide_context=True)
        ctx = context()
        self.assertEqual(t1.execute(ctx), "ok")
        self.assertEqual((seen["a"], seen["ds"], seen["extra"]), (1, "2024-01-01", "e"))
        self.assertIs(seen["ti"], ctx["ti"])
        self.assertEqual(t2.execute(context()), 5)
        self.assertIn("ds", seen["kwargs"])
        self.assertIn("templates_dict", seen["kwargs"])

    def test_positional_arg_named_like_context_key(self):
        def f(ds):
            return ds

        with DAG("p", start_date=START):
            t = PythonOperator(task_id="t", python_callable=f, op_args=["mine"])
        with self.assertRaisesRegex(ValueError, "The key 'ds' in args is a part of kwargs and therefore reserved."):
            t.execute(context())

    def test_branch_records_choice_and_expands_groups(self):
        from airflow.utils.task_group import TaskGroup

        with DAG("b", start_date=START):
            br = BranchPythonOperator(task_id="br", python_callable=lambda: ["x", "grp"])
            x = EmptyOperator(task_id="x")
            with TaskGroup("grp") as grp:
                a = EmptyOperator(task_id="a")
                b = EmptyOperator(task_id="b")
                a >> b
            br >> [x, grp]
            bad = BranchPythonOperator(task_id="bad", python_callable=lambda: "nope")
        self.assertEqual(br.execute(context()), ["x", "grp"])
        self.assertEqual(br._ws_outcome, {"branch": ["x", "grp.a"]})
        with self.assertRaisesRegex(AirflowException, "'branch_task_ids' must contain only valid task_ids"):
            bad.execute(context())

    def test_short_circuit(self):
        with DAG("s", start_date=START):
            no = ShortCircuitOperator(task_id="no", python_callable=lambda: 0, ignore_downstream_trigger_rules=False)
            yes = ShortCircuitOperator(task_id="yes", python_callable=lambda: "go")
        self.assertEqual(no.execute(context()), 0)
        self.assertEqual(no._ws_outcome, {"skip_downstream": True, "ignore_downstream_trigger_rules": False})
        self.assertEqual(yes.execute(context()), "go")
        self.assertFalse(getattr(yes, "_ws_outcome", None))

    def test_taskflow_branch_and_bash(self):
        @task.branch
        def pick(n):
            return "left" if n else "right"

        @task.bash
        def cmd(word):
            return "echo {{ ds }} " + word

        with DAG("tf", start_date=START) as d:
            pick(1) >> [EmptyOperator(task_id="left"), EmptyOperator(task_id="right")]
            cmd("hi")
        p = d.task_dict["pick"]
        self.assertEqual(p.execute(context()), "left")
        self.assertEqual(p._ws_outcome["branch"], ["left"])
        b = d.task_dict["cmd"]
        try:
            import jinja2  # noqa: F401
        except ImportError:
            self.skipTest("jinja2 is not importable")
        self.assertEqual(b.execute(context()), "2024-01-01 hi")

    def test_custom_operator_logs_through_self_log(self):
        from airflow.models import BaseOperator

        class Loud(BaseOperator):
            def execute(self, context):
                self.log.info("running %s", self.task_id)
                return self.log.name

        with DAG("l", start_date=START):
            op = Loud(task_id="loud")
        with self.assertLogs("airflow.task.operators", level="INFO") as logs:
            name = op.execute(context())
        self.assertTrue(name.startswith("airflow.task.operators."), name)
        self.assertIn("running loud", logs.output[0])

    def test_get_current_context_outside_a_task(self):
        with self.assertRaisesRegex(AirflowException, "Current context was requested but no context was found"):
            get_current_context()


class BashFallbackTest(unittest.TestCase):
    def test_exit_codes_and_last_line(self):
        with DAG("b", start_date=START):
            ok = BashOperator(task_id="ok", bash_command='echo one; echo "$AIRFLOW_CTX_DAG_RUN_ID"', env={"A": "1"})
            skip = BashOperator(task_id="skip", bash_command="exit 99")
            fail = BashOperator(task_id="fail", bash_command="exit 3")
        self.assertEqual(ok.execute(context()), "manual__x")
        with self.assertRaises(AirflowSkipException):
            skip.execute(context())
        with self.assertRaisesRegex(AirflowException, "non-zero exit code 3"):
            fail.execute(context())


class SensorTest(unittest.TestCase):
    def test_poke_return_value_and_timeout(self):
        calls = []

        def poke():
            calls.append(1)
            return PokeReturnValue(len(calls) >= 2, xcom_value={"n": len(calls)})

        with DAG("s", start_date=START):
            s = PythonSensor(task_id="s", python_callable=poke, poke_interval=0)
            never = PythonSensor(task_id="never", python_callable=lambda: False, poke_interval=0, timeout=0)
            soft = PythonSensor(task_id="soft", python_callable=lambda: False, poke_interval=0, timeout=0, soft_fail=True)
        self.assertEqual(s.execute(context()), {"n": 2})
        with self.assertRaises(AirflowSensorTimeout):
            never.execute(context())
        with self.assertRaises(AirflowSkipException):
            soft.execute(context())

    def test_bad_mode(self):
        with DAG("s", start_date=START):
            with self.assertRaisesRegex(AirflowException, "The mode must be one of"):
                PythonSensor(task_id="m", python_callable=lambda: True, mode="sometimes")


class TemplatesTest(unittest.TestCase):
    def setUp(self):
        try:
            import jinja2  # noqa: F401
        except ImportError:
            self.skipTest("jinja2 is not importable")
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_render_template_fields_with_file_and_macros(self):
        from airflow.models import BaseOperator

        os.makedirs(os.path.join(self.tmp.name, "sql"))
        with open(os.path.join(self.tmp.name, "sql", "q.sql"), "w") as f:
            f.write("select '{{ ds }}' from {{ params.table }} -- {{ shout('x') }}")

        class SqlOp(BaseOperator):
            template_fields = ("sql", "meta")
            template_ext = (".sql",)

            def __init__(self, *, sql, meta, **kwargs):
                super().__init__(**kwargs)
                self.sql, self.meta = sql, meta

        with DAG("t", start_date=START, template_searchpath=[os.path.join(self.tmp.name, "sql")],
                 user_defined_macros={"shout": lambda s: s.upper()}) as d:
            op = SqlOp(task_id="q", sql="q.sql", meta={"{{ ds }}": ["{{ ds_nodash }}", 1], "empty": "{{ '' }}"},
                       params={"table": "events"})
        d.fileloc = os.path.join(self.tmp.name, "dag.py")
        ctx = context(params={"table": "events"})
        copy = op.prepare_for_execution()
        copy.render_template_fields(ctx)
        self.assertEqual(copy.sql, "select '2024-01-01' from events -- X")
        self.assertEqual(copy.meta, {"{{ ds }}": ["20240101", 1], "empty": ""})
        self.assertEqual(op.sql, "q.sql", "the task object itself is untouched")

    def test_native_rendering_and_xcomarg_resolution(self):
        with DAG("n", start_date=START, render_template_as_native_obj=True) as d:
            src = PythonOperator(task_id="src", python_callable=lambda: 1)
            t = PythonOperator(task_id="t", python_callable=lambda **k: k, op_kwargs={"n": "{{ 1 + 1 }}", "x": src.output})
        ti = TI({("src", "return_value"): [1, 2]})
        ctx = context(ti=ti)
        t.render_template_fields(ctx)
        self.assertEqual(t.op_kwargs, {"n": 2, "x": [1, 2]})


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization")}).encode()
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class ProviderExecuteTest(unittest.TestCase):
    def setUp(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.tmp = tempfile.TemporaryDirectory()
        self.db = os.path.join(self.tmp.name, "w.db")
        port = self.server.server_address[1]
        conns = {
            "api": {"conn_id": "api", "conn_type": "http", "host": "127.0.0.1", "port": port, "login": "u",
                    "password": "p", "schema": "http", "extra": ""},
            "lite": {"conn_id": "lite", "conn_type": "sqlite", "host": self.db},
        }

        def handler(name, args):
            if name == "connection_get" and args["conn_id"] in conns:
                return conns[args["conn_id"]]
            raise rpc.NotFound("not_found", name)

        rpc.set_handler(handler)

    def tearDown(self):
        rpc.set_handler(None)
        self.server.shutdown()
        self.server.server_close()
        self.tmp.cleanup()

    def test_http_operator_with_response_check_and_filter(self):
        from airflow.providers.http.operators.http import SimpleHttpOperator
        from airflow.providers.http.sensors.http import HttpSensor

        with DAG("h", start_date=START):
            op = SimpleHttpOperator(task_id="get", http_conn_id="api", endpoint="items?x=1", method="GET",
                                    response_check=lambda r: r.status_code == 200,
                                    response_filter=lambda r, ds: (r.json()["path"], ds))
            missing = SimpleHttpOperator(task_id="missing", http_conn_id="api", endpoint="missing", method="GET")
            sensor = HttpSensor(task_id="s", http_conn_id="api", endpoint="missing", poke_interval=0, timeout=0)
        self.assertEqual(op.execute(context()), ("/items?x=1", "2024-01-01"))
        with self.assertRaisesRegex(AirflowException, "404"):
            missing.execute(context())
        with self.assertRaises(AirflowSensorTimeout):
            sensor.execute(context())

    def test_sql_execute_query_and_sensor_on_sqlite(self):
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
        from airflow.providers.common.sql.sensors.sql import SqlSensor

        with DAG("q", start_date=START):
            create = SQLExecuteQueryOperator(task_id="create", conn_id="lite", split_statements=True,
                                             sql="create table t (n integer); insert into t values (1), (2);")
            select = SQLExecuteQueryOperator(task_id="select", conn_id="lite", sql="select n from t order by n")
            wait = SqlSensor(task_id="wait", conn_id="lite", sql="select count(*) from t", success=lambda v: v == 2,
                             poke_interval=0, timeout=5)
        create.execute(context())
        self.assertEqual(select.execute(context()), [[1], [2]])
        self.assertTrue(wait.execute(context()) is None)
        self.assertEqual(sqlite3.connect(self.db).execute("select count(*) from t").fetchone()[0], 2)


if __name__ == "__main__":
    unittest.main()

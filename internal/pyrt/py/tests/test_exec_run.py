"""run_task end to end on real DAG files: the airflow package builds the DAG,
windsock_rt.execute runs one try against an in-process worker (XComs,
Variables, Connections) as the Go worker would answer them."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec_harness import Harness, context_json  # noqa: E402

TASKFLOW = '''
import pendulum
from airflow.decorators import dag, task
from airflow.operators.python import PythonOperator


def add(x, y, ti=None):
    return x + y + ti.xcom_pull(task_ids="extract")["a"]


@dag(dag_id="flow", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule=None)
def flow():
    @task
    def extract():
        return {"a": 1, "b": 2}

    @task(multiple_outputs=True)
    def split(d):
        return {"x": d["a"] * 10, "y": d["b"] * 10}

    @task
    def total(x, y, prev):
        return x + y + prev

    e = extract()
    s = split(e)
    c = PythonOperator(task_id="classic", python_callable=add, op_kwargs={"x": s["x"], "y": 5})
    total(s["x"], s["y"], c.output)


the_dag = flow()
'''


class RunTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness()
        self.addCleanup(self.h.close)

    def run_ok(self, path, dag_id, task_id, **kw):
        out, log = self.h.run(path, dag_id, task_id, **kw)
        self.assertEqual(out["state"], "success", (out.get("error") or {}).get("traceback", out) or log)
        return out, log

    def test_taskflow_and_classic_operator_share_xcoms(self):
        path = self.h.write("flow.py", TASKFLOW)
        out, _ = self.run_ok(path, "flow", "extract")
        self.assertEqual((out["has_return"], out["return_value"], out["xcoms"]), (True, {"a": 1, "b": 2}, {}))
        out, _ = self.run_ok(path, "flow", "split")
        # multiple_outputs: every key is an XCom, and return_value too
        self.assertEqual(out["xcoms"], {"x": 10, "y": 20})
        self.assertEqual(out["return_value"], {"x": 10, "y": 20})
        out, log = self.run_ok(path, "flow", "classic")
        self.assertEqual(out["return_value"], 16)
        self.assertEqual(out["rendered_fields"]["op_kwargs"], {"x": 10, "y": 5})
        self.assertIn("Done. Returned value was: 16", log)
        out, _ = self.run_ok(path, "flow", "total")
        self.assertEqual(out["return_value"], 46)
        self.assertIsNone(out["branch"])
        self.assertFalse(out["skip_downstream"])
        self.assertEqual(self.h.worker.xcom("flow", "split", key="y"), 20)

    def test_branching(self):
        path = self.h.write("branch.py", '''
            import pendulum
            from airflow import DAG
            from airflow.decorators import task
            from airflow.operators.empty import EmptyOperator
            from airflow.operators.python import BranchPythonOperator
            from airflow.utils.task_group import TaskGroup

            with DAG("br", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                @task.branch
                def choose(ds=None):
                    return "b" if ds == "2024-01-02" else "a"

                classic = BranchPythonOperator(task_id="classic", python_callable=lambda: ["a", "grp"])
                nowhere = BranchPythonOperator(task_id="nowhere", python_callable=lambda: None)
                bad = BranchPythonOperator(task_id="bad", python_callable=lambda: "missing")
                a, b = EmptyOperator(task_id="a"), EmptyOperator(task_id="b")
                with TaskGroup("grp") as grp:
                    g1 = EmptyOperator(task_id="g1")
                    g2 = EmptyOperator(task_id="g2")
                    g1 >> g2
                choose() >> [a, b]
                classic >> [a, grp]
                nowhere >> [a, b]
                bad >> a
        ''')
        out, _ = self.run_ok(path, "br", "choose")
        self.assertEqual(out["branch"], ["b"])
        self.assertEqual(out["return_value"], "b")
        out, _ = self.run_ok(path, "br", "classic")
        self.assertEqual(out["branch"], ["a", "grp.g1"])  # a group id follows the group's roots
        out, _ = self.run_ok(path, "br", "nowhere")
        self.assertEqual(out["branch"], [])
        out, _ = self.h.run(path, "br", "bad")
        self.assertEqual(out["state"], "failed")
        self.assertIn("'branch_task_ids' must contain only valid task_ids", out["error"]["message"])

    def test_short_circuit(self):
        path = self.h.write("sc.py", '''
            import pendulum
            from airflow import DAG
            from airflow.decorators import task
            from airflow.operators.empty import EmptyOperator
            from airflow.operators.python import ShortCircuitOperator

            with DAG("sc", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                stop = ShortCircuitOperator(task_id="stop", python_callable=lambda: False)
                go = ShortCircuitOperator(task_id="go", python_callable=lambda: "yes")

                @task.short_circuit(ignore_downstream_trigger_rules=False)
                def direct_only():
                    return 0

                end = EmptyOperator(task_id="end")
                [stop, go, direct_only()] >> end
        ''')
        out, log = self.run_ok(path, "sc", "stop")
        self.assertEqual((out["skip_downstream"], out["ignore_downstream_trigger_rules"]), (True, True))
        self.assertEqual(out["return_value"], False)
        out, _ = self.run_ok(path, "sc", "go")
        self.assertFalse(out["skip_downstream"])
        out, _ = self.run_ok(path, "sc", "direct_only")
        self.assertEqual((out["skip_downstream"], out["ignore_downstream_trigger_rules"]), (True, False))

    def test_custom_operator_with_sql_template_file_and_user_macros(self):
        self.h.write("sql/report.sql", "select * from {{ schema }}.t where d = '{{ ds }}' -- {{ params.who | shout }}\n")
        self.h.write("shared/other.sql", "delete from {{ schema }}.t where d < '{{ macros.ds_add(ds, -7) }}'")
        path = self.h.write("custom.py", '''
            import os
            import pendulum
            from airflow import DAG
            from airflow.models.baseoperator import BaseOperator


            class Query:
                template_fields = ("text",)

                def __init__(self, text):
                    self.text = text


            class SqlOp(BaseOperator):
                template_fields = ("sql", "cleanup", "nested", "note")
                template_ext = (".sql",)
                ui_color = "#ededed"

                def __init__(self, sql, cleanup=None, nested=None, note="", **kwargs):
                    super().__init__(**kwargs)
                    self.sql, self.cleanup, self.nested, self.note = sql, cleanup, nested, note

                def execute(self, context):
                    print("running", self.sql)
                    return {"sql": self.sql, "cleanup": self.cleanup, "nested": self.nested.text, "note": self.note}


            with DAG("custom", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     template_searchpath=[os.path.join(os.path.dirname(__file__), "shared")],
                     user_defined_macros={"schema": "prod"}, user_defined_filters={"shout": lambda s: s.upper()},
                     params={"who": "ann"}) as dag:
                SqlOp(task_id="q", sql="sql/report.sql", cleanup=["other.sql"], nested=Query("n={{ schema }}"))
        ''')
        out, log = self.run_ok(path, "custom", "q")
        self.assertEqual(out["return_value"], {
            "sql": "select * from prod.t where d = '2024-01-02' -- ANN",
            "cleanup": ["delete from prod.t where d < '2023-12-26'"],
            "nested": "n=prod", "note": ""})
        self.assertEqual(out["rendered_fields"]["sql"], "select * from prod.t where d = '2024-01-02' -- ANN")
        self.assertIn("running select * from prod.t", log)

    def test_native_rendering(self):
        path = self.h.write("native.py", '''
            import pendulum
            from airflow import DAG
            from airflow.operators.python import PythonOperator

            def kinds(n, items, when):
                return [type(n).__name__, type(items).__name__, type(when).__name__, n + 1]

            with DAG("native", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     render_template_as_native_obj=True, params={"n": 3}) as dag:
                PythonOperator(task_id="t", python_callable=kinds,
                               op_kwargs={"n": "{{ params.n }}", "items": "{{ [1, 2] }}", "when": "{{ logical_date }}"})
        ''')
        out, _ = self.run_ok(path, "native", "t")
        self.assertEqual(out["return_value"][:2], ["int", "list"])
        self.assertIn(out["return_value"][2], ("DateTime", "datetime"))
        self.assertEqual(out["return_value"][3], 4)

    def test_params_and_conf_reach_the_callable(self):
        path = self.h.write("conf.py", '''
            import pendulum
            from airflow.decorators import dag, task
            from airflow.models.param import Param
            from airflow.operators.python import get_current_context

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None, params={"size": Param(2, type="integer")})
            def confd():
                @task
                def show(params=None, dag_run=None):
                    ctx = get_current_context()
                    return [params["size"], dag_run.conf.get("extra"), ctx["ti"].task_id, ctx["ds"]]
                show()

            d = confd()
        ''')
        out, _ = self.run_ok(path, "confd", "show", conf={"extra": "x"})
        self.assertEqual(out["return_value"], [2, "x", "show", "2024-01-02"])

    def callbacks_dag(self):
        return self.h.write("cb.py", '''
            import json, os, sys
            import pendulum
            from airflow import DAG
            from airflow.exceptions import AirflowFailException, AirflowSkipException
            from airflow.operators.python import PythonOperator

            LOG = os.path.join(os.path.dirname(__file__), "callbacks.jsonl")

            def record(name):
                def cb(context):
                    exc = context.get("exception")
                    with open(LOG, "a") as f:
                        f.write(json.dumps({"cb": name, "task": context["ti"].task_id,
                                            "exception": type(exc).__name__ if exc is not None else None,
                                            "reason": context.get("reason")}) + "\\n")
                cb.__name__ = name
                return cb

            def boom():
                raise ValueError("boom")

            def skip():
                raise AirflowSkipException("nothing to do")

            def fail():
                raise AirflowFailException("give up")

            def exit_ok():
                sys.exit(0)

            def exit_bad():
                sys.exit(3)

            def broken_callback(context):
                raise RuntimeError("callback broke")

            cbs = dict(on_execute_callback=record("execute"), on_success_callback=[broken_callback, record("success")],
                       on_failure_callback=record("failure"), on_retry_callback=record("retry"),
                       on_skipped_callback=record("skipped"))
            with DAG("cb", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     on_success_callback=record("dag_success"), on_failure_callback=record("dag_failure")) as dag:
                PythonOperator(task_id="ok", python_callable=lambda: 1, **cbs)
                PythonOperator(task_id="boom", python_callable=boom, retries=1, **cbs)
                PythonOperator(task_id="skip", python_callable=skip, **cbs)
                PythonOperator(task_id="fail", python_callable=fail, retries=3, **cbs)
                PythonOperator(task_id="exit_ok", python_callable=exit_ok, **cbs)
                PythonOperator(task_id="exit_bad", python_callable=exit_bad, **cbs)
        ''')

    def callbacks_seen(self):
        p = os.path.join(self.h.folder, "callbacks.jsonl")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            seen = [json.loads(line) for line in f]
        os.remove(p)
        return [(s["cb"], s["task"], s["exception"]) for s in seen]

    def test_success_callbacks_and_a_broken_callback_is_only_logged(self):
        path = self.callbacks_dag()
        out, log = self.run_ok(path, "cb", "ok")
        self.assertEqual(self.callbacks_seen(), [("execute", "ok", None), ("success", "ok", None)])
        self.assertIn("Error in callback at index 0: broken_callback", log)
        self.assertIn("RuntimeError: callback broke", log)

    def test_failure_retries_while_tries_remain(self):
        path = self.callbacks_dag()
        out, log = self.h.run(path, "cb", "boom", try_number=1, max_tries=1)
        self.assertEqual(out["state"], "failed")
        self.assertEqual(out["error"]["types"][:2], ["ValueError", "Exception"])
        self.assertEqual(out["error"]["message"], "boom")
        self.assertIn('raise ValueError("boom")', out["error"]["traceback"])
        self.assertIn("Task failed with exception", log)
        self.assertEqual(self.callbacks_seen(), [("execute", "boom", None), ("retry", "boom", "ValueError")])
        out, _ = self.h.run(path, "cb", "boom", try_number=2, max_tries=1)
        self.assertEqual(out["state"], "failed")
        self.assertEqual(self.callbacks_seen(), [("execute", "boom", None), ("failure", "boom", "ValueError")])

    def test_skip_and_fail_exceptions(self):
        path = self.callbacks_dag()
        out, log = self.h.run(path, "cb", "skip")
        self.assertEqual(out["state"], "skipped")
        self.assertIsNone(out["error"])
        self.assertIn("nothing to do", log)
        self.assertEqual(self.callbacks_seen(), [("execute", "skip", None), ("skipped", "skip", None)])
        out, _ = self.h.run(path, "cb", "fail", try_number=1, max_tries=3)
        self.assertEqual(out["state"], "failed_no_retry")
        self.assertIn("AirflowFailException", out["error"]["types"])
        self.assertEqual(self.callbacks_seen(), [("execute", "fail", None), ("failure", "fail", "AirflowFailException")])

    def test_system_exit(self):
        path = self.callbacks_dag()
        out, _ = self.run_ok(path, "cb", "exit_ok")
        self.assertFalse(out["has_return"])
        out, _ = self.h.run(path, "cb", "exit_bad")
        self.assertEqual(out["state"], "failed")
        self.assertEqual(out["error"]["message"], "Task failed due to SystemExit(3)")
        self.assertEqual(self.callbacks_seen()[-1], ("failure", "exit_bad", "str"))

    def test_task_and_dag_callback_requests(self):
        path = self.callbacks_dag()
        out, _ = self.h.run(path, "cb", "ok", kind="task_callback", callback="on_failure_callback",
                            exception="Task was killed: zombie")
        self.assertEqual(out["state"], "success")
        self.assertEqual(self.callbacks_seen(), [("failure", "ok", "str")])
        out, _ = self.h.run(path, "cb", "ok", kind="dag_callback", callback="on_success_callback", reason="success")
        self.assertEqual(out["state"], "success")
        p = self.callbacks_seen()
        self.assertEqual(p, [("dag_success", "ok", None)])
        out, _ = self.h.run(path, "cb", "ok", kind="task_callback", callback="on_success_callback")
        self.assertEqual(out["state"], "failed")  # broken_callback raised; it was logged and reported
        self.assertIn("callback broke", out["error"]["traceback"])

    def test_mapped_tasks(self):
        path = self.h.write("mapped.py", '''
            import pendulum
            from airflow import DAG
            from airflow.decorators import task
            from airflow.operators.python import PythonOperator

            def label(n, prefix):
                return "%s-%s" % (prefix, n)

            with DAG("mapped", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                @task
                def make():
                    return [5, 6, 7]

                @task
                def double(x, factor=2):
                    return x * factor

                @task
                def pair(a, b):
                    return [a, b]

                lit = double.override(task_id="lit", map_index_template="x={{ task.op_kwargs['x'] }}").expand(x=[1, 2, 3])
                dyn = double.override(task_id="dyn").partial(factor=10).expand(x=make())
                cross = pair.expand(a=[1, 2], b=["x", "y", "z"])
                classic = PythonOperator.partial(task_id="classic", python_callable=label,
                                                 op_kwargs={"prefix": "{{ ds }}"}).expand(op_args=[[1], [2]])
                total = PythonOperator(task_id="total", python_callable=lambda v: sum(v), op_args=[dyn])
        ''')
        out, _ = self.run_ok(path, "mapped", "lit", map_index=1)
        self.assertEqual(out["return_value"], 4)
        self.assertEqual(out["rendered_map_index"], "x=2")
        self.run_ok(path, "mapped", "make")
        for i in range(3):
            self.run_ok(path, "mapped", "dyn", map_index=i)
        self.assertEqual(self.h.worker.xcom("mapped", "dyn", map_index=2), 70)
        # the downstream of a mapped task pulls every map index, in order
        out, _ = self.run_ok(path, "mapped", "total")
        self.assertEqual(out["return_value"], 180)
        # expand over two lists: their cross product, the last varying fastest
        out, _ = self.run_ok(path, "mapped", "pair", map_index=4)
        self.assertEqual(out["return_value"], [2, "y"])
        out, _ = self.run_ok(path, "mapped", "classic", map_index=1)
        self.assertEqual(out["return_value"], "2024-01-02-2")
        # the DAG's own expansion wins over the worker's copy of the arguments
        # (which holds literals as JSON, e.g. a timedelta as a tagged mapping)
        out, _ = self.run_ok(path, "mapped", "lit", map_index=0, expand={"x": 21})
        self.assertEqual(out["return_value"], 2)

    def test_return_values_xcom_cannot_hold(self):
        path = self.h.write("ret.py", '''
            import datetime
            import pendulum
            from airflow.decorators import dag, task

            class Thing:
                pass

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def ret():
                @task
                def thing():
                    return {"t": Thing()}

                @task
                def when():
                    return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)

                @task(multiple_outputs=True)
                def not_a_dict():
                    return [1, 2]

                @task(do_xcom_push=False)
                def quiet():
                    return 5

                @task
                def nothing():
                    return None

                thing(); when(); not_a_dict(); quiet(); nothing()

            d = ret()
        ''')
        out, _ = self.h.run(path, "ret", "thing")
        self.assertEqual(out["state"], "failed")
        self.assertIn("The return value of task thing cannot be stored as an XCom: cannot serialize object of type",
                      out["error"]["message"])
        self.assertFalse(out["has_return"])
        out, _ = self.run_ok(path, "ret", "when")
        self.assertEqual(out["return_value"]["__classname__"], "datetime.datetime")
        self.assertEqual(out["return_value"]["__data__"]["timestamp"], 1704067200.0)
        out, _ = self.h.run(path, "ret", "not_a_dict")
        self.assertEqual(out["state"], "failed")
        self.assertEqual(out["error"]["message"], "Returned output was type <class 'list'> expected dictionary for multiple_outputs")
        out, _ = self.run_ok(path, "ret", "quiet")
        self.assertFalse(out["has_return"])
        out, _ = self.run_ok(path, "ret", "nothing")
        self.assertFalse(out["has_return"])

    def test_execution_timeout_calls_on_kill(self):
        path = self.h.write("slow.py", '''
            import datetime, os, threading
            import pendulum
            from airflow import DAG
            from airflow.models.baseoperator import BaseOperator

            class Waits(BaseOperator):
                def execute(self, context):
                    # bounded, so that a missing timeout fails the test instead of hanging it
                    threading.Event().wait(60)
                    return "not timed out"

                def on_kill(self):
                    open(os.path.join(os.path.dirname(__file__), "killed"), "w").close()

            with DAG("slow", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                Waits(task_id="w", execution_timeout=datetime.timedelta(milliseconds=50), retries=2)
        ''')
        out, _ = self.h.run(path, "slow", "w", try_number=1, max_tries=2)
        self.assertEqual(out["state"], "failed")
        self.assertIn("AirflowTaskTimeout", out["error"]["types"])
        self.assertIn("Timeout, PID:", out["error"]["message"])
        self.assertTrue(os.path.exists(os.path.join(self.h.folder, "killed")))

    def test_order_of_hooks_and_env(self):
        path = self.h.write("order.py", '''
            import os
            import pendulum
            from airflow import DAG
            from airflow.models.baseoperator import BaseOperator

            SEEN = []

            class Ordered(BaseOperator):
                template_fields = ("msg",)

                def __init__(self, msg, **kw):
                    super().__init__(**kw)
                    self.msg = msg

                def pre_execute(self, context):
                    SEEN.append("pre_execute:" + self.msg)

                def execute(self, context):
                    SEEN.append("execute:" + os.environ["AIRFLOW_CTX_DAG_RUN_ID"] + ":" + os.environ["AIRFLOW_CTX_TRY_NUMBER"])
                    return list(SEEN)

                def post_execute(self, context, result=None):
                    SEEN.append("post_execute")

            with DAG("order", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                Ordered(task_id="o", msg="{{ ds }}", on_execute_callback=lambda ctx: SEEN.append("on_execute"))
        ''')
        out, log = self.run_ok(path, "order", "o", env={"WINDSOCK_TRY_MARK": "m-1"})
        self.assertEqual(os.environ.get("WINDSOCK_TRY_MARK"), "m-1")
        self.assertEqual(out["return_value"], ["pre_execute:2024-01-02", "on_execute",
                                               "execute:%s:1" % self.h.run_id])
        self.assertIn("Exporting env vars: AIRFLOW_CTX_DAG_OWNER='airflow' AIRFLOW_CTX_DAG_ID='order'", log)

    def test_variables_and_connections_in_a_task(self):
        self.h.worker.variables["greeting"] = "hi"
        self.h.worker.connections["api"] = {"conn_id": "api", "conn_type": "http", "host": "example.com",
                                            "schema": "https", "login": None, "password": None, "port": None,
                                            "extra": "{}", "description": None}
        path = self.h.write("vars.py", '''
            import pendulum
            from airflow.decorators import dag, task
            from airflow.models import Variable
            from airflow.hooks.base import BaseHook

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def vars_dag():
                @task
                def use(templated, ti=None):
                    ti.xcom_push(key="side", value="pushed")
                    return [templated, Variable.get("greeting"), Variable.get("nope", default_var="d"),
                            BaseHook.get_connection("api").host]
                use("{{ var.value.greeting }} {{ conn.api.host }}")

            d = vars_dag()
        ''')
        out, _ = self.run_ok(path, "vars_dag", "use")
        self.assertEqual(out["return_value"], ["hi example.com", "hi", "d", "example.com"])
        self.assertEqual(self.h.worker.xcom("vars_dag", "use", key="side"), "pushed")

    def test_unknown_dag_or_task_fails_the_try(self):
        path = self.h.write("flow.py", TASKFLOW)
        out, log = self.h.run(path, "nope", "extract")
        self.assertEqual(out["state"], "failed")
        self.assertIn("Dag 'nope' could not be found", out["error"]["message"])
        out, _ = self.h.run(path, "flow", "nope")
        self.assertEqual(out["state"], "failed")
        self.assertIn("Task nope not found in DAG flow", out["error"]["message"])

    def test_file_that_fails_to_import_fails_the_try(self):
        path = self.h.write("broken.py", "import pendulum\nraise RuntimeError('import time failure')\n")
        out, log = self.h.run(path, "x", "y")
        self.assertEqual(out["state"], "failed")
        self.assertIn("import time failure", out["error"]["message"])
        self.assertIn("broken.py", out["error"]["traceback"])

    def test_placeholder_provider_operator_fails_with_its_message(self):
        path = self.h.write("glue.py", '''
            import pendulum
            from airflow import DAG
            from airflow.providers.amazon.aws.operators.glue import GlueJobOperator

            with DAG("glue", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                GlueJobOperator(task_id="job", job_name="nightly", retries=2,
                                on_failure_callback=lambda ctx: print("failure callback ran"))
        ''')
        out, log = self.h.run(path, "glue", "job", try_number=1, max_tries=2)
        self.assertEqual(out["state"], "failed_no_retry")
        self.assertEqual(out["error"]["message"],
                         "airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package "
                         "apache-airflow-providers-amazon, which this environment lacks")

    def test_dag_from_an_unassigned_dag_decorator_call(self):
        path = self.h.write("unassigned.py", '''
            import pendulum
            from airflow.decorators import dag, task

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def hidden():
                @task
                def hello():
                    return "hello"
                hello()

            hidden()
        ''')
        out, _ = self.run_ok(path, "hidden", "hello")
        self.assertEqual(out["return_value"], "hello")
        # imported by parse.py, whose registrations are not ours: the DAG is
        # still found
        from windsock_rt import execute, parse
        sys.modules.pop(execute.module_name(path), None)
        parse.parse_file(path, {})
        self.assertIn(execute.module_name(path), sys.modules)
        out, _ = self.run_ok(path, "hidden", "hello")
        self.assertEqual(out["return_value"], "hello")

    def test_a_reused_worker_never_finds_an_older_import(self):
        # A worker imports every request's file afresh (and drops the module
        # after); a DAG the file no longer defines must not be found again.
        from windsock_rt import execute
        src = '''
            import pendulum
            from airflow.decorators import dag, task

            @dag(dag_id="%s", start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def d():
                @task
                def hello():
                    return "%s"
                hello()

            d()
        '''
        path = self.h.write("changing.py", src % ("old_id", "v1"))
        out, _ = self.run_ok(path, "old_id", "hello")
        self.assertEqual(out["return_value"], "v1")
        sys.modules.pop(execute.module_name(path), None)  # what the worker does after a request
        self.h.write("changing.py", src % ("new_id", "v2"))
        out, _ = self.run_ok(path, "new_id", "hello")
        self.assertEqual(out["return_value"], "v2")
        sys.modules.pop(execute.module_name(path), None)
        out, _ = self.h.run(path, "old_id", "hello")
        self.assertEqual(out["state"], "failed")
        self.assertIn("Dag 'old_id' could not be found", out["error"]["message"])

    def test_bash_operator_with_user_macro_and_script_file(self):
        self.h.write("scripts/hello.sh", "echo \"hello {{ greet(params.who) }} on {{ ds }}\"\n")
        path = self.h.write("bash.py", '''
            import pendulum
            from airflow import DAG
            from airflow.operators.bash import BashOperator

            with DAG("bash", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     user_defined_macros={"greet": lambda who: who.title()}, params={"who": "ann lee"}) as dag:
                BashOperator(task_id="file", bash_command="scripts/hello.sh")
                BashOperator(task_id="inline", bash_command="echo {{ greet('bob') }} && exit 0")
        ''')
        out, log = self.run_ok(path, "bash", "file")
        self.assertEqual(out["return_value"], "hello Ann Lee on 2024-01-02")
        # jinja drops the file's final newline, as under Airflow
        self.assertEqual(out["rendered_fields"]["bash_command"], 'echo "hello Ann Lee on 2024-01-02"')
        self.assertIn("hello Ann Lee on 2024-01-02", log)
        out, _ = self.run_ok(path, "bash", "inline")
        self.assertEqual(out["return_value"], "Bob")

    def test_logging_in_a_task_reaches_the_log(self):
        path = self.h.write("logs.py", '''
            import logging
            import pendulum
            from airflow.decorators import dag, task

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def logs():
                @task
                def talk():
                    logging.info("plain logging %d", 1)
                    logging.getLogger(__name__).warning("module logger")
                    print("a print")
                logs_t = talk()

            d = logs()
        ''')
        out, log = self.run_ok(path, "logs", "talk")
        # the worker puts the time in front of each line
        self.assertIn("\n{logs.py:10} INFO - plain logging 1\n", log)
        self.assertIn("WARNING - module logger", log)
        self.assertIn("a print", log)

    def test_deferral_and_reschedule(self):
        path = self.h.write("defer.py", '''
            import datetime
            import pendulum
            from airflow import DAG
            from airflow.exceptions import AirflowRescheduleException
            from airflow.models.baseoperator import BaseOperator

            class Defers(BaseOperator):
                def execute(self, context):
                    self.defer(trigger="DateTimeTrigger(...)", method_name="done")

            class Reschedules(BaseOperator):
                def execute(self, context):
                    raise AirflowRescheduleException(datetime.datetime(2024, 1, 2, 0, 5, tzinfo=datetime.timezone.utc))

            with DAG("defer", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
                Defers(task_id="d", retries=3)
                Reschedules(task_id="r", on_failure_callback=lambda c: print("NOT EXPECTED"))
        ''')
        out, _ = self.h.run(path, "defer", "d", max_tries=3)
        self.assertEqual(out["state"], "failed_no_retry")
        self.assertIn("Windsock runs no triggerer: run the operator with deferrable=False", out["error"]["message"])
        out, log = self.h.run(path, "defer", "r")
        self.assertEqual(out["state"], "up_for_reschedule")
        self.assertEqual(out["reschedule_date"], "2024-01-02T00:05:00+00:00")
        self.assertNotIn("NOT EXPECTED", log)

    def test_render_request_renders_without_executing(self):
        path = self.h.write("render.py", '''
            import pendulum
            from airflow import DAG
            from airflow.decorators import task
            from airflow.operators.bash import BashOperator

            with DAG("render", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     user_defined_macros={"env_name": "prod"}) as dag:
                BashOperator(task_id="b", bash_command="echo {{ env_name }} {{ ds }}; exit 1", env={"D": "{{ ds_nodash }}"})

                @task
                def up():
                    return 3

                @task
                def mapped(x, label):
                    raise RuntimeError("must not run")

                mapped.partial(label="{{ ds }}").expand(x=up())
        ''')
        out, log = self.h.run(path, "render", "b", kind="render")
        self.assertEqual(out, {"state": "success", "error": None, "rendered_fields": {
            "bash_command": "echo prod 2024-01-02; exit 1", "env": {"D": "20240102"}, "cwd": None}})
        self.h.worker.xcoms[("render", self.h.run_id, "up", -1, "return_value")] = [7, 8]
        out, _ = self.h.run(path, "render", "mapped", kind="render", map_index=1)
        self.assertEqual(out["rendered_fields"]["op_kwargs"], {"label": "2024-01-02", "x": 8})

    def test_operator_overriding_render_template_fields(self):
        path = self.h.write("override.py", '''
            import pendulum
            from airflow import DAG
            from airflow.models.baseoperator import BaseOperator

            class Loud(BaseOperator):
                template_fields = ("text",)

                def __init__(self, text, **kw):
                    super().__init__(**kw)
                    self.text = text

                def render_template_fields(self, context, jinja_env=None):
                    super().render_template_fields(context, jinja_env=jinja_env)
                    self.text = self.text.upper() + jinja_env.globals["suffix"]

                def execute(self, context):
                    return self.text

            with DAG("override", start_date=pendulum.datetime(2024, 1, 1), schedule=None,
                     user_defined_macros={"suffix": "!"}) as dag:
                Loud(task_id="l", text="day {{ ds }}")
        ''')
        out, _ = self.run_ok(path, "override", "l")
        self.assertEqual(out["return_value"], "DAY 2024-01-02!")

    def test_warm_rehearses_and_leaves_no_trace(self):
        from airflow.models.dag import DagContext
        from windsock_rt import execute, rpc
        handler = rpc._handler
        execute.warm()
        self.assertIs(rpc._handler, handler)  # the worker's handler is back
        self.assertFalse([m for m in sys.modules if m.endswith("windsock_rehearsal")])
        self.assertFalse([d for d, _ in DagContext.autoregistered_dags if d.dag_id == "windsock_rehearsal"])
        self.assertFalse([k for k in os.environ if k.startswith("AIRFLOW_CTX_")])

    def test_mapped_task_group(self):
        path = self.h.write("mtg.py", '''
            import pendulum
            from airflow.decorators import dag, task, task_group

            @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
            def mtg():
                @task
                def numbers():
                    return [1, 2, 3]

                @task_group
                def grp(v, scale):
                    @task
                    def add_one(x):
                        return x + 1

                    @task
                    def scaled(y, s):
                        return y * s

                    return scaled(add_one(v), scale)

                @task
                def total(values):
                    return sum(values)

                total(grp.partial(scale=10).expand(v=numbers()))

            d = mtg()
        ''')
        self.run_ok(path, "mtg", "numbers")
        for i in range(3):
            out, _ = self.run_ok(path, "mtg", "grp.add_one", map_index=i)
            self.assertEqual(out["return_value"], [2, 3, 4][i])
        # inside the group, map index i reads map index i of its upstream
        for i in range(3):
            out, _ = self.run_ok(path, "mtg", "grp.scaled", map_index=i)
            self.assertEqual(out["return_value"], [20, 30, 40][i])
        # outside, every map index's value
        out, _ = self.run_ok(path, "mtg", "total")
        self.assertEqual(out["return_value"], 90)

    CACHED = '''
        import pendulum
        from airflow import DAG
        from airflow.models import Variable
        from airflow.operators.python import PythonOperator

        print("IMPORTED %s")
        %s

        with DAG("cached", start_date=pendulum.datetime(2024, 1, 1), schedule=None) as dag:
            PythonOperator(task_id="t", python_callable=lambda day: day, op_args=["{{ ds }}"])
    '''

    def test_worker_keeps_an_unchanged_import_and_tries_run_on_copies(self):
        from windsock_rt import execute
        path = self.h.write("cached.py", self.CACHED % ("v1", ""))
        out, log = self.run_ok(path, "cached", "t")
        self.assertIn("IMPORTED v1", log)
        self.assertEqual(out["return_value"], "2024-01-02")
        # the next try reuses the import, and renders its own context: the
        # first try's rendering did not stick to the task
        ctx = context_json("cached", "t", self.h.run_id)
        ctx["ds"] = "2030-05-06"
        out, log = self.run_ok(path, "cached", "t", context=ctx)
        self.assertNotIn("IMPORTED", log)
        self.assertEqual(out["return_value"], "2030-05-06")
        dag = execute.load_dag(path, "cached")
        self.assertEqual(dag.task_dict["t"].op_args, ["{{ ds }}"])
        # changed content: imported again
        self.h.write("cached.py", self.CACHED % ("v2", ""))
        out, log = self.run_ok(path, "cached", "t")
        self.assertIn("IMPORTED v2", log)

    def test_import_reading_a_variable_is_imported_for_every_try(self):
        self.h.worker.variables["v"] = "x"
        path = self.h.write("reads.py", self.CACHED % ("reads", "Variable.get('v')"))
        for _ in range(2):
            out, log = self.run_ok(path, "cached", "t")
            self.assertIn("IMPORTED reads", log)

    def test_worker_cache_is_bounded(self):
        from windsock_rt import execute
        self.addCleanup(setattr, execute, "CACHE_FILES", execute.CACHE_FILES)
        execute.CACHE_FILES = 2
        paths = [self.h.write("c%d.py" % i, self.CACHED % ("c%d" % i, "")) for i in range(3)]
        for p in paths:
            self.run_ok(p, "cached", "t")
        self.assertNotIn(paths[0], execute._CACHE)
        self.assertNotIn(execute.module_name(paths[0]), sys.modules)
        self.assertIn(paths[2], execute._CACHE)
        out, log = self.run_ok(paths[0], "cached", "t")
        self.assertIn("IMPORTED c0", log)

    def test_worker_expand_serves_a_mapped_task_without_readable_expand_input(self):
        from windsock_rt import execute

        class MappedOperator:  # a shape this runtime cannot read the expansion of
            task_id = "m"

            def unmap(self, kwargs):
                return kwargs
        got = execute._unmap(MappedOperator(), {"map_index": 1, "expand": {
            "x": 3, "when": {"__classname__": "datetime.timedelta", "__version__": 2, "__data__": 60.0}}}, {}, set())
        import datetime
        self.assertEqual(got, {"x": 3, "when": datetime.timedelta(minutes=1)})
        with self.assertRaisesRegex(RuntimeError, "has no expand input"):
            execute._unmap(MappedOperator(), {"map_index": 1}, {}, set())


if __name__ == "__main__":
    unittest.main()

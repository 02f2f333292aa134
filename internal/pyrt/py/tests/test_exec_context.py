"""The task context built from the worker's JSON: dates, ti with live XCom,
var and conn accessors, macros, current_context."""
import datetime
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec_harness import Worker, context_json  # noqa: E402

from windsock_rt import context as wctx  # noqa: E402
from windsock_rt import rpc, templating, xcom  # noqa: E402

RUN = "manual__2024-01-02T00:00:00+00:00"


class ContextTest(unittest.TestCase):
    def setUp(self):
        self.worker = Worker()
        rpc.set_handler(self.worker.handle)
        self.addCleanup(rpc.set_handler, None)
        self.worker.current = ("d", RUN, "t", -1)
        self.dag = types.SimpleNamespace(dag_id="d", fileloc="/nonexistent/d.py", template_searchpath=None,
                                         user_defined_macros=None, user_defined_filters=None,
                                         render_template_as_native_obj=False)
        self.task = types.SimpleNamespace(task_id="t", dag=self.dag, inlets=[], outlets=[])

    def build(self, **kw):
        return wctx.build_context(context_json("d", "t", RUN, **kw), self.dag, self.task)

    def test_dates_are_utc_datetimes(self):
        ctx = self.build()
        ld = ctx["logical_date"]
        self.assertEqual(ld, datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))
        self.assertEqual(ld.utcoffset(), datetime.timedelta(0))
        try:
            import pendulum
            self.assertIsInstance(ld, pendulum.DateTime)
            self.assertEqual(ld.tzinfo.name, "UTC")
            self.assertEqual(ld.add(days=1).to_date_string(), "2024-01-03")
        except ImportError:
            pass
        self.assertIs(ctx["execution_date"].__class__, ld.__class__)
        self.assertIsNone(ctx["prev_start_date_success"])
        self.assertEqual(ctx["dag_run"].logical_date, ld)
        self.assertEqual(ctx["ti"].start_date.second, 6)
        self.assertEqual(ctx["ds"], "2024-01-02")
        self.assertIs(ctx["dag"], self.dag)
        self.assertIs(ctx["task"], self.task)
        self.assertIs(ctx["ti"], ctx["task_instance"])
        self.assertIs(ctx["ti"].task, self.task)
        self.assertEqual((ctx["ti"].dag_id, ctx["ti"].task_id, ctx["ti"].run_id, ctx["ti"].map_index,
                          ctx["ti"].try_number), ("d", "t", RUN, -1, 1))

    def test_dag_run_conf_and_params(self):
        ctx = wctx.build_context(dict(context_json("d", "t", RUN, conf={"k": "v"}), params={
            "p": {"__type__": "airflow.models.param.Param", "default": 5, "description": "x"}, "k": "v"}),
            self.dag, self.task)
        self.assertEqual(ctx["dag_run"].conf, {"k": "v"})
        self.assertEqual(ctx["params"], {"p": 5, "k": "v"})
        self.assertIs(ctx["dag_run"].get_dag(), self.dag)

    def test_xcom_pull_semantics(self):
        w = self.worker
        w.xcoms[("d", RUN, "up", -1, "return_value")] = 1
        w.xcoms[("d", RUN, "up", -1, "other")] = "o"
        for i, v in [(2, "c"), (0, "a"), (1, "b")]:
            w.xcoms[("d", RUN, "mapped", i, "return_value")] = v
        w.xcoms[("d", RUN, "when", -1, "return_value")] = xcom.encode(datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc))
        ti = self.build()["ti"]
        self.assertEqual(ti.xcom_pull(task_ids="up"), 1)
        self.assertEqual(ti.xcom_pull("up", key="other"), "o")
        self.assertIsNone(ti.xcom_pull(task_ids="nothing"))
        self.assertEqual(ti.xcom_pull(task_ids="nothing", default=7), 7)
        # a mapped upstream: every map index's value, in map index order
        self.assertEqual(ti.xcom_pull(task_ids="mapped"), ["a", "b", "c"])
        self.assertEqual(ti.xcom_pull(task_ids="mapped", map_indexes=1), "b")
        self.assertEqual(ti.xcom_pull(task_ids="mapped", map_indexes=[2, 0]), ["c", "a"])
        # a list of task ids: the values found, in the order asked
        self.assertEqual(ti.xcom_pull(task_ids=["up", "nothing", "when"]), [1, datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)])
        self.assertEqual(ti.xcom_pull(task_ids=["nothing"]), [])
        args = [a for n, a in w.calls if n == "xcom_pull"][0]
        self.assertEqual(args, {"dag_id": "d", "task_ids": ["up"], "run_id": RUN, "key": "return_value",
                                "map_indexes": None, "include_prior_dates": False})

    def test_xcom_push_round_trip(self):
        ti = self.build()["ti"]
        when = datetime.datetime(2024, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)
        ti.xcom_push(key="k", value={"when": when, "pair": (1, 2)})
        stored = self.worker.xcoms[("d", RUN, "t", -1, "k")]
        self.assertEqual(stored["when"]["__classname__"], "datetime.datetime")
        self.assertEqual(ti.xcom_pull(task_ids="t", key="k"), {"when": when, "pair": (1, 2)})
        with self.assertRaises(TypeError):
            ti.xcom_push(key="bad", value=object())

    def test_variables(self):
        self.worker.variables.update({"plain": "hello", "cfg": '{"a": [1, 2]}'})
        ctx = self.build()
        self.assertEqual(ctx["var"]["value"].plain, "hello")
        self.assertEqual(ctx["var"]["json"].cfg, {"a": [1, 2]})
        self.assertEqual(ctx["var"]["value"].get("missing", "dflt"), "dflt")
        self.assertIsNone(ctx["var"]["value"].get("missing", None))
        with self.assertRaisesRegex(KeyError, "Variable missing does not exist"):
            ctx["var"]["value"].missing
        env = templating.get_template_env(self.dag)
        out = env.from_string("{{ var.value.plain }} {{ var.json.cfg.a[1] }} {{ var.value['plain'] }}").render(ctx)
        self.assertEqual(out, "hello 2 hello")

    def test_connections(self):
        self.worker.connections["db"] = {"conn_id": "db", "conn_type": "postgres", "host": "h", "schema": "s",
                                         "login": "u", "password": "p", "port": 5432, "extra": '{"x": 1}',
                                         "description": None}
        ctx = self.build()
        c = ctx["conn"].db
        self.assertEqual((c.host, c.login, c.port, c.extra_dejson), ("h", "u", 5432, {"x": 1}))
        self.assertIsNone(ctx["conn"].get("nope"))
        from airflow.exceptions import AirflowNotFoundException
        with self.assertRaisesRegex(AirflowNotFoundException, "The conn_id `nope` isn't defined"):
            ctx["conn"].nope
        env = templating.get_template_env(self.dag)
        self.assertEqual(env.from_string("{{ conn.db.host }}:{{ conn.db.port }}").render(ctx), "h:5432")

    def test_macros_and_ti_in_templates(self):
        self.worker.xcoms[("d", RUN, "up", -1, "return_value")] = [1, 2]
        ctx = self.build(conf={"k": "v"})
        env = templating.get_template_env(self.dag)
        out = env.from_string("{{ macros.ds_add(ds, 1) }} {{ ti.xcom_pull(task_ids='up')[1] }} "
                              "{{ dag_run.conf['k'] }} {{ task_instance.try_number }} "
                              "{{ data_interval_end | ds }} {{ macros.datetime(2020, 1, 1).year }}").render(ctx)
        self.assertEqual(out, "2024-01-03 2 v 1 2024-01-02 2020")

    def test_current_context(self):
        from airflow.exceptions import AirflowException
        with self.assertRaisesRegex(AirflowException, "no context was found"):
            wctx.current_context()
        ctx = self.build()
        with wctx.set_current_context(ctx):
            self.assertIs(wctx.current_context(), ctx)
        with self.assertRaises(AirflowException):
            wctx.current_context()

    def test_outlet_events_and_triggering_events(self):
        cj = context_json("d", "t", RUN)
        cj["triggering_dataset_events"] = {"s3://b/k": [{"id": 1, "dataset": {"uri": "s3://b/k"}, "extra": {"n": 1},
                                                         "source_dag_id": "up", "timestamp": "2024-01-01T10:00:00+00:00"}]}
        ctx = wctx.build_context(cj, self.dag, self.task)
        ev = ctx["triggering_dataset_events"]["s3://b/k"][0]
        self.assertEqual((ev.extra, ev.source_dag_id, ev.dataset.uri, ev.timestamp.hour), ({"n": 1}, "up", "s3://b/k", 10))
        # without a dataset_events answer, inlet events fall back to the triggering ones
        self.assertEqual(ctx["inlet_events"]["s3://b/k"][0].extra, {"n": 1})
        ctx["outlet_events"]["s3://out"].extra = {"rows": 3}
        self.assertEqual(ctx["outlet_events"].outcome(), [{"key": "s3://out", "extra": {"rows": 3}, "alias_events": []}])


if __name__ == "__main__":
    unittest.main()

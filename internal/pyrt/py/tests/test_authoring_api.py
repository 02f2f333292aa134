"""The authoring API's semantics (reference section 2), checked on objects."""
import datetime as dt
import unittest

import tests.helpers  # noqa: F401 - sys.path

from airflow import DAG
from airflow.decorators import dag, task, task_group
from airflow.exceptions import AirflowException, DuplicateTaskIdFound
from airflow.models.baseoperator import BaseOperator, chain
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator
from airflow.utils.edgemodifier import Label
from airflow.utils.task_group import TaskGroup

START = dt.datetime(2024, 1, 1)


def ids(x):
    return sorted(x)


class DefaultArgsTest(unittest.TestCase):
    def test_merge_order_dag_group_operator(self):
        with DAG("d", start_date=START, default_args={"retries": 1, "owner": "dag", "queue": "q1"}):
            with TaskGroup("g", default_args={"retries": 2, "owner": "group"}):
                t = EmptyOperator(task_id="t", default_args={"retries": 3})
                u = EmptyOperator(task_id="u", owner="explicit")
        self.assertEqual((t.retries, t.owner, t.queue), (3, "group", "q1"))
        self.assertEqual((u.retries, u.owner), (2, "explicit"))
        self.assertEqual(t.task_id, "g.t")

    def test_defaults_fill_only_signature_parameters(self):
        with DAG("d", start_date=START, default_args={"bash_command": "echo from defaults", "nonsense": 1}):
            b = BashOperator(task_id="b")
            e = EmptyOperator(task_id="e")
        self.assertEqual(b.bash_command, "echo from defaults")
        self.assertFalse(hasattr(e, "nonsense"))

    def test_missing_required_argument(self):
        with DAG("d", start_date=START):
            with self.assertRaisesRegex(AirflowException, "missing keyword argument 'bash_command'"):
                BashOperator(task_id="b")

    def test_params_merge(self):
        with DAG("d", start_date=START, params={"a": 1, "b": 1}, default_args={"params": {"b": 2, "c": 2}}) as d:
            t = EmptyOperator(task_id="t", params={"c": 3})
        self.assertEqual(dict((k, d.params[k]) for k in d.params), {"a": 1, "b": 2, "c": 2})
        self.assertEqual({k: t.params[k] for k in t.params}, {"a": 1, "b": 2, "c": 3})
        self.assertEqual(t._ws_task_params, {"c": 3}, "DAG default_args params became DAG params")

    def test_start_date_from_default_args_string(self):
        with DAG("d", default_args={"start_date": "2023-02-03"}, schedule="@daily") as d:
            t = EmptyOperator(task_id="t")
        self.assertEqual(t.start_date.date(), dt.date(2023, 2, 3))
        self.assertIsNotNone(d.timezone)

    def test_unknown_dag_argument(self):
        with self.assertRaises(TypeError):
            DAG("d", start_date=START, not_a_dag_arg=1)

    def test_schedule_arguments_exclusive(self):
        with self.assertRaisesRegex(ValueError, "At most one allowed"):
            DAG("d", start_date=START, schedule="@daily", schedule_interval="@daily")

    def test_bad_trigger_rule(self):
        with DAG("d", start_date=START):
            with self.assertRaisesRegex(AirflowException, "The trigger_rule must be one of"):
                EmptyOperator(task_id="t", trigger_rule="sometimes")

    def test_bad_dag_id(self):
        with self.assertRaisesRegex(AirflowException, "alphanumeric characters, dashes, dots and underscores"):
            DAG("bad id!")

    def test_cli_is_harmless(self):
        d = DAG("d", start_date=START)
        self.assertIsNone(d.cli())


class DependenciesTest(unittest.TestCase):
    def setUp(self):
        self.dag = DAG("deps", start_date=START)
        self.dag.__enter__()
        self.a, self.b, self.c, self.d = [EmptyOperator(task_id=x) for x in "abcd"]

    def tearDown(self):
        self.dag.__exit__(None, None, None)

    def test_shift_with_lists(self):
        r = self.a >> [self.b, self.c]
        self.assertEqual(r, [self.b, self.c])
        [self.b, self.c] >> self.d
        self.assertEqual(ids(self.d.upstream_task_ids), ["b", "c"])
        self.d << self.a
        self.assertEqual(list(self.d.upstream_task_ids), ["b", "c", "a"])
        with self.assertRaises(TypeError):
            [self.a] >> [self.b]

    def test_chain_lists(self):
        e, f = EmptyOperator(task_id="e"), EmptyOperator(task_id="f")
        chain(self.a, [self.b, self.c], [e, f], self.d)
        self.assertEqual(ids(e.upstream_task_ids), ["b"])
        self.assertEqual(ids(f.upstream_task_ids), ["c"])
        self.assertEqual(ids(self.d.upstream_task_ids), ["e", "f"])
        with self.assertRaisesRegex(AirflowException, "Chain not supported for different length Iterable. Got 2 and 1."):
            chain([self.a, self.b], [self.c])

    def test_labels_are_kept(self):
        self.a >> Label("go") >> self.b
        self.c << Label("back") << self.d
        self.assertEqual(self.dag.get_edge_info("a", "b"), {"label": "go"})
        self.assertEqual(self.dag.get_edge_info("d", "c"), {"label": "back"})
        self.assertEqual(list(self.b.upstream_task_ids), ["a"])

    def test_group_dependencies_expand_to_roots_and_leaves(self):
        with TaskGroup("g") as g:
            x = EmptyOperator(task_id="x")
            y = EmptyOperator(task_id="y")
            z = EmptyOperator(task_id="z")
            x >> y
        self.a >> g >> self.b
        self.assertEqual(ids(x.upstream_task_ids), ["a"])
        self.assertEqual(ids(z.upstream_task_ids), ["a"])
        self.assertEqual(ids(self.b.upstream_task_ids), ["g.y", "g.z"])

    def test_cross_dag_relations_refused(self):
        with DAG("other", start_date=START):
            o = EmptyOperator(task_id="o")
        with self.assertRaisesRegex(AirflowException, "more than one DAG"):
            self.a >> o


class TaskFlowTest(unittest.TestCase):
    def test_repeated_calls_get_suffixes(self):
        @task
        def step(x):
            return x

        with DAG("tf", start_date=START) as d:
            a = step(1)
            b = step(a)
            c = step(b)
            with TaskGroup("g"):
                step(0)
                step(0)
        self.assertEqual(d.task_ids, ["step", "step__1", "step__2", "g.step", "g.step__1"])
        self.assertEqual(list(d.task_dict["step__2"].upstream_task_ids), ["step__1"])
        self.assertEqual(str(a), "{{ task_instance.xcom_pull(task_ids='step', dag_id='tf', key='return_value') }}")

    def test_multiple_outputs_inferred_from_dict_annotation(self):
        @task
        def typed() -> dict:
            return {}

        @task
        def typed_str() -> "dict[str, int]":
            return {}

        @task
        def plain():
            return {}

        with DAG("mo", start_date=START) as d:
            typed(), typed_str(), plain()
        self.assertEqual([d.task_dict[t].multiple_outputs for t in ("typed", "typed_str", "plain")], [True, True, False])

    def test_xcomarg_key_access_and_iteration(self):
        @task
        def f():
            return {"a": 1}

        with DAG("x", start_date=START):
            out = f()
            self.assertEqual(out["a"].key, "a")
            self.assertIs(out["a"].operator, out.operator)
            with self.assertRaisesRegex(TypeError, "'XComArg' object is not iterable"):
                list(out)

    def test_call_must_bind(self):
        @task
        def two(a, b):
            return a + b

        with DAG("b", start_date=START):
            with self.assertRaises(TypeError):
                two(1)

    def test_context_key_default_must_be_none(self):
        with self.assertRaisesRegex(ValueError, "Context key parameter ds can't have a default other than None"):
            @task
            def bad(ds="x"):
                pass

    def test_methods_refused(self):
        with self.assertRaisesRegex(TypeError, "does not support methods"):
            @task
            def method(self):
                pass

    def test_default_args_feed_function_parameters(self):
        @task
        def uses(region=None):
            return region

        with DAG("da", start_date=START, default_args={"region": "eu"}) as d:
            uses()
        self.assertEqual(d.task_dict["uses"].op_kwargs, {"region": "eu"})

    def test_override_and_docstring(self):
        @task
        def documented():
            """Says hi."""

        with DAG("o", start_date=START) as d:
            documented.override(task_id="custom", retries=4)()
        t = d.task_dict["custom"]
        self.assertEqual((t.retries, t.doc_md), (4, "Says hi."))

    def test_dag_decorator_registers_and_builds_params(self):
        @dag(start_date=START, schedule=None)
        def my_pipeline(limit: int = 10):
            """Pipeline doc."""
            EmptyOperator(task_id="t")

        d = my_pipeline()
        self.assertEqual(d.dag_id, "my_pipeline")
        self.assertEqual(d.params["limit"], 10)
        self.assertEqual(d.doc_md, "Pipeline doc.")
        d2 = my_pipeline(limit=3)
        self.assertEqual(d2.params["limit"], 3)

    def test_task_group_decorator_returns_body_result_or_group(self):
        @task
        def leaf():
            return 1

        @task_group
        def returns_task():
            return leaf()

        @task_group(group_id="named")
        def returns_nothing():
            leaf()

        with DAG("tg", start_date=START):
            r1 = returns_task()
            r2 = returns_nothing()
            r3 = returns_nothing()
        self.assertEqual(r1.operator.task_id, "returns_task.leaf")
        self.assertIsInstance(r2, TaskGroup)
        self.assertEqual((r2.group_id, r3.group_id), ("named", "named__1"))

    def test_expand_validation(self):
        with DAG("m", start_date=START):
            with self.assertRaisesRegex(TypeError, "BashOperator.expand\\(\\) got an unexpected keyword argument 'nope'"):
                BashOperator.partial(task_id="b").expand(nope=[1])
            with self.assertRaisesRegex(ValueError, "Cannot map over"):
                BashOperator.partial(task_id="c").expand(bash_command="echo")
            m = BashOperator.partial(task_id="d", env={"A": "1"}).expand(bash_command=["echo 1", "echo 2"])
        op = m.unmap({"bash_command": "echo 2"})
        self.assertEqual((op.task_id, op.bash_command, op.env), ("d", "echo 2", {"A": "1"}))

    def test_branch_and_variants_exist(self):
        for name in ("python", "branch", "short_circuit", "bash", "sensor", "virtualenv", "external_python",
                     "branch_virtualenv", "branch_external_python", "run_if", "skip_if", "docker", "kubernetes"):
            self.assertTrue(callable(getattr(task, name)), name)
        with self.assertRaisesRegex(AttributeError, "task decorator 'nope' not found"):
            task.nope


class CustomOperatorTest(unittest.TestCase):
    def test_subclass_with_template_fields(self):
        class Hello(BaseOperator):
            template_fields = "name"

            def __init__(self, *, name, **kwargs):
                super().__init__(**kwargs)
                self.name = name

            def execute(self, context):
                return "hi " + self.name

        with DAG("c", start_date=START, default_args={"name": "from-defaults"}):
            h = Hello(task_id="h")
        self.assertEqual(h.template_fields, ("name",))
        self.assertEqual(h.name, "from-defaults")
        self.assertEqual(h.execute({}), "hi from-defaults")

    def test_duplicate_task_id(self):
        with DAG("c", start_date=START):
            EmptyOperator(task_id="x")
            with self.assertRaisesRegex(DuplicateTaskIdFound, "Task id 'x' has already been added to the DAG"):
                EmptyOperator(task_id="x")

    def test_output_and_xcomarg_dependencies(self):
        with DAG("o", start_date=START):
            a = PythonOperator(task_id="a", python_callable=lambda: 1)
            b = PythonOperator(task_id="b", python_callable=print, op_kwargs={"x": [a.output]})
        self.assertEqual(list(b.upstream_task_ids), ["a"])


class NativeDecisionTest(unittest.TestCase):
    def test_subclass_overriding_execute_runs_in_python(self):
        from windsock_rt.document import task_document

        class Loud(BashOperator):
            def execute(self, context):
                return super().execute(context)

        class Quiet(BashOperator):
            ui_color = "#000"

        with DAG("n", start_date=START):
            loud = Loud(task_id="loud", bash_command="echo")
            quiet = Quiet(task_id="quiet", bash_command="echo")
            plain = BashOperator(task_id="plain", bash_command="echo", env={"X": "1"})
            cb = BashOperator(task_id="cb", bash_command="echo", output_processor=lambda s: s)
        self.assertEqual(task_document(loud)["operator"], "python_file_task")
        self.assertEqual(task_document(quiet)["operator"], "airflow.operators.bash.BashOperator")
        self.assertEqual(task_document(plain), {"operator": "airflow.operators.bash.BashOperator", "bash_command": "echo",
                                                "env": {"X": "1"}})
        self.assertEqual(task_document(cb)["operator"], "python_file_task")

    def test_arguments_go_does_not_know_run_in_python(self):
        from airflow.providers.http.operators.http import HttpOperator
        from windsock_rt.document import task_document

        with DAG("n2", start_date=START):
            old = BashOperator(task_id="old", bash_command="exit 2", skip_exit_code=2)
            http = HttpOperator(task_id="http", endpoint="/x", request_kwargs={"verify": False})
        self.assertEqual(task_document(old), {"operator": "airflow.operators.bash.BashOperator", "bash_command": "exit 2",
                                              "skip_on_exit_code": 2})
        self.assertEqual(task_document(http)["operator"], "python_file_task")

    def test_dag_jinja_options_decide_python(self):
        from windsock_rt.document import dag_document

        class Lenient:
            pass

        with DAG("j1", start_date=START, template_undefined=Lenient) as d1:
            BashOperator(task_id="b", bash_command="echo {{ missing }}")
        with DAG("j2", start_date=START, jinja_environment_kwargs={"trim_blocks": True}) as d2:
            BashOperator(task_id="b", bash_command="echo")
        with DAG("j3", start_date=START) as d3:
            BashOperator(task_id="b", bash_command="echo")
        self.assertEqual(dag_document(d1)["tasks"]["b"]["operator"], "python_file_task")
        self.assertEqual(dag_document(d2)["tasks"]["b"]["operator"], "python_file_task")
        self.assertEqual(dag_document(d3)["tasks"]["b"]["operator"], "airflow.operators.bash.BashOperator")

    def test_template_files_decide_python(self):
        from windsock_rt.document import task_document

        with DAG("n4", start_date=START):
            f = BashOperator(task_id="file", bash_command="run.sh")
            spaced = BashOperator(task_id="spaced", bash_command="run.sh ")
            mapped = BashOperator.partial(task_id="m").expand(bash_command=["a.sh", "b.sh"])
        self.assertEqual(task_document(f)["operator"], "python_file_task")
        self.assertEqual(task_document(spaced)["operator"], "airflow.operators.bash.BashOperator",
                         "Airflow's trailing-space idiom keeps the text as the command")
        self.assertEqual(task_document(mapped)["operator"], "python_file_task")

    def test_doc_md_from_docstring(self):
        from windsock_rt.document import task_document

        @task
        def documented():
            """Explains itself."""

        with DAG("n3", start_date=START) as d:
            documented()
        self.assertEqual(task_document(d.task_dict["documented"])["doc_md"], "Explains itself.")


class CoreNamesTest(unittest.TestCase):
    def test_every_listed_name_imports(self):
        import importlib
        import os

        path = os.path.join(os.path.dirname(__file__), "core_names.txt")
        names = [line.split() for line in open(path) if line.strip() and not line.startswith("#")]
        self.assertGreater(len(names), 150)
        for mod, name in names:
            with self.subTest(name="%s.%s" % (mod, name)):
                self.assertIsNotNone(getattr(importlib.import_module(mod), name))


class PlaceholderTest(unittest.TestCase):
    def test_placeholder_operator_and_hook(self):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.amazon.aws.hooks.glue import GlueJobHook
        from airflow.providers.amazon.aws.operators.glue import GlueJobOperator
        from airflow.hooks.S3_hook import S3Hook as OldS3Hook

        # S3Hook is real (over boto3); the package's other names stay placeholders.
        self.assertIs(S3Hook, OldS3Hook, "1.10 path and provider path are one class")
        self.assertTrue(hasattr(S3Hook, "load_string"))
        with DAG("p", start_date=START):
            g = GlueJobOperator(task_id="g", job_name="j", retries=2)
        self.assertEqual((g.retries, g.job_name), (2, "j"))
        msg = ("airflow.providers.amazon.aws.operators.glue.GlueJobOperator needs the provider package "
               "apache-airflow-providers-amazon, which this environment lacks")
        with self.assertRaises(AirflowException) as cm:
            g.execute({})
        self.assertEqual(str(cm.exception), msg)
        hook = GlueJobHook(aws_conn_id="x")  # building a hook works (files do it at parse time)
        with self.assertRaisesRegex(AirflowException, "apache-airflow-providers-amazon, which this environment lacks"):
            hook.get_job_state("b", "r")

    def test_unknown_core_path_still_fails(self):
        with self.assertRaises(ImportError):
            exec("from airflow.operators.nothing_here import X", {})

    def test_standard_provider_paths_alias_core(self):
        from airflow.providers.standard.operators.bash import BashOperator as B
        from airflow.operators.bash_operator import BashOperator as OldB

        self.assertIs(B, BashOperator)
        self.assertIs(OldB, BashOperator)


if __name__ == "__main__":
    unittest.main()

"""Jinja rendering of templated fields as Airflow 2.10 does it."""
import datetime
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jinja2  # noqa: E402

from windsock_rt import templating  # noqa: E402


def fake_dag(folder, **kw):
    d = types.SimpleNamespace(fileloc=os.path.join(folder, "dag.py"), template_searchpath=None,
                              template_undefined=None, jinja_environment_kwargs=None,
                              render_template_as_native_obj=False, user_defined_macros=None,
                              user_defined_filters=None)
    for k, v in kw.items():
        setattr(d, k, v)
    return d


class Op:
    template_fields = ("sql", "params_field", "nested")
    template_ext = (".sql",)

    def __init__(self, **kw):
        self.task_id = "op"
        self.sql = self.params_field = self.nested = None
        self.__dict__.update(kw)


class Inner:
    template_fields = ("text",)

    def __init__(self, text):
        self.text = text


class TemplatingTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.folder = self.dir.name
        self.ctx = {"ds": "2024-01-02", "params": {"n": 3},
                    "logical_date": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)}

    def tearDown(self):
        self.dir.cleanup()

    def render(self, op, dag):
        env = templating.get_template_env(dag)
        templating.render_template_fields(op, self.ctx, env)
        return op

    def test_strings_lists_dicts_tuples_nested(self):
        op = Op(sql="select '{{ ds }}'", params_field={"{{ ds }}": ["{{ params.n }}", ("{{ ds }}", 1)]},
                nested=[Inner("x{{ params.n }}")])
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "select '2024-01-02'")
        # dict keys are not rendered, values are, recursively
        self.assertEqual(op.params_field, {"{{ ds }}": ["3", ("2024-01-02", 1)]})
        self.assertEqual(op.nested[0].text, "x3")

    def test_filters(self):
        op = Op(sql="{{ logical_date | ds }} {{ logical_date | ds_nodash }} {{ logical_date | ts }} "
                    "{{ logical_date | ts_nodash }} {{ logical_date | ts_nodash_with_tz }}")
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "2024-01-02 20240102 2024-01-02T03:04:05+00:00 20240102T030405 20240102T030405+0000")

    def test_strict_undefined(self):
        op = Op(sql="{{ nope }}")
        with self.assertRaises(jinja2.exceptions.UndefinedError):
            self.render(op, fake_dag(self.folder))

    def test_template_ext_file_from_dag_folder_and_searchpath(self):
        with open(os.path.join(self.folder, "q.sql"), "w") as f:
            f.write("select * from t where d = '{{ ds }}'")
        other = os.path.join(self.folder, "sp")
        os.mkdir(other)
        with open(os.path.join(other, "r.sql"), "w") as f:
            f.write("{{ params.n }} rows")
        op = Op(sql="q.sql", params_field="r.sql")
        self.render(op, fake_dag(self.folder, template_searchpath=other))
        self.assertEqual(op.sql, "select * from t where d = '2024-01-02'")
        self.assertEqual(op.params_field, "3 rows")
        # a trailing space avoids the file lookup, Airflow's known workaround
        op = Op(sql="missing.sql ")
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "missing.sql ")
        with self.assertRaises(jinja2.exceptions.TemplateNotFound):
            self.render(Op(sql="missing.sql"), fake_dag(self.folder))

    def test_user_macros_and_filters(self):
        dag = fake_dag(self.folder, user_defined_macros={"twice": lambda x: x * 2, "who": "me"},
                       user_defined_filters={"shout": lambda s: s.upper() + "!"})
        op = Op(sql="{{ twice(params.n) }} {{ who | shout }}")
        self.render(op, dag)
        self.assertEqual(op.sql, "6 ME!")

    def test_native_rendering(self):
        dag = fake_dag(self.folder, render_template_as_native_obj=True)
        op = Op(sql="{{ params.n + 1 }}", params_field="{{ [1, 2] + [params.n] }}", nested="{{ {'a': ds} }}")
        self.render(op, dag)
        self.assertEqual(op.sql, 4)
        self.assertEqual(op.params_field, [1, 2, 3])
        self.assertEqual(op.nested, {"a": "2024-01-02"})
        # the sandboxed environment gives strings
        op = Op(sql="{{ params.n + 1 }}")
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "4")

    def test_falsy_values_kept_and_callables_called(self):
        seen = {}

        def field(context, jinja_env):
            seen["ds"] = context["ds"]
            return "called"
        op = Op(sql="", params_field=field, nested=0)
        self.render(op, fake_dag(self.folder))
        self.assertEqual((op.sql, op.params_field, op.nested), ("", "called", 0))
        self.assertEqual(seen, {"ds": "2024-01-02"})

    def test_missing_field_names_class(self):
        class Broken(Op):
            template_fields = ("nothere",)
        with self.assertRaisesRegex(AttributeError, "'nothere' is configured as a template field"):
            self.render(Broken(), fake_dag(self.folder))

    def test_sandbox_allows_single_underscore_not_dunder(self):
        class Obj:
            _private = "p"
        self.ctx["obj"] = Obj()
        op = Op(sql="{{ obj._private }}")
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "p")
        with self.assertRaises(jinja2.exceptions.SecurityError):
            self.render(Op(sql="{{ obj.__class__.__mro__ }}"), fake_dag(self.folder))

    def test_xcomarg_resolved_not_rendered(self):
        class PlainXComArg:
            def __init__(self, operator, key):
                self.operator, self.key = operator, key

        class TI:
            dag_id = "d"

            def xcom_pull(self, task_ids=None, key="return_value", default=None, **kw):
                return {"up": {"return_value": "{{ not rendered }}", "other": 5}}.get(task_ids, {}).get(key, default)
        self.ctx["ti"] = TI()
        up = types.SimpleNamespace(task_id="up", multiple_outputs=False)
        op = Op(sql=PlainXComArg(up, "return_value"), params_field=[PlainXComArg(up, "other")])
        self.render(op, fake_dag(self.folder))
        self.assertEqual(op.sql, "{{ not rendered }}")
        self.assertEqual(op.params_field, [5])
        # a missing return_value resolves to None
        self.assertEqual(templating.resolve_xcomarg(PlainXComArg(types.SimpleNamespace(task_id="x"), "return_value"), self.ctx), None)

    def test_rendered_fields_serialized(self):
        op = Op(sql="x", params_field=("a", 1), nested=object())
        out = templating.rendered_fields(op)
        self.assertEqual(out["sql"], "x")
        self.assertEqual(out["params_field"], ["a", 1])
        self.assertTrue(out["nested"].startswith("<object object"))
        long = templating.serialize_rendered("y" * 5000)
        self.assertTrue(long.startswith("Truncated. You can change this behaviour in [core]max_templated_field_length. 'yyy"))
        self.assertLess(len(long), 4200)


if __name__ == "__main__":
    unittest.main()

"""Variable and Connection through windsock_rt.rpc, at parse time and in tasks."""
import json
import os
import unittest

from tests.helpers import DagFiles, one_dag, rpc


class Store:
    """An in-process answerer for rpc calls (rpc.set_handler)."""

    def __init__(self, variables=None, connections=None):
        self.variables = dict(variables or {})
        self.connections = dict(connections or {})
        self.calls = []

    def __call__(self, name, args):
        self.calls.append((name, args))
        if name == "variable_get":
            if args["key"] not in self.variables:
                raise rpc.NotFound("not_found", "no variable %s" % args["key"])
            return self.variables[args["key"]]
        if name == "variable_set":
            self.variables[args["key"]] = args["value"]
            return None
        if name == "variable_delete":
            self.variables.pop(args["key"], None)
            return None
        if name == "connection_get":
            if args["conn_id"] not in self.connections:
                raise rpc.NotFound("not_found", "no connection")
            return self.connections[args["conn_id"]]
        raise rpc.RPCError("unknown", name)


class VariablesAtParseTimeTest(unittest.TestCase):
    def setUp(self):
        self.files = DagFiles()
        self.store = Store({"env": "prod", "tables": json.dumps(["a", "b", "c"])})
        rpc.set_handler(self.store)

    def tearDown(self):
        rpc.set_handler(None)
        self.files.close()

    def test_variables_shape_the_dag_and_are_recorded(self):
        res = self.files.parse("vars.py", """
            import datetime
            from airflow import DAG
            from airflow.models import Variable
            from airflow.operators.bash import BashOperator

            env = Variable.get("env")
            tables = Variable.get("tables", deserialize_json=True)
            missing = Variable.get("missing", default_var="fallback")
            with DAG(f"export_{env}", start_date=datetime.datetime(2024, 1, 1), tags=[missing]):
                for t in tables:
                    BashOperator(task_id=f"export_{t}", bash_command="echo")
        """)
        dag = one_dag(res)
        self.assertEqual(dag["dag_id"], "export_prod")
        self.assertEqual(list(dag["doc"]["tasks"]), ["export_a", "export_b", "export_c"])
        self.assertEqual(dag["doc"]["tags"], ["fallback"])
        self.assertEqual(res["variables_read"], ["env", "tables", "missing"])
        self.assertEqual([c[0] for c in self.store.calls], ["variable_get"] * 3)

    def test_one_lookup_per_key_while_parsing(self):
        res = self.files.parse("many.py", """
            from airflow.models import Variable
            for _ in range(5):
                Variable.get("env")
                Variable.get("absent", default_var=None)
        """)
        self.assertEqual(res["variables_read"], ["env", "absent"])
        self.assertEqual([c[1]["key"] for c in self.store.calls], ["env", "absent"])
        # Outside a parse (a running task) every get asks again.
        from airflow.models import Variable

        Variable.get("env")
        Variable.get("env")
        self.assertEqual(len(self.store.calls), 4)

    def test_missing_variable_without_default_is_an_import_error(self):
        res = self.files.parse("missing.py", """
            from airflow.models import Variable
            Variable.get("nope")
        """)
        err = res["import_errors"][0]
        self.assertEqual(err["line"], 2)
        self.assertIn("KeyError: 'Variable nope does not exist'", err["message"])
        self.assertEqual(res["variables_read"], ["nope"])

    def test_variables_read_resets_between_files(self):
        self.files.parse("a.py", "from airflow.models import Variable\nVariable.get('env')\n")
        res = self.files.parse("b.py", "from airflow.models import Variable\n")
        self.assertEqual(res["variables_read"], [])

    def test_set_and_delete(self):
        from airflow.models import Variable

        Variable.set("k", {"a": 1}, serialize_json=True)
        self.assertEqual(Variable.get("k", deserialize_json=True), {"a": 1})
        Variable.delete("k")
        self.assertIsNone(Variable.get("k", default_var=None))


class ConnectionsTest(unittest.TestCase):
    def setUp(self):
        rpc.set_handler(Store(connections={
            "api": {"conn_id": "api", "conn_type": "http", "host": "example.com", "schema": "https", "login": "u",
                    "password": "p@ss", "port": 8443, "extra": json.dumps({"timeout": 5}), "description": ""},
        }))

    def tearDown(self):
        rpc.set_handler(None)

    def test_get_connection_fields(self):
        from airflow.hooks.base import BaseHook

        c = BaseHook.get_connection("api")
        self.assertEqual((c.conn_id, c.conn_type, c.host, c.schema, c.login, c.password, c.port),
                         ("api", "http", "example.com", "https", "u", "p@ss", 8443))
        self.assertEqual(c.extra_dejson, {"timeout": 5})
        # A non-string extra value cannot ride in a plain query: Airflow uses __extra__.
        self.assertEqual(c.get_uri(), "http://u:p%40ss@example.com:8443/https?__extra__=%7B%22timeout%22%3A+5%7D")
        c.extra = json.dumps({"timeout": "5"})
        self.assertEqual(c.get_uri(), "http://u:p%40ss@example.com:8443/https?timeout=5")

    def test_unknown_connection(self):
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models import Connection

        with self.assertRaisesRegex(AirflowNotFoundException, "The conn_id `nope` isn't defined"):
            Connection.get_connection_from_secrets("nope")

    def test_uri_round_trip(self):
        from airflow.models.connection import Connection

        c = Connection(conn_id="pg", uri="postgresql://user:secret@db.local:5432/warehouse?sslmode=require")
        self.assertEqual((c.conn_type, c.host, c.port, c.schema, c.login, c.password),
                         ("postgres", "db.local", 5432, "warehouse", "user", "secret"))
        self.assertEqual(c.extra_dejson, {"sslmode": "require"})


class OutsideWindsockTest(unittest.TestCase):
    """With nothing answering rpc calls, reads fail clearly; defaults still work."""

    def setUp(self):
        rpc.set_handler(None)
        self.assertFalse(rpc.connected())

    def test_variable_default(self):
        from airflow.models import Variable

        self.assertEqual(Variable.get("anything_xyz", default_var="d"), "d")
        with self.assertRaisesRegex(KeyError, "Variable anything_xyz does not exist"):
            Variable.get("anything_xyz")

    def test_variable_from_environment(self):
        from airflow.models import Variable

        os.environ["AIRFLOW_VAR_FROM_ENV_TEST"] = "yes"
        try:
            self.assertEqual(Variable.get("from_env_test"), "yes")
        finally:
            del os.environ["AIRFLOW_VAR_FROM_ENV_TEST"]

    def test_variable_set_needs_windsock(self):
        from airflow.exceptions import AirflowException
        from airflow.models import Variable

        with self.assertRaisesRegex(AirflowException, "not running under Windsock"):
            Variable.set("k", "v")

    def test_connection_needs_windsock(self):
        from airflow.exceptions import AirflowNotFoundException
        from airflow.hooks.base import BaseHook

        with self.assertRaisesRegex(AirflowNotFoundException, "not running under Windsock"):
            BaseHook.get_connection("zzz_not_there")


if __name__ == "__main__":
    unittest.main()

"""Shared helpers: parse a DAG file written in a temporary folder."""
import os
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
PY_ROOT = os.path.dirname(HERE)
CORPUS = os.path.normpath(os.path.join(PY_ROOT, "..", "testdata", "corpus"))

if PY_ROOT not in sys.path:
    sys.path.insert(0, PY_ROOT)

from windsock_rt import parse, rpc  # noqa: E402


class DagFiles:
    """A temporary DAG folder; write(name, source) returns the file's path."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="pyapi-test-")
        self.folder = self._tmp.name

    def write(self, name, source):
        path = os.path.join(self.folder, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(source).lstrip("\n"))
        return path

    def parse(self, name, source):
        return parse.parse_file(self.write(name, source), {"dags_folder": self.folder})

    def close(self):
        self._tmp.cleanup()


def one_dag(result):
    assert not result["import_errors"], result["import_errors"]
    assert len(result["dags"]) == 1, [d["dag_id"] for d in result["dags"]]
    return result["dags"][0]


def dag_doc(result, dag_id):
    for d in result["dags"]:
        if d["dag_id"] == dag_id:
            return d["doc"]
    raise AssertionError("no DAG %r in %s" % (dag_id, [d["dag_id"] for d in result["dags"]]))

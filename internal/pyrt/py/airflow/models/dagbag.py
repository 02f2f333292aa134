"""DagBag: collect the DAGs of a folder or file with Windsock's parser
(tests in DAG repositories build one to check their files import)."""
import os


class DagBag:
    def __init__(self, dag_folder=None, include_examples=False, safe_mode=True, read_dags_from_db=False, **kwargs):
        self.dag_folder = dag_folder or os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", "")
        self.dags = {}
        self.import_errors = {}
        self.file_last_changed = {}
        if self.dag_folder:
            self.collect_dags(self.dag_folder, safe_mode=safe_mode)

    def collect_dags(self, dag_folder=None, safe_mode=True, **kwargs):
        folder = dag_folder or self.dag_folder
        paths = [folder] if os.path.isfile(folder) else [
            os.path.join(root, f) for root, _, files in os.walk(folder) for f in sorted(files) if f.endswith(".py")
        ]
        for path in paths:
            self.process_file(path, safe_mode=safe_mode)

    def process_file(self, filepath, only_if_updated=True, safe_mode=True):
        from windsock_rt import parse

        if safe_mode:
            with open(filepath, "rb") as f:
                data = f.read().lower()
            if b"dag" not in data or b"airflow" not in data:
                return []
        from airflow.models.dag import DagContext

        res = parse.parse_file(filepath, {})
        for err in res["import_errors"]:
            self.import_errors[filepath] = err["message"]
        found = []
        for d in res["dags"]:
            self.dags[d["dag_id"]] = d
            found.append(d)
        return found

    @property
    def dag_ids(self):
        return list(self.dags)

    def size(self):
        return len(self.dags)

    def get_dag(self, dag_id, session=None):
        return self.dags.get(dag_id)

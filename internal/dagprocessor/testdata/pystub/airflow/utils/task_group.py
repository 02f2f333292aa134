import airflow


class TaskGroup:
    def __init__(self, group_id, tooltip=""):
        self.group_id = group_id
        self.dag = airflow._dags[-1]
        self.dag.groups[group_id] = {"tooltip": tooltip, "prefix_group_id": False}

    def __enter__(self):
        airflow._groups.append(self)
        return self

    def __exit__(self, *exc):
        airflow._groups.pop()

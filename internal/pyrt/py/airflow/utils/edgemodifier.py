"""Label: text on the edges it stands between (`a >> Label("x") >> b`)."""
from airflow.models.taskmixin import DependencyMixin


class EdgeModifier(DependencyMixin):
    def __init__(self, label=None):
        self.label = label
        self._upstream = []
        self._downstream = []

    @property
    def roots(self):
        return self._downstream

    @property
    def leaves(self):
        return self._upstream

    def set_upstream(self, other, edge_modifier=None):
        from airflow.models.baseoperator import _flatten

        for item in _flatten(other):
            self._upstream.append(item)
            for d in self._downstream:
                item.set_downstream(d, edge_modifier=self)

    def set_downstream(self, other, edge_modifier=None):
        from airflow.models.baseoperator import _flatten

        for item in _flatten(other):
            self._downstream.append(item)
            for u in self._upstream:
                u.set_downstream(item, edge_modifier=self)

    def update_relative(self, other, upstream=True, edge_modifier=None):
        pass

    def add_edge_info(self, dag, upstream_id, downstream_id):
        dag.set_edge_info(upstream_id, downstream_id, {"label": self.label})

    def __repr__(self):
        return "Label(%r)" % self.label


def Label(label):
    """An edge label."""
    return EdgeModifier(label)

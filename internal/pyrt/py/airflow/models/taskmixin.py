"""The dependency operators (>>, <<, set_upstream, set_downstream) shared by
operators, XComArgs, task groups and edge labels."""


class DependencyMixin:
    """Anything that can stand at either end of >> and <<."""

    def set_upstream(self, other, edge_modifier=None):
        raise NotImplementedError()

    def set_downstream(self, other, edge_modifier=None):
        raise NotImplementedError()

    @property
    def roots(self):
        raise NotImplementedError()

    @property
    def leaves(self):
        raise NotImplementedError()

    def update_relative(self, other, upstream=True, edge_modifier=None):
        """Called on the other end of a new relation (task groups record it)."""

    def __rshift__(self, other):
        self.set_downstream(other)
        return other

    def __lshift__(self, other):
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):
        # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):
        # [a, b] << self
        self.set_downstream(other)
        return self


class DAGNode(DependencyMixin):
    """A node of a DAG: an operator or a task group."""


TaskMixin = DependencyMixin

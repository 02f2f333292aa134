"""TaskGroup: a named box of tasks whose ids it prefixes; dependencies on
a group become dependencies on its root or leaf tasks when they are set."""
import copy
import re

from airflow.exceptions import AirflowException, DuplicateTaskIdFound
from airflow.models.taskmixin import DAGNode
from airflow.utils.helpers import validate_group_key


class TaskGroupContext:
    _context_managed_task_groups = []

    @classmethod
    def push_context_managed_task_group(cls, tg):
        cls._context_managed_task_groups.append(tg)

    @classmethod
    def pop_context_managed_task_group(cls):
        return cls._context_managed_task_groups.pop()

    @classmethod
    def get_current_task_group(cls, dag):
        if cls._context_managed_task_groups:
            tg = cls._context_managed_task_groups[-1]
            if dag is None or tg.dag is dag:
                return tg
        if dag is None:
            return None
        return dag.task_group

    get_current = get_current_task_group


class TaskGroup(DAGNode):
    """`with TaskGroup("g") as tg:` groups tasks under the id prefix "g."."""

    def __init__(
        self,
        group_id,
        prefix_group_id=True,
        parent_group=None,
        dag=None,
        default_args=None,
        tooltip="",
        ui_color="CornflowerBlue",
        ui_fgcolor="#000",
        add_suffix_on_collision=False,
        group_display_name="",
    ):
        from airflow.models.dag import DagContext

        self.prefix_group_id = prefix_group_id
        self.default_args = copy.deepcopy(default_args or {})
        dag = dag or (parent_group.dag if parent_group else None) or DagContext.get_current_dag()
        if group_id is None:
            # The root group of a DAG.
            if parent_group:
                raise AirflowException("Root TaskGroup cannot have parent_group")
            self._group_id = None
            self.parent_group = None
            self.dag = dag
        else:
            if prefix_group_id:
                validate_group_key(group_id)
            elif not isinstance(group_id, str):
                raise ValueError("group_id must be str")
            elif not group_id:
                raise ValueError("group_id must not be empty")
            if dag is None:
                raise AirflowException("TaskGroup can only be used inside a dag")
            parent_group = parent_group or TaskGroupContext.get_current_task_group(dag)
            if parent_group is None:
                raise AirflowException("TaskGroup can only be used inside a dag")
            self.parent_group = parent_group
            self.dag = parent_group.dag
            self._group_id = group_id
            if add_suffix_on_collision:
                self._group_id = self._unique_group_id(group_id)
            self.parent_group.add(self)
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.group_display_name = group_display_name
        self.children = {}
        self.upstream_group_ids = set()
        self.downstream_group_ids = set()
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.used_group_ids = {self.group_id} if self._group_id is not None else set()
        if self.parent_group is not None:
            self.parent_group.used_group_ids.add(self.group_id)

    def _unique_group_id(self, group_id):
        base = group_id
        full = lambda gid: self.parent_group.child_id(gid)
        taken = set(self.parent_group.get_task_group_dict()) | set(self.dag.task_dict) if self.dag else set()
        n = 0
        while full(group_id) in taken:
            n += 1
            group_id = "%s__%d" % (base, n)
        return group_id

    @classmethod
    def create_root(cls, dag):
        return cls(group_id=None, dag=dag)

    @property
    def node_id(self):
        return self.group_id

    @property
    def is_root(self):
        return self._group_id is None

    @property
    def group_id(self):
        if self._group_id and self.parent_group and self.parent_group.prefix_group_id and self.parent_group._group_id:
            return self.parent_group.child_id(self._group_id)
        return self._group_id

    @property
    def label(self):
        return self.group_display_name or self._group_id

    def child_id(self, label):
        if self.prefix_group_id:
            gid = self.group_id
            if gid:
                return "%s.%s" % (gid, label)
        return label

    def add(self, task):
        key = task.node_id
        if key in self.children and self.children[key] is not task:
            kind = "TaskGroup" if isinstance(task, TaskGroup) else "Task"
            raise DuplicateTaskIdFound("%s id '%s' has already been added to the DAG" % (kind, key))
        if isinstance(task, TaskGroup) and self.dag is not None:
            if key in self.dag.task_dict:
                raise DuplicateTaskIdFound("Group id '%s' has already been added to the DAG" % key)
        self.children[key] = task
        return task

    def _remove(self, task):
        self.children.pop(task.node_id, None)

    def __iter__(self):
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    def iter_tasks(self):
        return iter(self)

    def get_task_group_dict(self):
        out = {}

        def walk(g):
            out[g.group_id] = g
            for c in g.children.values():
                if isinstance(c, TaskGroup):
                    walk(c)

        walk(self)
        return out

    def get_child_by_label(self, label):
        return self.children[self.child_id(label)]

    def has_task(self, task):
        return any(t is task for t in self)

    def get_roots(self):
        tasks = list(self)
        ids = {t.task_id for t in tasks}
        for t in tasks:
            if not any(u in ids for u in t.upstream_task_ids):
                yield t

    def get_leaves(self):
        tasks = list(self)
        ids = {t.task_id for t in tasks}
        for t in tasks:
            if getattr(t, "is_teardown", False):
                continue
            if not any(d in ids for d in t.downstream_task_ids):
                yield t

    @property
    def roots(self):
        return list(self.get_roots())

    @property
    def leaves(self):
        return list(self.get_leaves())

    def set_upstream(self, other, edge_modifier=None):
        from airflow.models.baseoperator import _relate

        _relate(self, other, upstream=True, edge_modifier=edge_modifier)

    def set_downstream(self, other, edge_modifier=None):
        from airflow.models.baseoperator import _relate

        _relate(self, other, upstream=False, edge_modifier=edge_modifier)

    def update_relative(self, other, upstream=True, edge_modifier=None):
        if isinstance(other, TaskGroup):
            if upstream:
                self.upstream_group_ids.add(other.group_id)
            else:
                self.downstream_group_ids.add(other.group_id)

    def __enter__(self):
        TaskGroupContext.push_context_managed_task_group(self)
        return self

    def __exit__(self, _type, _value, _tb):
        TaskGroupContext.pop_context_managed_task_group()

    def __repr__(self):
        return "<TaskGroup: %s>" % self.group_id

    def topological_sort(self):
        return list(self)

    def hierarchical_alphabetical_sort(self):
        return sorted(self.children.values(), key=lambda c: (not isinstance(c, TaskGroup), c.node_id))


class MappedTaskGroup(TaskGroup):
    """A @task_group called with .expand(): recorded, its tasks carry the
    expansion."""

    def __init__(self, *, expand_input=None, **kwargs):
        super().__init__(**kwargs)
        self._expand_input = expand_input

    def __exit__(self, _type, _value, _tb):
        # The group runs after the tasks whose XCom it is mapped over, as
        # Airflow's MappedTaskGroup.__exit__ makes them its upstream.
        from airflow.models.xcom_arg import XComArg

        for op, _ in XComArg.iter_xcom_references(self._expand_input):
            self.set_upstream(op)
        super().__exit__(_type, _value, _tb)


def task_group_to_dict(task_group):
    return {"id": task_group.group_id, "children": [c.node_id for c in task_group.children.values()]}

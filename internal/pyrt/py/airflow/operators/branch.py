"""BaseBranchOperator and BranchMixIn: choose the downstream tasks to run."""
from airflow.models.baseoperator import BaseOperator
from airflow.models.skipmixin import SkipMixin


class BranchMixIn(SkipMixin):
    def do_branch(self, context, branches_to_execute):
        """Record the chosen task ids (group ids expand to their roots) and
        return what the callable returned, as Airflow does."""
        ids = self._expand_task_group_roots(branches_to_execute)
        self.skip_all_except(context.get("ti") if hasattr(context, "get") else None, ids)
        return branches_to_execute

    def _expand_task_group_roots(self, branches):
        if branches is None:
            return None
        if isinstance(branches, str):
            branches = [branches]
        dag = getattr(self, "dag", None)
        groups = dag.task_group_dict if dag is not None else {}
        out = []
        for b in branches:
            if isinstance(b, str) and b in groups:
                out.extend(t.task_id for t in groups[b].get_roots())
            else:
                out.append(b)
        return out


class BaseBranchOperator(BaseOperator, BranchMixIn):
    """Subclasses implement choose_branch(context)."""

    inherits_from_skipmixin = True

    def choose_branch(self, context):
        raise NotImplementedError

    def execute(self, context):
        return self.do_branch(context, self.choose_branch(context))

"""SkipMixin: how branch and short-circuit operators say what to skip.
Windsock's scheduler does the skipping: the operator records its decision
in `_ws_outcome`, which windsock_rt.execute returns to Go."""
from airflow.exceptions import AirflowException


def _outcome(op):
    out = op.__dict__.get("_ws_outcome")
    if out is None:
        out = op._ws_outcome = {}
    return out


class SkipMixin:
    def skip(self, dag_run=None, execution_date=None, tasks=None, map_index=-1, **kwargs):
        ids = [t if isinstance(t, str) else t.task_id for t in (tasks or [])]
        _outcome(self).setdefault("skip", []).extend(ids)

    def skip_all_except(self, ti, branch_task_ids):
        if branch_task_ids is None:
            ids = []
        elif isinstance(branch_task_ids, str):
            ids = [branch_task_ids]
        elif isinstance(branch_task_ids, (list, tuple, set, frozenset)):
            ids = list(branch_task_ids)
            bad = [(i, type(i).__name__) for i in ids if not isinstance(i, str)]
            if bad:
                raise AirflowException(
                    "'branch_task_ids' expected all task IDs are strings. Invalid tasks found: %s." % bad
                )
        else:
            raise AirflowException(
                "'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, but got %r."
                % type(branch_task_ids).__name__
            )
        dag = getattr(self, "dag", None)
        if dag is not None:
            invalid = [i for i in ids if i not in dag.task_dict]
            if invalid:
                raise AirflowException(
                    "'branch_task_ids' must contain only valid task_ids. Invalid tasks found: %s." % invalid
                )
        _outcome(self)["branch"] = ids

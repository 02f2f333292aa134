"""BaseOperator: what every task is. Its metaclass fills constructor
arguments from default_args (DAG, task groups, the operator's own) the way
Airflow 2.10 does, and the relation functions (chain, cross_downstream,
chain_linear) live here too."""
import copy
import datetime as dt
import functools
import warnings

from airflow.exceptions import AirflowException
from airflow.models.dag import DagContext
from airflow.models.taskmixin import DAGNode, DependencyMixin
from airflow.utils.helpers import validate_key
from airflow.utils.trigger_rule import TriggerRule
from airflow.utils.weight_rule import WeightRule

DEFAULT_OWNER = "airflow"
DEFAULT_POOL_SLOTS = 1
DEFAULT_PRIORITY_WEIGHT = 1
DEFAULT_QUEUE = "default"
DEFAULT_RETRIES = 0
DEFAULT_RETRY_DELAY = dt.timedelta(seconds=300)
MAX_RETRY_DELAY = 24 * 60 * 60
DEFAULT_TRIGGER_RULE = TriggerRule.ALL_SUCCESS
DEFAULT_WEIGHT_RULE = WeightRule.DOWNSTREAM
DEFAULT_TASK_EXECUTION_TIMEOUT = None

# Keys of default_args never used to fill a signature.
_NOT_FROM_DEFAULTS = frozenset(("task_id", "dag", "task_group", "default_args", "_airflow_from_mapped"))


class OrderedIdSet(dict):
    """A set of task ids that remembers insertion order (documents list
    dependencies in the order the file set them)."""

    def add(self, x):
        self[x] = None

    def discard(self, x):
        self.pop(x, None)

    def remove(self, x):
        del self[x]

    def update(self, xs):
        for x in xs:
            self[x] = None

    def __or__(self, other):
        out = OrderedIdSet(self)
        out.update(other)
        return out

    def __sub__(self, other):
        return OrderedIdSet((k, None) for k in self if k not in other)

    def __and__(self, other):
        return OrderedIdSet((k, None) for k in self if k in other)

    def issubset(self, other):
        return all(k in other for k in self)

    def __repr__(self):
        return "{%s}" % ", ".join(repr(k) for k in self)

    def __eq__(self, other):
        if isinstance(other, (set, frozenset)):
            return set(self) == other
        return dict.__eq__(self, other)

    __hash__ = None


def _sig_params(fn):
    """(names a default can fill, names that must be given) of an __init__."""
    import inspect

    names, required = [], []
    for i, p in enumerate(inspect.signature(fn).parameters.values()):
        if i == 0 or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        names.append(p.name)
        if p.default is p.empty and p.name not in _NOT_FROM_DEFAULTS:
            required.append(p.name)
    return names, required


def _merged_defaults(kwargs):
    """default_args for a new operator: the DAG's, then each enclosing task
    group's, then its own default_args= (later wins); params handled apart."""
    from airflow.utils.task_group import TaskGroupContext

    dag = kwargs.get("dag") or DagContext.get_current_dag()
    tg = kwargs.get("task_group")
    if tg is None and dag is not None:
        tg = TaskGroupContext.get_current_task_group(dag)
    merged = {}
    if dag is not None:
        merged.update(dag.default_args)
    chain_ = []
    while tg is not None:
        chain_.append(tg)
        tg = tg.parent_group
    for g in reversed(chain_):
        merged.update(g.default_args)
    own = kwargs.get("default_args") or {}
    merged.update(own)
    return merged


def _apply_defaults(fn):
    cache = []

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if args:
            raise AirflowException("Use keyword arguments when initializing operators")
        if not cache:
            cache.append(_sig_params(fn))
        names, required = cache[0]
        outer = "_ws_building" not in self.__dict__
        if outer:
            self.__dict__["_ws_building"] = True
            self._ws_written = dict(kwargs)
            self._ws_defaulted = {}
            self._ws_defaults = _merged_defaults(kwargs)
        defaults = self._ws_defaults
        for n in names:
            if n not in kwargs and n in defaults and n not in _NOT_FROM_DEFAULTS:
                if n == "params":
                    continue
                kwargs[n] = defaults[n]
                self._ws_defaulted[n] = defaults[n]
        missing = [n for n in required if n not in kwargs]
        if missing:
            if len(missing) == 1:
                raise AirflowException("missing keyword argument %r" % missing[0])
            raise AirflowException("missing keyword arguments %s" % ", ".join(repr(m) for m in missing))
        try:
            return fn(self, **kwargs)
        finally:
            if outer:
                del self.__dict__["_ws_building"]
                if "task_id" in self.__dict__:
                    self._ws_after_init()

    wrapper._ws_wrapped = True
    return wrapper


class BaseOperatorMeta(type):
    """Wraps each operator class's own __init__ so default_args fill its
    parameters (what @apply_defaults did in 1.10)."""

    def __new__(mcls, name, bases, namespace, **kwargs):
        init = namespace.get("__init__")
        if init is not None and not getattr(init, "_ws_wrapped", False):
            namespace["__init__"] = _apply_defaults(init)
        tf = namespace.get("template_fields")
        if isinstance(tf, str):
            namespace["template_fields"] = (tf,)
        return super().__new__(mcls, name, bases, namespace, **kwargs)


def _flatten(x):
    if isinstance(x, (list, tuple, set, frozenset)):
        for i in x:
            yield from _flatten(i)
    elif x is not None and hasattr(x, "__next__"):
        for i in x:
            yield from _flatten(i)
    else:
        yield x


def _ends(item, side):
    """The tasks of item that an edge attaches to: its leaves when item is
    upstream, its roots when downstream."""
    from airflow.models.xcom_arg import XComArg
    from airflow.utils.task_group import TaskGroup

    if isinstance(item, TaskGroup):
        return list(item.get_leaves() if side == "up" else item.get_roots())
    if isinstance(item, XComArg):
        return [op for op, _ in item.iter_references()]
    if isinstance(item, AbstractOperator):
        return [item]
    raise TypeError("Relationships can only be set between Operators; received %s" % type(item).__name__)


def _link(up, down, edge_modifier=None):
    dag = up.dag if up.dag is not None else down.dag
    if up.dag is not None and down.dag is not None and up.dag is not down.dag:
        raise AirflowException(
            "Tried to set relationships between tasks in more than one DAG: %s" % sorted({up.dag.dag_id, down.dag.dag_id})
        )
    if dag is not None:
        for t in (up, down):
            if t.dag is None:
                dag.add_task(t)
    up.downstream_task_ids.add(down.task_id)
    down.upstream_task_ids.add(up.task_id)
    if edge_modifier is not None and dag is not None:
        dag.set_edge_info(up.task_id, down.task_id, {"label": edge_modifier.label})


def _relate(node, other, upstream, edge_modifier=None):
    """node.set_upstream(other) (upstream=True) or node.set_downstream(other)."""
    from airflow.utils.edgemodifier import EdgeModifier

    for item in _flatten(other):
        if isinstance(item, EdgeModifier):
            if upstream:
                item.set_downstream(node)
            else:
                item.set_upstream(node)
            continue
        if not isinstance(item, DependencyMixin):
            raise TypeError("Relationships can only be set between Operators; received %s" % type(item).__name__)
        if upstream:
            ups, downs = _ends(item, "up"), _ends(node, "down")
        else:
            ups, downs = _ends(node, "up"), _ends(item, "down")
        for u in ups:
            for d in downs:
                _link(u, d, edge_modifier)
        node.update_relative(item, upstream, edge_modifier)
        item.update_relative(node, not upstream, edge_modifier)


class AbstractOperator(DAGNode):
    """What operators and mapped operators share: identity and relations."""

    is_setup = False
    is_teardown = False
    _is_mapped = False

    @property
    def node_id(self):
        return self.task_id

    @property
    def label(self):
        tg = getattr(self, "task_group", None)
        if tg is not None and tg.prefix_group_id and tg.group_id and self.task_id.startswith(tg.group_id + "."):
            return self.task_id[len(tg.group_id) + 1 :]
        return self.task_id

    @property
    def dag_id(self):
        if self.dag is not None:
            return self.dag.dag_id
        return "adhoc_" + str(getattr(self, "owner", DEFAULT_OWNER))

    @property
    def is_mapped(self):
        return self._is_mapped

    def has_dag(self):
        return self.dag is not None

    def get_dag(self):
        return self.dag

    @property
    def roots(self):
        return [self]

    @property
    def leaves(self):
        return [self]

    def set_upstream(self, task_or_task_list, edge_modifier=None):
        _relate(self, task_or_task_list, upstream=True, edge_modifier=edge_modifier)

    def set_downstream(self, task_or_task_list, edge_modifier=None):
        _relate(self, task_or_task_list, upstream=False, edge_modifier=edge_modifier)

    @property
    def upstream_list(self):
        return [self.dag.task_dict[t] for t in self.upstream_task_ids if self.dag and t in self.dag.task_dict]

    @property
    def downstream_list(self):
        return [self.dag.task_dict[t] for t in self.downstream_task_ids if self.dag and t in self.dag.task_dict]

    def get_direct_relative_ids(self, upstream=False):
        return self.upstream_task_ids if upstream else self.downstream_task_ids

    def get_direct_relatives(self, upstream=False):
        return self.upstream_list if upstream else self.downstream_list

    def get_flat_relative_ids(self, *, upstream=False):
        seen, todo = OrderedIdSet(), list(self.get_direct_relative_ids(upstream))
        while todo:
            t = todo.pop()
            if t in seen or not self.dag or t not in self.dag.task_dict:
                continue
            seen.add(t)
            todo.extend(self.dag.task_dict[t].get_direct_relative_ids(upstream))
        return seen

    def get_flat_relatives(self, upstream=False):
        return [self.dag.task_dict[t] for t in self.get_flat_relative_ids(upstream=upstream)]

    def as_setup(self):
        self.is_setup = True
        return self

    def as_teardown(self, *, setups=None, on_failure_fail_dagrun=None):
        self.is_teardown = True
        self.trigger_rule = TriggerRule.ALL_DONE_SETUP_SUCCESS
        if on_failure_fail_dagrun is not None:
            self.on_failure_fail_dagrun = on_failure_fail_dagrun
        if setups is not None:
            for s in _flatten(setups):
                s = s if isinstance(s, AbstractOperator) else _ends(s, "up")[0]
                s.is_setup = True
                self.set_upstream(s)
        return self

    def __enter__(self):
        # `with setup_task >> teardown_task:` style setup/teardown scopes.
        return self

    def __exit__(self, *exc):
        return None

    def iter_mapped_dependants(self):
        return iter(())


class BaseOperator(AbstractOperator, metaclass=BaseOperatorMeta):
    """The base of every operator. Subclasses set template_fields and
    template_ext and implement execute(context)."""

    template_fields = ()
    template_ext = ()
    template_fields_renderers = {}
    ui_color = "#fff"
    ui_fgcolor = "#000"
    shallow_copy_attrs = ()
    operator_extra_links = ()
    custom_operator_name = None
    pool = ""
    supports_lineage = False
    deps = frozenset()
    start_trigger_args = None
    start_from_trigger = False

    def __init__(
        self,
        task_id,
        owner=DEFAULT_OWNER,
        email=None,
        email_on_retry=True,
        email_on_failure=True,
        retries=DEFAULT_RETRIES,
        retry_delay=DEFAULT_RETRY_DELAY,
        retry_exponential_backoff=False,
        max_retry_delay=None,
        start_date=None,
        end_date=None,
        depends_on_past=False,
        ignore_first_depends_on_past=True,
        wait_for_past_depends_before_skipping=False,
        wait_for_downstream=False,
        dag=None,
        params=None,
        default_args=None,
        priority_weight=DEFAULT_PRIORITY_WEIGHT,
        weight_rule=DEFAULT_WEIGHT_RULE,
        queue=DEFAULT_QUEUE,
        pool=None,
        pool_slots=DEFAULT_POOL_SLOTS,
        sla=None,
        execution_timeout=DEFAULT_TASK_EXECUTION_TIMEOUT,
        on_execute_callback=None,
        on_failure_callback=None,
        on_success_callback=None,
        on_retry_callback=None,
        on_skipped_callback=None,
        pre_execute=None,
        post_execute=None,
        trigger_rule=DEFAULT_TRIGGER_RULE,
        resources=None,
        run_as_user=None,
        task_concurrency=None,
        map_index_template=None,
        max_active_tis_per_dag=None,
        max_active_tis_per_dagrun=None,
        executor=None,
        executor_config=None,
        do_xcom_push=True,
        multiple_outputs=False,
        inlets=None,
        outlets=None,
        task_group=None,
        doc=None,
        doc_md=None,
        doc_json=None,
        doc_yaml=None,
        doc_rst=None,
        task_display_name=None,
        logger_name=None,
        allow_nested_operators=True,
        **kwargs,
    ):
        from airflow.models.param import ParamsDict
        from airflow.utils.task_group import TaskGroupContext

        from_mapped = kwargs.pop("_airflow_from_mapped", False)
        if "provide_context" in kwargs:
            # The 1.10 idiom: the context is always offered in 2.x.
            kwargs.pop("provide_context")
        if "xcom_push" in kwargs:
            # 1.10 spelling of do_xcom_push.
            do_xcom_push = bool(kwargs.pop("xcom_push"))
        if kwargs:
            raise AirflowException(
                "Invalid arguments were passed to %s (task_id: %s). Invalid arguments were:\n**kwargs: %s"
                % (self.__class__.__name__, task_id, kwargs)
            )
        validate_key(task_id)

        dag = dag or DagContext.get_current_dag()
        if task_group is None and dag is not None:
            task_group = TaskGroupContext.get_current_task_group(dag)
        self.task_id = task_group.child_id(task_id) if task_group is not None else task_id
        self.owner = owner
        self.email = email
        self.email_on_retry = email_on_retry
        self.email_on_failure = email_on_failure
        if start_date is not None and not isinstance(start_date, dt.datetime):
            from airflow.utils import timezone

            start_date = timezone.parse(start_date) if isinstance(start_date, str) else start_date
        self.start_date = start_date
        self.end_date = end_date
        if trigger_rule == "dummy":
            warnings.warn("dummy Trigger Rule is deprecated. Please use `TriggerRule.ALWAYS`.", DeprecationWarning, stacklevel=3)
            trigger_rule = TriggerRule.ALWAYS
        if trigger_rule == "none_failed_or_skipped":
            trigger_rule = TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS
        if not TriggerRule.is_valid(trigger_rule):
            raise AirflowException(
                "The trigger_rule must be one of %s,'%s'; received '%s'."
                % (sorted(TriggerRule.all_triggers()), (dag.dag_id + "." if dag else "") + task_id, trigger_rule)
            )
        self.trigger_rule = TriggerRule(trigger_rule)
        self.depends_on_past = depends_on_past
        self.ignore_first_depends_on_past = ignore_first_depends_on_past
        self.wait_for_past_depends_before_skipping = wait_for_past_depends_before_skipping
        self.wait_for_downstream = wait_for_downstream
        if wait_for_downstream:
            self.depends_on_past = True
        self.retries = retries
        if retries is not None and not isinstance(retries, int):
            try:
                self.retries = int(retries)
            except (TypeError, ValueError):
                raise AirflowException("'retries' type must be int, not %s" % type(retries).__name__)
        self.queue = queue
        self.pool = pool or "default_pool"
        self.pool_slots = pool_slots
        if self.pool_slots < 1:
            raise ValueError("pool slots for %s%s cannot be less than 1" % (task_id, " in dag " + dag.dag_id if dag else ""))
        self.sla = sla
        if execution_timeout is not None and not isinstance(execution_timeout, dt.timedelta):
            raise ValueError("execution_timeout must be timedelta object but passed as type: %s" % type(execution_timeout))
        self.execution_timeout = execution_timeout
        self.on_execute_callback = on_execute_callback
        self.on_failure_callback = on_failure_callback
        self.on_success_callback = on_success_callback
        self.on_retry_callback = on_retry_callback
        self.on_skipped_callback = on_skipped_callback
        self._pre_execute_hook = pre_execute
        self._post_execute_hook = post_execute
        if isinstance(retry_delay, dt.timedelta):
            self.retry_delay = retry_delay
        else:
            self.retry_delay = dt.timedelta(seconds=retry_delay)
        self.retry_exponential_backoff = retry_exponential_backoff
        if max_retry_delay is not None and not isinstance(max_retry_delay, dt.timedelta):
            max_retry_delay = dt.timedelta(seconds=max_retry_delay)
        self.max_retry_delay = max_retry_delay
        self.params = ParamsDict(params)
        self.priority_weight = priority_weight
        if not WeightRule.is_valid(weight_rule) and not hasattr(weight_rule, "get_weight"):
            raise AirflowException(
                "The weight_rule must be one of %s,'%s'; received '%s'."
                % (sorted(WeightRule.all_weight_rules()), (dag.dag_id + "." if dag else "") + task_id, weight_rule)
            )
        self.weight_rule = WeightRule(weight_rule) if isinstance(weight_rule, str) else weight_rule
        self.resources = resources
        self.run_as_user = run_as_user
        if task_concurrency and not max_active_tis_per_dag:
            max_active_tis_per_dag = task_concurrency
        self.max_active_tis_per_dag = max_active_tis_per_dag
        self.max_active_tis_per_dagrun = max_active_tis_per_dagrun
        self.map_index_template = map_index_template
        self.executor = executor
        self.executor_config = executor_config or {}
        self.do_xcom_push = do_xcom_push
        self.multiple_outputs = multiple_outputs
        self.doc_md, self.doc, self.doc_json, self.doc_yaml, self.doc_rst = doc_md, doc, doc_json, doc_yaml, doc_rst
        self._task_display_property_value = task_display_name
        self.logger_name = logger_name
        self.allow_nested_operators = allow_nested_operators
        self.inlets = list(inlets) if isinstance(inlets, (list, tuple)) else ([inlets] if inlets is not None else [])
        self.outlets = list(outlets) if isinstance(outlets, (list, tuple)) else ([outlets] if outlets is not None else [])
        self.upstream_task_ids = OrderedIdSet()
        self.downstream_task_ids = OrderedIdSet()
        self._log_config_logger_name = None
        self._ws_from_mapped = from_mapped

        # params: the DAG's, then default_args' params, then the task's own.
        defaults = self.__dict__.get("_ws_defaults") or {}
        own = {}
        if defaults.get("params"):
            own.update(defaults["params"])
        if params:
            own.update(params)
        self._ws_task_params = own
        merged = ParamsDict()
        if dag is not None:
            merged.update(copy.deepcopy(dag.params))
        merged.update(own)
        self.params = merged

        self.dag = None
        self.task_group = task_group
        if dag is not None and not from_mapped:
            dag.add_task(self)
            if task_group is not None:
                task_group.add(self)
        elif from_mapped:
            self.dag = dag

    # --- after every __init__ of the class chain has run
    def _ws_after_init(self):
        if not hasattr(self, "_ws_line"):
            from airflow.models.dag import _caller_location

            self._ws_file, self._ws_line = _caller_location(3)
        self.set_xcomargs_dependencies()

    def set_xcomargs_dependencies(self):
        from airflow.models.xcom_arg import XComArg

        for field in self.template_fields:
            value = getattr(self, field, None)
            if value is not None:
                XComArg.apply_upstream_relationship(self, value)

    # --- display
    def __repr__(self):
        return "<Task(%s): %s>" % (self.task_type, self.task_id)

    @property
    def task_type(self):
        return self.__class__.__name__

    @property
    def operator_name(self):
        return self.custom_operator_name or self.task_type

    @property
    def operator_class(self):
        return self.__class__

    @property
    def task_display_name(self):
        return self._task_display_property_value or self.task_id

    @property
    def inherits_from_empty_operator(self):
        from airflow.operators.empty import EmptyOperator

        return isinstance(self, EmptyOperator)

    @property
    def priority_weight_total(self):
        return self.priority_weight

    @property
    def output(self):
        from airflow.models.xcom_arg import XComArg

        return XComArg(operator=self)

    # --- mapping
    @classmethod
    def partial(cls, **kwargs):
        from airflow.models.mappedoperator import OperatorPartial

        return OperatorPartial.create(cls, kwargs)

    # --- running (used by windsock_rt.execute)
    def execute(self, context):
        raise NotImplementedError()

    def pre_execute(self, context):
        if self._pre_execute_hook is not None:
            self._pre_execute_hook(context)

    def post_execute(self, context, result=None):
        if self._post_execute_hook is not None:
            self._post_execute_hook(context, result)

    def on_kill(self):
        """Called when the task is killed (timeout, external kill)."""

    def defer(self, *, trigger, method_name, kwargs=None, timeout=None):
        from airflow.exceptions import TaskDeferred

        raise TaskDeferred(trigger=trigger, method_name=method_name, kwargs=kwargs, timeout=timeout)

    def resume_execution(self, next_method, next_kwargs, context):
        return getattr(self, next_method)(context, **(next_kwargs or {}))

    def xcom_push(self, context, key, value, execution_date=None):
        context["ti"].xcom_push(key=key, value=value)

    @staticmethod
    def xcom_pull(context, task_ids=None, dag_id=None, key="return_value", include_prior_dates=None):
        return context["ti"].xcom_pull(key=key, task_ids=task_ids, dag_id=dag_id, include_prior_dates=include_prior_dates)

    def prepare_for_execution(self):
        other = copy.copy(self)
        other._lock_for_execution = True
        return other

    def dry_run(self):
        for field in self.template_fields:
            print(field, getattr(self, field, None))

    def get_template_env(self, dag=None):
        dag = dag or self.dag
        if dag is not None:
            return dag.get_template_env(force_sandboxed=False)
        import jinja2

        return jinja2.Environment(cache_size=0)

    # --- templates
    def resolve_template_files(self):
        """Read template_ext files into their fields (Airflow does this at
        parse time; a failure is only logged, the file is read again at render)."""
        if not self.template_ext:
            return
        try:
            env = self.get_template_env()
        except ImportError:
            return
        for field in self.template_fields:
            content = getattr(self, field, None)
            try:
                if isinstance(content, str) and content.endswith(tuple(self.template_ext)):
                    setattr(self, field, env.loader.get_source(env, content)[0])
                elif isinstance(content, list):
                    for i, item in enumerate(content):
                        if isinstance(item, str) and item.endswith(tuple(self.template_ext)):
                            content[i] = env.loader.get_source(env, item)[0]
            except Exception:
                pass
        self.prepare_template()

    def prepare_template(self):
        """Hook for subclasses to adjust fields after template files are read."""

    def render_template_fields(self, context, jinja_env=None):
        """Render every template field in place with jinja_env."""
        if not jinja_env:
            jinja_env = self.get_template_env()
        self._do_render_template_fields(self, self.template_fields, context, jinja_env, set())

    def _do_render_template_fields(self, parent, template_fields, context, jinja_env, seen_oids):
        for attr_name in template_fields:
            value = getattr(parent, attr_name)
            rendered = self.render_template(value, context, jinja_env, seen_oids)
            if rendered:
                setattr(parent, attr_name, rendered)

    def render_template(self, content, context, jinja_env=None, seen_oids=None):
        """Render content: strings as templates (or template files when they
        end with a template_ext), containers recursively (dict keys are not
        rendered), XComArgs and DagParams resolved."""
        from airflow.models.xcom_arg import ResolveMixin
        from airflow.models.param import DagParam

        if seen_oids is None:
            seen_oids = set()
        if id(content) in seen_oids:
            return content
        if not jinja_env:
            jinja_env = self.get_template_env()
        if isinstance(content, str):
            if self.template_ext and content.endswith(tuple(self.template_ext)):
                template = jinja_env.get_template(content)
            else:
                template = jinja_env.from_string(content)
            return self._render(template, context, jinja_env)
        if isinstance(content, (ResolveMixin, DagParam)):
            return content.resolve(context)
        if isinstance(content, tuple):
            if type(content) is not tuple:
                return content.__class__(*(self.render_template(e, context, jinja_env, seen_oids) for e in content))
            return tuple(self.render_template(e, context, jinja_env, seen_oids) for e in content)
        if isinstance(content, list):
            return [self.render_template(e, context, jinja_env, seen_oids) for e in content]
        if isinstance(content, dict):
            return {k: self.render_template(v, context, jinja_env, seen_oids) for k, v in content.items()}
        if isinstance(content, set):
            return {self.render_template(e, context, jinja_env, seen_oids) for e in content}
        if hasattr(content, "template_fields") and not isinstance(content, type):
            seen_oids.add(id(content))
            self._do_render_template_fields(content, content.template_fields, context, jinja_env, seen_oids)
        return content

    @staticmethod
    def _render(template, context, jinja_env=None):
        if jinja_env is not None and jinja_env.__class__.__name__ == "NativeEnvironment":
            return template.render(**context)
        return template.render(context)

    # --- copies: the DAG and task group are shared, never copied
    def __deepcopy__(self, memo):
        cls = self.__class__
        result = cls.__new__(cls)
        memo[id(self)] = result
        shallow = set(self.shallow_copy_attrs) | {"dag", "task_group", "_ws_defaults"}
        for k, v in self.__dict__.items():
            if k in shallow:
                object.__setattr__(result, k, v)
                continue
            try:
                object.__setattr__(result, k, copy.deepcopy(v, memo))
            except Exception:
                object.__setattr__(result, k, v)
        return result

    def __getstate__(self):
        return self.__dict__

    @property
    def log(self):
        """The task's logger, named as Airflow names it."""
        import logging

        cls = type(self)
        return logging.getLogger(self.logger_name or "airflow.task.operators.%s.%s" % (cls.__module__, cls.__name__))

    def clear(self, *args, **kwargs):
        return 0

    def run(self, *args, **kwargs):
        raise AirflowException("BaseOperator.run is not available in Windsock: use `windsock tasks test`")

    def get_extra_links(self, ti, name):
        return None

    def add_inlets(self, inlets):
        self.inlets.extend(inlets)

    def add_outlets(self, outlets):
        self.outlets.extend(outlets)

    def get_inlet_defs(self):
        return self.inlets

    def get_outlet_defs(self):
        return self.outlets


def chain(*tasks):
    """Link tasks pairwise; two adjacent lists must be of equal length."""
    for up, down in zip(tasks, tasks[1:]):
        if isinstance(up, DependencyMixin):
            up.set_downstream(down)
            continue
        if isinstance(down, DependencyMixin):
            down.set_upstream(up)
            continue
        up, down = list(up), list(down)
        if len(up) != len(down):
            raise AirflowException("Chain not supported for different length Iterable. Got %d and %d." % (len(up), len(down)))
        for u, d in zip(up, down):
            u.set_downstream(d)


def cross_downstream(from_tasks, to_tasks):
    """Every task of from_tasks upstream of every task of to_tasks."""
    for task in from_tasks:
        task.set_downstream(to_tasks)


def chain_linear(*elements):
    """Every element of each list upstream of every element of the next."""
    from airflow.utils.edgemodifier import EdgeModifier

    if len(elements) < 2:
        raise ValueError("chain_linear must have at least two elements")
    prev = None
    for curr in elements:
        if isinstance(curr, EdgeModifier):
            raise ValueError("Labels are not supported by chain_linear")
        if prev is not None:
            for task in prev:
                task.set_downstream(curr)
        prev = [curr] if isinstance(curr, DependencyMixin) else curr


BaseOperatorLink = object


class BaseOperatorLink_:
    name = ""

    def get_link(self, operator, *, ti_key):
        return ""


BaseOperatorLink = BaseOperatorLink_
Operator = BaseOperator

"""Jinja templating as Airflow 2.10 does it for a task's templated fields.

The environment matches DAG.get_template_env: a FileSystemLoader over the
DAG file's folder then template_searchpath, StrictUndefined (or the DAG's
template_undefined), the jinja2.ext.do extension, no template cache,
Airflow's date filters, user_defined_macros as globals and
user_defined_filters as filters; a sandbox that allows single-underscore
attributes, or jinja2's NativeEnvironment when the DAG sets
render_template_as_native_obj.

Rendering matches Templater.render_template: a string that ends with one of
the operator's template_ext is a template file, any other string a template;
tuples, lists, sets and dict values are rendered recursively (dict keys are
not); an XComArg (or anything else with Airflow's resolve interface) is
resolved by pulling its XCom; any other object with template_fields has
those rendered in place.
"""

import os

try:
    import jinja2
    import jinja2.nativetypes
    import jinja2.sandbox
except ImportError:  # pragma: no cover - exercised only without jinja2
    jinja2 = None

__all__ = [
    "FILTERS", "SandboxedEnvironment", "NativeEnvironment", "get_template_env",
    "render_template", "render_template_fields", "resolve_xcomarg", "is_xcomarg",
    "serialize_rendered", "rendered_fields",
]


def ds_filter(value):
    """{{ some_date | ds }}: YYYY-MM-DD."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%d")


def ds_nodash_filter(value):
    """{{ some_date | ds_nodash }}: YYYYMMDD."""
    if value is None:
        return None
    return value.strftime("%Y%m%d")


def ts_filter(value):
    """{{ some_date | ts }}: the isoformat."""
    if value is None:
        return None
    return value.isoformat()


def ts_nodash_filter(value):
    """{{ some_date | ts_nodash }}: YYYYMMDDTHHMMSS."""
    if value is None:
        return None
    return value.strftime("%Y%m%dT%H%M%S")


def ts_nodash_with_tz_filter(value):
    """{{ some_date | ts_nodash_with_tz }}: the isoformat without - and :."""
    if value is None:
        return None
    return value.isoformat().replace("-", "").replace(":", "")


FILTERS = {
    "ds": ds_filter,
    "ds_nodash": ds_nodash_filter,
    "ts": ts_filter,
    "ts_nodash": ts_nodash_filter,
    "ts_nodash_with_tz": ts_nodash_with_tz_filter,
}


if jinja2 is not None:

    class _AirflowEnvironmentMixin:
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.filters.update(FILTERS)

        def is_safe_attribute(self, obj, attr, value):
            # Airflow's sandbox lets templates read _private attributes but
            # never dunders (jinja2's default refuses both).
            return not jinja2.sandbox.is_internal_attribute(obj, attr) and not attr.startswith("__")

    class SandboxedEnvironment(_AirflowEnvironmentMixin, jinja2.sandbox.SandboxedEnvironment):
        """Airflow's default template environment."""

    class NativeEnvironment(_AirflowEnvironmentMixin, jinja2.nativetypes.NativeEnvironment):
        """The environment of DAGs with render_template_as_native_obj=True:
        a template renders to a Python value, not a string."""

else:  # pragma: no cover
    SandboxedEnvironment = NativeEnvironment = None


def _searchpath(dag):
    paths = []
    fileloc = getattr(dag, "fileloc", None) if dag is not None else None
    if fileloc:
        paths.append(os.path.dirname(fileloc))
    extra = getattr(dag, "template_searchpath", None) if dag is not None else None
    if isinstance(extra, str):
        extra = [extra]
    paths.extend(extra or [])
    return paths


class _NoJinja:
    """Stands in for an environment when jinja2 cannot be imported: plain
    strings pass through, a string with template syntax fails clearly."""

    native = False

    def check(self, value):
        if "{{" in value or "{%" in value or "{#" in value:
            raise RuntimeError("rendering templates needs the jinja2 package, which this Python environment lacks")
        return value


def get_template_env(dag, force_sandboxed=False):
    """The Jinja environment DAG.get_template_env builds for dag (None: a
    bare sandbox, as for a task without a DAG)."""
    if jinja2 is None:
        return _NoJinja()
    if dag is None:
        return SandboxedEnvironment(cache_size=0)
    options = {
        "loader": jinja2.FileSystemLoader(_searchpath(dag)),
        "undefined": getattr(dag, "template_undefined", None) or jinja2.StrictUndefined,
        "extensions": ["jinja2.ext.do"],
        "cache_size": 0,
    }
    options.update(getattr(dag, "jinja_environment_kwargs", None) or {})
    native = bool(getattr(dag, "render_template_as_native_obj", False)) and not force_sandboxed
    env = (NativeEnvironment if native else SandboxedEnvironment)(**options)
    env.globals.update(getattr(dag, "user_defined_macros", None) or {})
    env.filters.update(getattr(dag, "user_defined_filters", None) or {})
    return env


# --- XComArg resolution -----------------------------------------------------

def _class_names(obj):
    return {c.__name__ for c in type(obj).__mro__}


def is_xcomarg(value):
    """Whether value is one of Airflow's ResolveMixin values (XComArg and its
    map/zip/concat forms, DagParam, literal()) rather than data to render.
    Checked by class name so that any airflow package spelling of the
    classes qualifies."""
    names = _class_names(value)
    return any(n.endswith("XComArg") for n in names) or bool(names & {"ResolveMixin", "DagParam", "LiteralValue"})


def _xcomarg_operator(arg):
    op = getattr(arg, "operator", None)
    if op is None:
        raise TypeError("cannot resolve %r: it names no upstream operator" % (arg,))
    return op


def resolve_xcomarg(arg, context):
    """The value of an XComArg at run time (Airflow's XComArg.resolve):
    pull the upstream's XCom (every map index, in order, for a mapped
    upstream; the same map index for an upstream in the same mapped task
    group); None when nothing was pushed under return_value or by an
    operator with multiple_outputs, else XComNotFound. A mapped task
    group's argument is its value for this map index. Other forms use the
    airflow package's own resolve()."""
    names = _class_names(arg)
    if "MappedArgument" in names:
        return _resolve_mapped_argument(arg, context)
    if "PlainXComArg" in names or ("XComArg" in names and hasattr(arg, "operator") and hasattr(arg, "key")):
        return _pull(_xcomarg_operator(arg), getattr(arg, "key", None) or "return_value", context)
    resolve = getattr(arg, "resolve", None)
    if callable(resolve):
        return resolve(context, include_xcom=True)
    if "MapXComArg" in names:
        value = resolve_xcomarg(arg.arg, context)
        return _MappedSequence(value, tuple(getattr(arg, "callables", ())))
    if "ZipXComArg" in names:
        import itertools
        values = [resolve_xcomarg(a, context) for a in arg.args]
        fill = getattr(arg, "fillvalue", _NOTSET_FILL)
        if fill is _NOTSET_FILL or type(fill).__name__ == "ArgNotSet":
            return list(zip(*values))
        return list(itertools.zip_longest(*values, fillvalue=fill))
    if "ConcatXComArg" in names:
        out = []
        for a in arg.args:
            v = resolve_xcomarg(a, context)
            out.extend(v.values() if isinstance(v, dict) else v)
        return out
    raise TypeError("cannot resolve %r" % (arg,))


def _pull(op, key, context):
    ti = context["ti"]
    missing = object()
    kwargs = {}
    if _in_same_mapped_group(context.get("task"), op) and ti.map_index >= 0:
        kwargs["map_indexes"] = ti.map_index
    value = ti.xcom_pull(task_ids=op.task_id, key=key, default=missing, **kwargs)
    if value is not missing:
        return value
    if key == "return_value" or getattr(op, "multiple_outputs", False):
        return None
    from airflow.exceptions import XComNotFound
    raise XComNotFound(ti.dag_id, op.task_id, key)


def _mapped_groups(node):
    """The mapped task groups node is in, innermost first."""
    out = []
    group = getattr(node, "task_group", None)
    while group is not None:
        if "MappedTaskGroup" in _class_names(group):
            out.append(group)
        group = getattr(group, "parent_group", None)
    return out


def _in_same_mapped_group(task, upstream):
    """Whether task and upstream are expanded by one mapped task group (and
    upstream is not mapped further inside it): then map index i of task
    reads map index i of upstream, as Airflow's
    get_relevant_upstream_map_indexes decides."""
    if task is None or "MappedOperator" in _class_names(upstream):
        return False
    theirs = _mapped_groups(upstream)
    return any(any(g is h for h in theirs) for g in _mapped_groups(task))


def _resolve_mapped_argument(arg, context):
    """The value a mapped task group's function argument takes in map
    index ti.map_index of the group's expansion."""
    expand_input = arg._input
    kind = "dict" if isinstance(expand_input, dict) else "list"
    kwargs = expanded_arguments(kind, expand_input, context["ti"].map_index, context, set())
    return kwargs[arg._key]


def expanded_arguments(kind, value, map_index, context, resolved_oids):
    """The arguments of map index map_index of an expansion, as Airflow
    computes them: kind "dict" (expand(**values)) is the cross product of
    the values (the last one varies fastest; a dict's items are (key,
    value) pairs); kind "list" (expand_kwargs(value)) takes the
    map_index-th dict. XComArgs among them are pulled; the ids of values
    pulled from XCom are added to resolved_oids (they are not rendered as
    templates afterwards)."""
    if map_index is None or map_index < 0:
        raise RuntimeError("a mapped task needs a map index to run")

    def resolved(v):
        if is_xcomarg(v):
            v = resolve_xcomarg(v, context)
            resolved_oids.add(id(v))
        return v

    if kind == "list":
        items = resolved(value)
        kwargs = resolved(items[map_index])
        if not isinstance(kwargs, dict):
            raise TypeError("expand_kwargs() expects a list of dicts, got %s at index %d"
                            % (type(kwargs).__name__, map_index))
        return {k: resolved(v) for k, v in kwargs.items()}
    values = {k: resolved(v) for k, v in value.items()}
    out = {}
    index = map_index
    for key in reversed(list(value)):
        seq = values[key]
        if seq is None:
            raise RuntimeError("cannot expand %s: its upstream pushed no value" % key)
        length = len(seq)
        if length < 1:
            raise RuntimeError("cannot expand field mapped to length %r" % length)
        i = index % length
        index //= length
        item = list(seq.items())[i] if isinstance(seq, dict) else seq[i]
        if id(seq) in resolved_oids:
            resolved_oids.add(id(item))
        out[key] = item
    if index:
        raise IndexError("index %d is over mapped length" % map_index)
    return out


_NOTSET_FILL = object()


class _MappedSequence:
    """XComArg.map(f): the upstream's values with f applied lazily, when an
    item is read (as Airflow's _MapResult)."""

    def __init__(self, value, callables):
        self.value = value
        self.callables = callables

    def _apply(self, v):
        for f in self.callables:
            v = f(v)
        return v

    def __getitem__(self, i):
        return self._apply(self.value[i])

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self._apply(v) for v in self.value)

    def __repr__(self):
        return repr(list(self))


# --- rendering ----------------------------------------------------------------

def _render_string(operator, value, context, env):
    if isinstance(env, _NoJinja):
        return env.check(value)
    exts = getattr(operator, "template_ext", None) or ()
    if isinstance(exts, str):
        exts = (exts,)
    if exts and value.endswith(tuple(exts)):
        template = env.get_template(value)
    else:
        template = env.from_string(value)
    return template.render(context)


def render_template(operator, value, context, env, seen_oids=None):
    """Airflow's Templater.render_template for one value of operator."""
    oids = seen_oids if seen_oids is not None else set()
    if id(value) in oids:
        return value
    if isinstance(value, str):
        return _render_string(operator, value, context, env)
    if is_xcomarg(value):
        return resolve_xcomarg(value, context)
    cls = value.__class__
    if cls is tuple:
        return tuple(render_template(operator, v, context, env, oids) for v in value)
    if isinstance(value, tuple):  # a namedtuple
        return cls(*(render_template(operator, v, context, env, oids) for v in value))
    if isinstance(value, list):
        return [render_template(operator, v, context, env, oids) for v in value]
    if isinstance(value, dict):
        return {k: render_template(operator, v, context, env, oids) for k, v in value.items()}
    if isinstance(value, set):
        return {render_template(operator, v, context, env, oids) for v in value}
    _render_nested(operator, value, context, env, oids)
    return value


def _render_nested(operator, value, context, env, oids):
    if id(value) in oids:
        return
    oids.add(id(value))
    fields = getattr(value, "template_fields", None)
    if not fields or isinstance(value, type):
        return
    _render_fields(operator, value, fields, context, env, oids)


def _render_fields(operator, parent, fields, context, env, oids):
    if isinstance(fields, str):
        fields = (fields,)
    for name in fields:
        try:
            value = getattr(parent, name)
        except AttributeError:
            kind = getattr(parent, "task_type", None) or type(parent).__name__
            raise AttributeError("%r is configured as a template field but %s does not have this attribute." % (name, kind)) from None
        try:
            if not value:
                continue
        except Exception:  # a value without __bool__ (a DataFrame) is rendered anyway
            pass
        try:
            if callable(value) and not is_xcomarg(value) and not isinstance(value, type):
                rendered = value(context=context, jinja_env=env)
            else:
                rendered = render_template(operator, value, context, env, oids)
        except Exception:
            print("Exception rendering Jinja template for task %r, field %r. Template: %r"
                  % (getattr(operator, "task_id", "?"), name, value), flush=True)
            raise
        setattr(parent, name, rendered)


def render_template_fields(operator, context, env, seen_oids=None):
    """Render operator's template_fields in place with context in env
    (BaseOperator.render_template_fields)."""
    oids = seen_oids if seen_oids is not None else set()
    _render_fields(operator, operator, getattr(operator, "template_fields", ()) or (), context, env, oids)


# --- rendered fields for the "Rendered Template" view -------------------------

MAX_TEMPLATED_FIELD_LENGTH = 4096


def serialize_rendered(value):
    """A rendered field as Airflow's rendered-fields table stores it
    (serialize_template_field): a JSON-able value as it is (tuples as
    lists), anything else as str(); longer than [core]
    max_templated_field_length, a truncated repr."""
    import json

    def lists(v):
        if isinstance(v, (list, tuple)):
            return [lists(x) for x in v]
        if isinstance(v, dict):
            return {k: lists(x) for k, x in v.items()}
        return v

    try:
        json.dumps(value, allow_nan=False)
        out = lists(value)
    except (TypeError, ValueError):
        out = str(value)
    text = out if isinstance(out, str) else str(out)
    if len(text) > MAX_TEMPLATED_FIELD_LENGTH:
        return ("Truncated. You can change this behaviour in [core]max_templated_field_length. "
                "%r... " % text[: MAX_TEMPLATED_FIELD_LENGTH - 79])
    return out


def rendered_fields(operator):
    """{field: rendered value} for operator's template_fields."""
    fields = getattr(operator, "template_fields", ()) or ()
    if isinstance(fields, str):
        fields = (fields,)
    return {name: serialize_rendered(getattr(operator, name, None)) for name in fields}

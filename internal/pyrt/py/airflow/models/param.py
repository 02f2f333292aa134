"""Param (a value with a JSON schema), ParamsDict and DagParam."""
import copy

from airflow.exceptions import ParamValidationError
from airflow.utils.types import NOTSET, ArgNotSet


class Param:
    """A DAG or task parameter: a default, a description and a JSON schema."""

    __version__ = 1
    CLASS_IDENTIFIER = "__class"

    def __init__(self, default=NOTSET, description=None, **kwargs):
        self.value = default
        self.description = description
        self.schema = kwargs.pop("schema") if "schema" in kwargs else kwargs

    @property
    def default(self):
        return self.value

    def __copy__(self):
        return Param(self.value, self.description, schema=self.schema)

    def __repr__(self):
        return "Param(%r, description=%r, schema=%r)" % (self.value, self.description, self.schema)

    def resolve(self, value=NOTSET, suppress_exception=False):
        final = self.value if isinstance(value, ArgNotSet) else value
        if isinstance(final, ArgNotSet):
            if suppress_exception:
                return None
            raise ParamValidationError("No value passed and Param has no default value")
        try:
            import jsonschema
        except ImportError:
            return final
        try:
            jsonschema.validate(final, self.schema, format_checker=jsonschema.FormatChecker())
        except jsonschema.ValidationError as err:
            if suppress_exception:
                return None
            raise ParamValidationError(err) from None
        self.value = final
        return final

    def dump(self):
        return {"__class": "airflow.models.param.Param", "value": self.value, "description": self.description, "schema": self.schema}

    @property
    def has_value(self):
        return not isinstance(self.value, ArgNotSet)


class ParamsDict(dict):
    """A dict whose values are kept as Params (plain values are wrapped)."""

    def __init__(self, dict_obj=None, suppress_exception=False):
        super().__init__()
        self.suppress_exception = suppress_exception
        for k, v in (dict_obj or {}).items():
            self[k] = v

    def __setitem__(self, key, value):
        if isinstance(value, Param):
            super().__setitem__(key, value)
        elif key in self and isinstance(dict.__getitem__(self, key), Param):
            dict.__getitem__(self, key).value = value
        else:
            super().__setitem__(key, Param(value))

    def __getitem__(self, key):
        return dict.__getitem__(self, key).value

    def get_param(self, key):
        return dict.__getitem__(self, key)

    def items(self):
        return [(k, dict.__getitem__(self, k)) for k in self]

    def values(self):
        return [dict.__getitem__(self, k) for k in self]

    def update(self, other=None, **kwargs):
        other = other or {}
        if isinstance(other, ParamsDict):
            for k, v in other.items():
                self[k] = copy.copy(v)
        else:
            for k, v in dict(other).items():
                self[k] = v
        for k, v in kwargs.items():
            self[k] = v

    def __copy__(self):
        return ParamsDict(dict(self.items()), self.suppress_exception)

    def __deepcopy__(self, memo):
        out = ParamsDict(suppress_exception=self.suppress_exception)
        for k, v in self.items():
            dict.__setitem__(out, k, Param(copy.deepcopy(v.value, memo), v.description, schema=copy.deepcopy(v.schema, memo)))
        return out

    def dump(self):
        return {k: v.resolve(suppress_exception=True) for k, v in self.items()}

    def validate(self):
        out = {}
        for k, v in self.items():
            try:
                out[k] = v.resolve(suppress_exception=self.suppress_exception)
            except ParamValidationError as e:
                raise ParamValidationError("Invalid input for param %s: %s" % (k, e)) from None
        return out


class DagParam:
    """A @dag function argument: a reference to params[name], resolved when
    a task runs."""

    def __init__(self, current_dag, name, default=NOTSET):
        if not isinstance(default, ArgNotSet):
            current_dag.params[name] = default
        self._name = name
        self._default = default

    def iter_references(self):
        return iter(())

    def resolve(self, context, *, include_xcom=True):
        try:
            return context["dag_run"].conf[self._name]
        except (KeyError, TypeError, AttributeError):
            pass
        if not isinstance(self._default, ArgNotSet):
            return self._default
        try:
            return context["params"][self._name]
        except KeyError:
            pass
        raise AirflowException_("No value could be resolved for parameter %s" % self._name)

    def __repr__(self):
        return "DagParam(%r)" % self._name


def AirflowException_(msg):
    from airflow.exceptions import AirflowException

    return AirflowException(msg)


def process_params(dag, task, dag_run, *, suppress_exception):
    params = ParamsDict(suppress_exception=suppress_exception)
    if dag and dag.params:
        params.update(dag.params)
    if task is not None and getattr(task, "params", None):
        params.update(task.params)
    conf = getattr(dag_run, "conf", None) if dag_run is not None else None
    if conf:
        for k, v in conf.items():
            params[k] = v
    return params.validate()

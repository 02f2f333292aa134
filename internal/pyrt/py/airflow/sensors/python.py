"""PythonSensor: poke is a Python callable."""
from airflow.operators.python import context_merge, determine_kwargs
from airflow.sensors.base import BaseSensorOperator, PokeReturnValue


class PythonSensor(BaseSensorOperator):
    template_fields = ("templates_dict", "op_args", "op_kwargs")

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, templates_dict=None, **kwargs):
        kwargs.pop("provide_context", None)
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = op_args or []
        self.op_kwargs = op_kwargs or {}
        self.templates_dict = templates_dict

    def poke(self, context):
        context_merge(context, self.op_kwargs, templates_dict=self.templates_dict)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        print("Poking callable: %s" % getattr(self.python_callable, "__name__", self.python_callable))
        rv = self.python_callable(*self.op_args, **kwargs)
        if isinstance(rv, PokeReturnValue):
            return rv
        return PokeReturnValue(bool(rv))

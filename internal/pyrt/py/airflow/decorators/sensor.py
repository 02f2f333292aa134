"""@task.sensor: the function is poke()."""
from airflow.decorators.base import get_unique_task_id, task_decorator_factory
from airflow.sensors.python import PythonSensor


class DecoratedSensorOperator(PythonSensor):
    template_fields = ("op_args", "op_kwargs")
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}
    custom_operator_name = "@task.sensor"
    shallow_copy_attrs = ("python_callable",)

    def __init__(self, *, task_id, **kwargs):
        kwargs.pop("multiple_outputs", None)
        kwargs["task_id"] = get_unique_task_id(task_id, kwargs.get("dag"), kwargs.get("task_group"))
        super().__init__(**kwargs)


def sensor_task(python_callable=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable, multiple_outputs=False,
                                  decorated_operator_class=DecoratedSensorOperator, **kwargs)

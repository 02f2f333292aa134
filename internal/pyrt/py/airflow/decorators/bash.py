"""@task.bash: the function returns the bash command to run."""
from airflow.decorators.base import DecoratedOperator, task_decorator_factory
from airflow.operators.bash import BashOperator
from airflow.operators.python import context_merge, determine_kwargs

SET_DURING_EXECUTION = "COMMAND_SET_DURING_EXECUTION"


class _BashDecoratedOperator(DecoratedOperator, BashOperator):
    template_fields = (*DecoratedOperator.template_fields, *BashOperator.template_fields)
    template_fields_renderers = {**DecoratedOperator.template_fields_renderers, **BashOperator.template_fields_renderers}
    custom_operator_name = "@task.bash"

    def __init__(self, *, python_callable, op_args=None, op_kwargs=None, **kwargs):
        kwargs.pop("multiple_outputs", None)
        super().__init__(python_callable=python_callable, op_args=op_args, op_kwargs=op_kwargs,
                         bash_command=SET_DURING_EXECUTION, multiple_outputs=False, **kwargs)

    def execute(self, context):
        context_merge(context, self.op_kwargs)
        kwargs = determine_kwargs(self.python_callable, self.op_args, context)
        command = self.python_callable(*self.op_args, **kwargs)
        if not isinstance(command, str) or command.strip() == "":
            raise TypeError("The returned value from the TaskFlow callable must be a non-empty string.")
        self.bash_command = self.render_template(command, context)
        return BashOperator.execute(self, context)


def bash_task(python_callable=None, **kwargs):
    return task_decorator_factory(python_callable=python_callable, decorated_operator_class=_BashDecoratedOperator, **kwargs)

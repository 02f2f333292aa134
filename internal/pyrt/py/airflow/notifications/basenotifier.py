"""BaseNotifier: a callable callback object (on_failure_callback=MyNotifier(...))."""
from airflow.template.templater import Templater


class BaseNotifier(Templater):
    template_fields = ()

    def __init__(self):
        pass

    def notify(self, context):
        raise NotImplementedError

    def __call__(self, *args):
        context = args[0] if len(args) == 1 else {"dag": args[0], "task_list": args[1]} if args else {}
        self.notify(context)

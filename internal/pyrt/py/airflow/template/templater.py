"""Templater: the template methods BaseOperator has (render_template,
render_template_fields), for classes that render templates without being operators."""
from airflow.models.baseoperator import BaseOperator


class Templater:
    template_fields = ()
    template_ext = ()

    render_template = BaseOperator.render_template
    _do_render_template_fields = BaseOperator._do_render_template_fields
    _render = staticmethod(BaseOperator._render)

    def get_template_env(self, dag=None):
        import jinja2

        return dag.get_template_env() if dag is not None else jinja2.Environment(cache_size=0)

    def resolve_template_files(self):
        pass

    def prepare_template(self):
        pass

"""AirflowPlugin: plugins register operators, macros, timetables..."""


class AirflowPlugin:
    name = None
    source = None
    hooks = []
    executors = []
    macros = []
    admin_views = []
    flask_blueprints = []
    menu_links = []
    appbuilder_views = []
    appbuilder_menu_items = []
    global_operator_extra_links = []
    operator_extra_links = []
    timetables = []
    listeners = []
    priority_weight_strategies = []

    @classmethod
    def validate(cls):
        if not cls.name:
            raise ValueError("Your plugin needs a name.")

    @classmethod
    def on_load(cls, *args, **kwargs):
        pass


class AirflowPluginException(Exception):
    pass


plugins = []

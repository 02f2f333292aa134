"""Provider packages: native ones live here as files; any other
airflow.providers.* path imports as placeholders (airflow._aliases)."""


def __getattr__(name):
    # `import airflow` then `airflow.<pkg>.<module>.x` works in Airflow because
    # its start-up imports most modules; here submodules load on first use.
    import importlib

    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return importlib.import_module(__name__ + "." + name)
    except ModuleNotFoundError:
        raise AttributeError("module %r has no attribute %r" % (__name__, name)) from None

"""Database utilities are refused (no metadata database access); the
session helpers 1.10 files import from here are those of utils.session,
refused when used."""
from airflow.utils.session import NEW_SESSION, create_session, provide_session  # noqa: F401


def __getattr__(name):
    from windsock_rt import Unsupported

    if name.startswith("__"):
        raise AttributeError(name)
    raise Unsupported("airflow.utils.db.%s (metadata-database access)" % name)

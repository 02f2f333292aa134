"""Database utilities are refused (no metadata database access)."""


def __getattr__(name):
    from windsock_rt import Unsupported

    raise Unsupported("airflow.utils.db.%s (metadata-database access)" % name)

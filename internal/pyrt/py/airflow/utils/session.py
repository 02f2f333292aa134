"""provide_session / create_session: refused on use (no metadata database access)."""
import functools

NEW_SESSION = None


def _refuse(what):
    from windsock_rt import Unsupported

    raise Unsupported("%s (direct metadata-database access)" % what, "use the REST API, Variables, Connections or XComs")


def create_session(*args, **kwargs):
    _refuse("airflow.utils.session.create_session")


def provide_session(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if kwargs.get("session") is None:
            _refuse("@provide_session on %s" % getattr(func, "__name__", func))
        return func(*args, **kwargs)

    return wrapper


def create_session_async(*args, **kwargs):
    _refuse("airflow.utils.session.create_session_async")

"""Connection: fetched through the Windsock process (never the database)."""
import json
import os

from airflow.exceptions import AirflowException, AirflowNotFoundException


class Connection:
    """conn_id, conn_type, host, schema, login, password, port, extra."""

    EXTRA_KEY = "__extra__"

    def __init__(self, conn_id=None, conn_type=None, description=None, host=None, login=None, password=None,
                 schema=None, port=None, extra=None, uri=None):
        self.conn_id = conn_id
        self.description = description
        if extra is not None and not isinstance(extra, str):
            extra = json.dumps(extra)
        if uri:
            if any(v is not None for v in (conn_type, host, login, password, schema, port, extra)):
                raise AirflowException("You must create an object using the URI or individual values "
                                       "(conn_type, host, login, password, schema, port or extra)."
                                       "You can't mix these two ways to create this object.")
            self._parse_from_uri(uri)
        else:
            self.conn_type = conn_type
            self.host = host
            self.login = login
            self.password = password
            self.schema = schema
            self.port = int(port) if port not in (None, "") else None
            self.extra = extra

    def _parse_from_uri(self, uri):
        from urllib.parse import parse_qsl, unquote, urlsplit

        parts = urlsplit(uri)
        conn_type = parts.scheme
        if conn_type == "postgresql":
            conn_type = "postgres"
        elif "-" in conn_type:
            conn_type = conn_type.replace("-", "_")
        self.conn_type = conn_type
        self.host = unquote(parts.hostname) if parts.hostname else None
        if self.host and "__" in conn_type:
            pass
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        self.schema = unquote(path) if path else None
        self.login = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.port = parts.port
        self.extra = None
        if parts.query:
            q = dict(parse_qsl(parts.query, keep_blank_values=True))
            if self.EXTRA_KEY in q:
                self.extra = q[self.EXTRA_KEY]
            else:
                self.extra = json.dumps(q)

    def get_uri(self):
        from urllib.parse import quote, urlencode

        conn_type = (self.conn_type or "").replace("_", "-")
        uri = "%s://" % conn_type
        auth = ""
        if self.login:
            auth += quote(self.login, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        if auth:
            uri += auth + "@"
        if self.host:
            uri += quote(self.host, safe="")
        if self.port:
            uri += ":%d" % self.port
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        if self.extra:
            from urllib.parse import parse_qsl

            extra = self.extra_dejson
            try:
                query = urlencode(extra)
            except TypeError:
                query = None
            sep = "?" if self.schema else "/?"
            if query and extra == dict(parse_qsl(query, keep_blank_values=True)):
                uri += sep + query
            else:
                uri += sep + urlencode({self.EXTRA_KEY: self.extra})
        return uri

    @property
    def extra_dejson(self):
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def get_extra(self):
        return self.extra

    def get_password(self):
        return self.password

    def __repr__(self):
        return self.conn_id or ""

    def debug_info(self):
        return "id: %s. Host: %s, Port: %s, Schema: %s, Login: %s, Password: %s, extra: %s" % (
            self.conn_id, self.host, self.port, self.schema, self.login, "XXXXXXXX" if self.password else None,
            "XXXXXXXX" if self.extra else None)

    def test_connection(self):
        return False, "Testing connections is not available from a DAG file in Windsock"

    def get_hook(self, *, hook_params=None):
        from airflow.hooks.base import hook_for_conn_type

        cls, id_param = hook_for_conn_type(self.conn_type)
        return cls(**{id_param: self.conn_id}, **(hook_params or {}))

    @classmethod
    def get_connection_from_secrets(cls, conn_id):
        from windsock_rt import rpc

        if not rpc.connected():
            env = os.environ.get("AIRFLOW_CONN_" + conn_id.upper())
            if env:
                return cls._from_env(conn_id, env)
            raise AirflowNotFoundException(
                "The conn_id `%s` isn't defined (not running under Windsock, and AIRFLOW_CONN_%s is not set)"
                % (conn_id, conn_id.upper())
            )
        try:
            d = rpc.call("connection_get", conn_id=conn_id)
        except rpc.NotFound:
            raise AirflowNotFoundException("The conn_id `%s` isn't defined" % conn_id) from None
        return cls(
            conn_id=d.get("conn_id") or conn_id, conn_type=d.get("conn_type"), description=d.get("description"),
            host=d.get("host") or None, login=d.get("login") or None, password=d.get("password") or None,
            schema=d.get("schema") or None, port=d.get("port") or None, extra=d.get("extra") or None,
        )

    @classmethod
    def _from_env(cls, conn_id, value):
        value = value.strip()
        if value.startswith("{"):
            d = json.loads(value)
            return cls(conn_id=conn_id, conn_type=d.get("conn_type"), host=d.get("host"), login=d.get("login"),
                       password=d.get("password"), schema=d.get("schema"), port=d.get("port"), extra=d.get("extra"),
                       description=d.get("description"))
        return cls(conn_id=conn_id, uri=value)

    def to_dict(self, *, prune_empty=False, validate=True):
        out = {"conn_id": self.conn_id, "conn_type": self.conn_type, "description": self.description,
               "host": self.host, "login": self.login, "password": self.password, "schema": self.schema,
               "port": self.port, "extra": self.extra_dejson}
        if prune_empty:
            out = {k: v for k, v in out.items() if v not in (None, "", {})}
        return out

    def as_json(self):
        return json.dumps(self.to_dict())

"""HttpHook on the standard library (urllib): enough for operators and
tasks that call run() and read status_code/text/json()."""
import json as _json

from airflow.exceptions import AirflowException
from airflow.hooks.base import BaseHook


class Response:
    """The parts of requests.Response that DAG code reads."""

    def __init__(self, status_code, body, headers, url, reason=""):
        self.status_code = status_code
        self.content = body
        self.headers = headers
        self.url = url
        self.reason = reason
        self.encoding = "utf-8"

    @property
    def text(self):
        return self.content.decode(self.encoding, errors="replace")

    def json(self):
        return _json.loads(self.text)

    @property
    def ok(self):
        return self.status_code < 400

    def raise_for_status(self):
        if self.status_code >= 400:
            raise AirflowException("%s:%s" % (self.status_code, self.reason))


class HttpHook(BaseHook):
    conn_name_attr = "http_conn_id"
    default_conn_name = "http_default"
    conn_type = "http"
    hook_name = "HTTP"

    def __init__(self, method="POST", http_conn_id=default_conn_name, auth_type=None, tcp_keep_alive=True,
                 tcp_keep_alive_idle=120, tcp_keep_alive_count=20, tcp_keep_alive_interval=30, **kwargs):
        super().__init__()
        self.method = method.upper()
        self.http_conn_id = http_conn_id
        self.base_url = ""
        self._headers = {}
        self._auth = None

    def get_conn(self, headers=None):
        if self.http_conn_id:
            conn = self.get_connection(self.http_conn_id)
            host = conn.host or ""
            if "://" in host:
                self.base_url = host
            else:
                schema = conn.schema or "http"
                self.base_url = "%s://%s" % (schema, host) if host else ""
            if conn.port:
                self.base_url += ":%d" % conn.port
            if conn.login:
                self._auth = (conn.login, conn.password or "")
            extra = conn.extra_dejson
            self._headers.update({k: str(v) for k, v in extra.items() if isinstance(v, (str, int, float))})
        if headers:
            self._headers.update(headers)
        return self

    def url_from_endpoint(self, endpoint):
        if self.base_url and not self.base_url.endswith("/") and endpoint and not endpoint.startswith("/"):
            return self.base_url + "/" + endpoint
        return (self.base_url or "") + (endpoint or "")

    def run(self, endpoint=None, data=None, headers=None, extra_options=None, **request_kwargs):
        import base64
        import urllib.error
        import urllib.parse
        import urllib.request

        extra_options = extra_options or {}
        self.get_conn(headers)
        url = self.url_from_endpoint(endpoint)
        body = None
        if self.method in ("GET", "HEAD", "DELETE") and data:
            q = urllib.parse.urlencode(data) if isinstance(data, dict) else str(data)
            url += ("&" if "?" in url else "?") + q
        elif data is not None:
            if isinstance(data, dict):
                body = urllib.parse.urlencode(data).encode()
            elif isinstance(data, bytes):
                body = data
            else:
                body = str(data).encode()
        if request_kwargs.get("json") is not None:
            body = _json.dumps(request_kwargs["json"]).encode()
            self._headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=body, method=self.method, headers=dict(self._headers))
        if self._auth:
            token = base64.b64encode(("%s:%s" % self._auth).encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        timeout = extra_options.get("timeout", 60)
        print("Sending '%s' to url: %s" % (self.method, url))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                resp = Response(r.status, r.read(), dict(r.headers), url, r.reason)
        except urllib.error.HTTPError as e:
            resp = Response(e.code, e.read() or b"", dict(e.headers or {}), url, e.reason)
        if extra_options.get("check_response", True) and resp.status_code >= 400:
            print("HTTP error: %s" % resp.reason)
            print(resp.text)
            raise AirflowException("%d:%s" % (resp.status_code, resp.reason))
        return resp

    def test_connection(self):
        try:
            self.run()
            return True, "Connection successfully tested"
        except Exception as e:
            return False, str(e)

"""HttpSensor: poke an endpoint until it answers (and response_check agrees)."""
from airflow.exceptions import AirflowException
from airflow.operators.python import determine_kwargs
from airflow.sensors.base import BaseSensorOperator


class HttpSensor(BaseSensorOperator):
    template_fields = ("endpoint", "request_params", "headers")

    def __init__(self, *, endpoint, http_conn_id="http_default", method="GET", request_params=None,
                 request_kwargs=None, headers=None, response_error_codes_allowlist=None, response_check=None,
                 extra_options=None, tcp_keep_alive=True, tcp_keep_alive_idle=120, tcp_keep_alive_count=20,
                 tcp_keep_alive_interval=30, deferrable=False, **kwargs):
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.http_conn_id = http_conn_id
        self.method = method
        self.request_params = request_params or {}
        self.headers = headers or {}
        self.extra_options = extra_options or {}
        self.request_kwargs = request_kwargs or {}
        self.response_error_codes_allowlist = [str(c) for c in (response_error_codes_allowlist or ["404"])]
        self.response_check = response_check
        self.deferrable = deferrable

    def poke(self, context):
        from airflow.providers.http.hooks.http import HttpHook

        hook = HttpHook(method=self.method, http_conn_id=self.http_conn_id)
        print("Poking: %s" % self.endpoint)
        try:
            response = hook.run(self.endpoint, data=self.request_params, headers=self.headers,
                                extra_options=self.extra_options, **self.request_kwargs)
        except AirflowException as e:
            if str(e)[:3] in self.response_error_codes_allowlist:
                return False
            raise
        if self.response_check:
            kw = determine_kwargs(self.response_check, [response], context)
            return self.response_check(response, **kw)
        return True

"""HttpOperator / SimpleHttpOperator (Windsock runs them natively unless a
Python callable such as response_check makes them run in Python)."""
from airflow.exceptions import AirflowException
from airflow.models.baseoperator import BaseOperator
from airflow.operators.python import determine_kwargs


class HttpOperator(BaseOperator):
    template_fields = ("endpoint", "data", "headers")
    template_fields_renderers = {"headers": "json", "data": "py"}
    template_ext = ()
    ui_color = "#f4a460"

    def __init__(self, *, endpoint=None, method="POST", data=None, headers=None, pagination_function=None,
                 response_check=None, response_filter=None, extra_options=None, request_kwargs=None,
                 http_conn_id="http_default", log_response=False, auth_type=None, tcp_keep_alive=True,
                 tcp_keep_alive_idle=120, tcp_keep_alive_count=20, tcp_keep_alive_interval=30,
                 deferrable=False, retry_args=None, **kwargs):
        super().__init__(**kwargs)
        self.http_conn_id = http_conn_id
        self.method = method
        self.endpoint = endpoint
        self.headers = headers or {}
        self.data = data or {}
        self.pagination_function = pagination_function
        self.response_check = response_check
        self.response_filter = response_filter
        self.extra_options = extra_options or {}
        self.request_kwargs = request_kwargs or {}
        self.log_response = log_response
        self.auth_type = auth_type
        self.deferrable = deferrable
        self.retry_args = retry_args

    @property
    def hook(self):
        from airflow.providers.http.hooks.http import HttpHook

        return HttpHook(self.method, http_conn_id=self.http_conn_id)

    def execute(self, context):
        response = self.hook.run(self.endpoint, self.data, self.headers, self.extra_options, **self.request_kwargs)
        if self.log_response:
            print(response.text)
        if self.response_check:
            kw = determine_kwargs(self.response_check, [response], context)
            if not self.response_check(response, **kw):
                raise AirflowException("Response check returned False.")
        if self.response_filter:
            kw = determine_kwargs(self.response_filter, [response], context)
            return self.response_filter(response, **kw)
        return response.text


class SimpleHttpOperator(HttpOperator):
    """The older name of HttpOperator."""

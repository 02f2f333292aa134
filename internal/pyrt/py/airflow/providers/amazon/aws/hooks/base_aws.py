"""AwsBaseHook over boto3: a session and clients built from an Airflow
aws connection, read as the provider reads it."""
from airflow.exceptions import AirflowException, AirflowNotFoundException
from airflow.hooks.base import BaseHook


def _boto3():
    try:
        import boto3
    except ImportError:
        raise AirflowException(
            "AWS hooks need the boto3 module (apache-airflow-providers-amazon installs it), "
            "which this environment lacks: add boto3 to requirements.txt"
        ) from None
    return boto3


class AwsBaseHook(BaseHook):
    """Reads the connection once: login/password are the access key pair
    (or the extra's aws_access_key_id/aws_secret_access_key), the extra's
    region_name, endpoint_url (or service_config.<service>.endpoint_url)
    and aws_session_token. A missing connection falls back to boto3's own
    chain (AWS_* variables, files), as the provider does."""

    conn_name_attr = "aws_conn_id"
    default_conn_name = "aws_default"
    conn_type = "aws"
    hook_name = "Amazon Web Services"

    def __init__(self, aws_conn_id=default_conn_name, verify=None, region_name=None, client_type=None,
                 resource_type=None, config=None, *args, **kwargs):
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self.verify = verify
        self.client_type = client_type
        self.resource_type = resource_type
        self._region_name = region_name
        self._config = config
        self._settings = None

    def _conn_settings(self):
        if self._settings is not None:
            return self._settings
        s = {}
        extra = {}
        if self.aws_conn_id:
            try:
                conn = self.get_connection(self.aws_conn_id)
            except AirflowNotFoundException:
                self.log.warning("Connection %s not found: using boto3's default credentials", self.aws_conn_id)
                conn = None
            if conn is not None:
                extra = conn.extra_dejson or {}
                s["aws_access_key_id"] = conn.login or extra.get("aws_access_key_id")
                s["aws_secret_access_key"] = conn.password or extra.get("aws_secret_access_key")
                s["aws_session_token"] = extra.get("aws_session_token")
                s["region_name"] = extra.get("region_name")
                s["endpoint_url"] = extra.get("endpoint_url") or conn.host
        if self._region_name:
            s["region_name"] = self._region_name
        self._extra = extra
        self._settings = {k: v for k, v in s.items() if v}
        return self._settings

    @property
    def region_name(self):
        return self._conn_settings().get("region_name") or self.get_session().region_name

    @property
    def conn_config(self):
        return self._conn_settings()

    def _endpoint_for(self, service):
        s = self._conn_settings()
        per_service = (self._extra.get("service_config") or {}).get(service) or {}
        url = per_service.get("endpoint_url") or s.get("endpoint_url")
        if url and "://" not in url:
            url = "https://" + url
        return url

    def get_session(self, region_name=None):
        s = self._conn_settings()
        args = {k: s[k] for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token") if k in s}
        region = region_name or s.get("region_name")
        if region:
            args["region_name"] = region
        return _boto3().session.Session(**args)

    def _client_kwargs(self, service):
        kwargs = {}
        url = self._endpoint_for(service)
        if url:
            kwargs["endpoint_url"] = url
        if self.verify is not None:
            kwargs["verify"] = self.verify
        config = self._config
        if url and service == "s3" and config is None:
            # A custom endpoint is addressed path-style, which every
            # S3-compatible server supports.
            from botocore.config import Config

            config = Config(s3={"addressing_style": "path"})
        if config is not None:
            kwargs["config"] = config
        return kwargs

    def get_client_type(self, client_type=None, region_name=None, config=None):
        service = client_type or self.client_type
        kwargs = self._client_kwargs(service)
        if config is not None:
            kwargs["config"] = config
        return self.get_session(region_name).client(service, **kwargs)

    def get_resource_type(self, resource_type=None, region_name=None, config=None):
        service = resource_type or self.resource_type
        kwargs = self._client_kwargs(service)
        if config is not None:
            kwargs["config"] = config
        return self.get_session(region_name).resource(service, **kwargs)

    @property
    def conn(self):
        if self.client_type:
            return self.get_client_type()
        return self.get_resource_type()

    def get_conn(self):
        return self.conn

    def get_credentials(self, region_name=None):
        return self.get_session(region_name).get_credentials().get_frozen_credentials()

    def test_connection(self):
        try:
            self.get_client_type("sts").get_caller_identity()
            return True, "Connection successfully tested"
        except Exception as e:  # the provider reports any failure as text
            return False, str(e)


class AwsGenericHook(AwsBaseHook):
    pass

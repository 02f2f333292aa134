"""Points every boto3 MWAA client of an unchanged script at the control
plane named by WINDSOCK_CONTROLPLANE_URL, without AWS's host prefixes:
what a newer botocore does with AWS_ENDPOINT_URL_MWAA, which Debian's
botocore 1.29 predates."""
import os

import botocore.session
from botocore.config import Config

_create_client = botocore.session.Session.create_client


def _create_windsock_client(self, service_name, *args, **kwargs):
    if service_name == "mwaa" and os.environ.get("WINDSOCK_CONTROLPLANE_URL"):
        # boto3 passes endpoint_url=None when the script gives none.
        if not kwargs.get("endpoint_url"):
            kwargs["endpoint_url"] = os.environ["WINDSOCK_CONTROLPLANE_URL"]
        config = Config(inject_host_prefix=False)
        kwargs["config"] = config.merge(kwargs["config"]) if kwargs.get("config") else config
    return _create_client(self, service_name, *args, **kwargs)


botocore.session.Session.create_client = _create_windsock_client

"""Drives a Windsock control plane with Debian's boto3 through an
environment's whole lifecycle. Usage: lifecycle_boto3.py ENDPOINT; the
key comes from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY."""
import base64
import json
import sys
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
# A custom endpoint is not one of AWS's: no "api."/"env." host prefixes.
config = Config(inject_host_prefix=False, retries={"max_attempts": 1})
mwaa = boto3.client("mwaa", region_name="us-east-1", endpoint_url=endpoint, config=config)


def expect_error(code, call, *args, contains=None, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        msg = e.response["Error"].get("Message", "")
        assert got == code, f"{call.__name__}: got {got} {msg}, want {code}"
        assert contains is None or contains in msg, f"{call.__name__}: message {msg!r} lacks {contains!r}"
        return msg
    raise AssertionError(f"{call.__name__} succeeded, want {code}")


def wait(name, statuses=("CREATING", "UPDATING", "DELETING")):
    # The test runner answers at once; the bound only stops a hung run.
    for _ in range(600):
        try:
            env = mwaa.get_environment(Name=name)["Environment"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        if env["Status"] not in statuses:
            return env
        time.sleep(0.1)
    raise AssertionError(f"{name} stayed in {env['Status']}")


base = dict(
    ExecutionRoleArn="arn:aws:iam::123456789012:role/mwaa",
    SourceBucketArn="arn:aws:s3:::dags-bucket",
    DagS3Path="dags",
    NetworkConfiguration={"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]},
    AirflowVersion="2.10.3",
    EnvironmentClass="mw1.small",
    MaxWorkers=3,
    Tags={"team": "data"},
    LoggingConfiguration={"TaskLogs": {"Enabled": True, "LogLevel": "INFO"}},
)

arn = mwaa.create_environment(Name="b1", **base)["Arn"]
assert arn == "arn:aws:airflow:us-east-1:000000000000:environment/b1", arn
env = wait("b1")
assert env["Status"] == "AVAILABLE", env
assert env["LoggingConfiguration"]["TaskLogs"]["CloudWatchLogGroupArn"] == \
    "arn:aws:logs:us-east-1:000000000000:log-group:airflow-b1-Task", env["LoggingConfiguration"]
assert env["CreatedAt"].year >= 2024, env["CreatedAt"]
mwaa.create_environment(Name="b2", **base)
mwaa.create_environment(Name="b3", **base)
wait("b2"), wait("b3")

pages = list(mwaa.get_paginator("list_environments").paginate(PaginationConfig={"PageSize": 2}))
names = [n for p in pages for n in p["Environments"]]
assert names == ["b1", "b2", "b3"] and len(pages) == 2, (names, len(pages))

mwaa.update_environment(Name="b1", MaxWorkers=5, AirflowConfigurationOptions={"core.default_timezone": "utc"})
env = wait("b1")
assert env["Status"] == "AVAILABLE" and env["MaxWorkers"] == 5, env

mwaa.tag_resource(ResourceArn=arn, Tags={"env": "prod"})
mwaa.untag_resource(ResourceArn=arn, tagKeys=["team"])
assert mwaa.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}

tok = mwaa.create_cli_token(Name="b1")
req = urllib.request.Request(f"http://{tok['WebServerHostname']}/aws_mwaa/cli", data=b"variables set k v1", method="POST",
                             headers={"Authorization": "Bearer " + tok["CliToken"], "Content-Type": "text/plain"})
json.load(urllib.request.urlopen(req))
req = urllib.request.Request(f"http://{tok['WebServerHostname']}/aws_mwaa/cli", data=b"variables get k", method="POST",
                             headers={"Authorization": "Bearer " + tok["CliToken"], "Content-Type": "text/plain"})
out = json.load(urllib.request.urlopen(req))
assert base64.b64decode(out["stdout"]).decode().strip() == "v1", out

web = mwaa.create_web_login_token(Name="b1")
assert web["WebToken"] and web["WebServerHostname"] == tok["WebServerHostname"], web

# Validation errors come back as ValidationException with MWAA's message.
expect_error("ValidationException", mwaa.create_environment, Name="b9", **dict(base, AirflowVersion="2.3.4"),
             contains="Invalid AirflowVersion: 2.3.4.")
expect_error("ValidationException", mwaa.create_environment, Name="b9", **dict(base, EnvironmentClass="mw1.huge"),
             contains="Invalid EnvironmentClass")
expect_error("ValidationException", mwaa.create_environment, Name="b9",
             **dict(base, NetworkConfiguration={"SubnetIds": ["subnet-1", "subnet-2", "subnet-3"], "SecurityGroupIds": ["sg-1"]}),
             contains="at 'networkConfiguration.subnetIds' failed to satisfy constraint")
expect_error("ResourceNotFoundException", mwaa.get_environment, Name="nope")

mwaa.delete_environment(Name="b1")
assert wait("b1") is None

# Bad signatures.
bad = boto3.client("mwaa", region_name="us-east-1", endpoint_url=endpoint, config=config,
                   aws_access_key_id="AKIANOTAKEY000000000", aws_secret_access_key="x")
expect_error("UnrecognizedClientException", bad.list_environments)
import os
wrong = boto3.client("mwaa", region_name="us-east-1", endpoint_url=endpoint, config=config,
                     aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong")
expect_error("InvalidSignatureException", wrong.list_environments, contains="The request signature we calculated does not match")
print("boto3 lifecycle OK")

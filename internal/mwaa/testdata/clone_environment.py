"""Clone an MWAA environment onto a new Apache Airflow version: the recipe
of AWS's migration guide (GetEnvironment, then CreateEnvironment with the
same settings, a new name, version and execution role). Usage:
clone_environment.py SOURCE_NAME NEW_NAME NEW_VERSION NEW_EXECUTION_ROLE_ARN"""
import sys

import boto3

COPIED = [
    "AirflowConfigurationOptions", "AirflowVersion", "DagS3Path", "EndpointManagement", "EnvironmentClass", "KmsKey",
    "MaxWorkers", "MinWorkers", "PluginsS3ObjectVersion", "PluginsS3Path", "RequirementsS3ObjectVersion",
    "RequirementsS3Path", "Schedulers", "StartupScriptS3ObjectVersion", "StartupScriptS3Path", "WebserverAccessMode",
    "WeeklyMaintenanceWindowStart",
]


def clone(source_name, new_name, new_version, execution_role_arn):
    mwaa = boto3.client("mwaa")
    env = mwaa.get_environment(Name=source_name)["Environment"]
    args = {key: env[key] for key in COPIED if key in env}
    logging = {}
    for module, conf in env.get("LoggingConfiguration", {}).items():
        logging[module] = {"Enabled": conf["Enabled"], "LogLevel": conf["LogLevel"]}
    args["LoggingConfiguration"] = logging
    args["Name"] = new_name
    args["AirflowVersion"] = new_version
    args["ExecutionRoleArn"] = execution_role_arn
    args["NetworkConfiguration"] = {
        "SecurityGroupIds": env["NetworkConfiguration"]["SecurityGroupIds"],
        "SubnetIds": env["NetworkConfiguration"]["SubnetIds"],
    }
    args["SourceBucketArn"] = env["SourceBucketArn"]
    if env.get("Tags"):
        args["Tags"] = env["Tags"]
    return mwaa.create_environment(**args)["Arn"]


if __name__ == "__main__":
    print(clone(*sys.argv[1:5]))

"""BashSensor: done when the command exits 0."""
import os
import subprocess

from airflow.exceptions import AirflowFailException
from airflow.sensors.base import BaseSensorOperator


class BashSensor(BaseSensorOperator):
    template_fields = ("bash_command", "env")

    def __init__(self, *, bash_command, env=None, output_encoding="utf-8", retry_exit_code=None, **kwargs):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        self.retry_exit_code = retry_exit_code

    def poke(self, context):
        print("Running command: %s" % self.bash_command)
        p = subprocess.run(["bash", "-c", self.bash_command], env=self.env if self.env is not None else dict(os.environ),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(p.stdout.decode(self.output_encoding, errors="backslashreplace"))
        if self.retry_exit_code is not None:
            if p.returncode == self.retry_exit_code:
                return False
            if p.returncode != 0:
                raise AirflowFailException("Command exited with return code %d" % p.returncode)
        return p.returncode == 0

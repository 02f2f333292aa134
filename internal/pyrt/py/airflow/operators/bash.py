"""BashOperator. Windsock runs it natively in Go; execute here is the
fallback for a bash task that must run in Python (a subclass, user macros)."""
import os

from airflow.exceptions import AirflowException, AirflowSkipException
from airflow.models.baseoperator import BaseOperator


def context_to_airflow_vars(context):
    """The AIRFLOW_CTX_* variables Airflow exports to bash commands."""
    out = {}
    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    pairs = (
        ("AIRFLOW_CTX_DAG_ID", getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None)),
        ("AIRFLOW_CTX_TASK_ID", getattr(ti, "task_id", None)),
        ("AIRFLOW_CTX_EXECUTION_DATE", context.get("ts")),
        ("AIRFLOW_CTX_TRY_NUMBER", getattr(ti, "try_number", None)),
        ("AIRFLOW_CTX_DAG_RUN_ID", context.get("run_id")),
    )
    for k, v in pairs:
        if v is not None:
            out[k] = str(v)
    return out


class BashOperator(BaseOperator):
    template_fields = ("bash_command", "env", "cwd")
    template_fields_renderers = {"bash_command": "bash", "env": "json"}
    template_ext = (".sh", ".bash")
    ui_color = "#f0ede4"

    def __init__(
        self,
        *,
        bash_command,
        env=None,
        append_env=False,
        output_encoding="utf-8",
        skip_exit_code=None,
        skip_on_exit_code=99,
        cwd=None,
        output_processor=lambda result: result,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.bash_command = bash_command
        self.env = env
        self.output_encoding = output_encoding
        if skip_exit_code is not None:
            skip_on_exit_code = skip_exit_code
        self.skip_on_exit_code = (
            skip_on_exit_code if isinstance(skip_on_exit_code, (list, tuple, set))
            else ([skip_on_exit_code] if skip_on_exit_code is not None else [])
        )
        self.cwd = cwd
        self.append_env = append_env
        self.output_processor = output_processor

    def get_env(self, context):
        env = self.env
        if env is None:
            env = dict(os.environ)
        elif self.append_env:
            merged = dict(os.environ)
            merged.update(env)
            env = merged
        else:
            env = dict(env)
        env.update(context_to_airflow_vars(context))
        return env

    def execute(self, context):
        import subprocess

        if self.cwd is not None:
            if not os.path.exists(self.cwd):
                raise AirflowException("Can not find the cwd: %s" % self.cwd)
            if not os.path.isdir(self.cwd):
                raise AirflowException("The cwd %s must be a directory" % self.cwd)
        proc = subprocess.Popen(
            ["bash", "-c", self.bash_command],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.get_env(context),
            cwd=self.cwd, start_new_session=False,
        )
        self._ws_proc = proc
        last = ""
        for raw in proc.stdout:
            line = raw.decode(self.output_encoding, errors="backslashreplace").rstrip("\n")
            print(line, flush=True)
            last = line
        code = proc.wait()
        if code in self.skip_on_exit_code:
            raise AirflowSkipException("Bash command returned exit code %d. Skipping." % code)
        if code != 0:
            raise AirflowException("Bash command failed. The command returned a non-zero exit code %d." % code)
        return self.output_processor(last)

    def on_kill(self):
        proc = getattr(self, "_ws_proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()

import airflow
from airflow import DAG, BaseOperator  # noqa: F401

_missing = object()


class Variable:
    @staticmethod
    def get(key, default_var=_missing):
        from windsock_rt import rpc

        airflow._variables_read.add(key)
        try:
            return rpc.call("variable_get", key=key)
        except rpc.NotFound:
            if default_var is _missing:
                raise KeyError("Variable %s does not exist" % key)
            return default_var

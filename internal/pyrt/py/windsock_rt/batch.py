"""Parse several DAG files in one child of the parse server.

A fork of the warm parse server costs more than importing a typical DAG
file (the child copies every page its imports touch), so the DAG processor
hands one child a batch of files, imported one after the other as
Airflow's DagBag imports a folder in one process. Each file keeps its own
core.dagbag_import_timeout, enforced with SIGALRM as DagBag does, so a
slow file fails with Airflow's own timeout error and the rest of the batch
goes on.
"""

import signal

_DOCS = (
    "Please take a look at these docs to improve your DAG import time:\n"
    "* https://airflow.apache.org/docs/apache-airflow/2.10.3/best-practices.html#top-level-python-code\n"
    "* https://airflow.apache.org/docs/apache-airflow/2.10.3/best-practices.html#reducing-dag-complexity"
)


def _timeout_error():
    try:
        from airflow.exceptions import AirflowTaskTimeout

        return AirflowTaskTimeout
    except ImportError:

        class AirflowTaskTimeout(Exception):
            pass

        AirflowTaskTimeout.__module__ = "airflow.exceptions"
        AirflowTaskTimeout.__qualname__ = "AirflowTaskTimeout"
        return AirflowTaskTimeout


def parse_batch(parse, files, opts, timeout):
    """Return parse.parse_file(path, opts) for each path, in order."""
    from windsock_rt import rpc

    error = _timeout_error()
    results = []
    # Workers are reused: the alarm's handler is put back afterwards.
    previous = signal.getsignal(signal.SIGALRM)
    try:
        for path in files:
            # Go watches the batch: a file that runs past its timeout
            # without the next one starting is stuck beyond SIGALRM's reach.
            rpc.call("parse_started", file=path)
            if timeout and timeout > 0:

                def on_alarm(_signum, _frame, path=path):
                    raise error("DagBag import timeout for %s after %ss.\n%s" % (path, float(timeout), _DOCS))

                signal.signal(signal.SIGALRM, on_alarm)
                signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                results.append(parse.parse_file(path, opts))
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return results

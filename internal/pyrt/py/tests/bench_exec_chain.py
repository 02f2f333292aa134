"""What run_task costs per hop of a chain of 100 @task functions (each
returning its input plus one), in-process and in the real Python server's
reused workers (which keep an unchanged file's import). Not a test; run
by hand:

    /usr/bin/python3 internal/pyrt/py/tests/bench_exec_chain.py

Wall times on a loaded machine mostly measure the scheduler, so the server
figures include the worker's CPU time and page faults for run_task.
"""
import contextlib
import io
import os
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exec_harness import Worker, context_json  # noqa: E402
import test_exec_forkserver as fs  # noqa: E402

from windsock_rt import rpc  # noqa: E402

CHAIN = textwrap.dedent('''
    import pendulum
    from airflow.decorators import dag, task

    @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
    def chain():
        @task
        def step(x):
            return x + 1
        v = step.override(task_id="s0")(0)
        for i in range(1, 100):
            v = step.override(task_id="s%d" % i)(v)

    d = chain()
''')
RUN = "manual__2024-01-02T00:00:00+00:00"

CHILD = '''
import resource, sys, time
from windsock_rt import execute
before = resource.getrusage(resource.RUSAGE_SELF)
t = time.process_time()
execute.run_task(%r, rpc)
cpu = time.process_time() - t
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before.ru_minflt
sys.stderr.write("COST %%.3f %%d\\n" %% (cpu * 1000, faults))
'''


def request(path, i):
    tid = "s%d" % i
    return tid, {"kind": "task", "file": path, "dag_id": "chain", "task_id": tid, "run_id": RUN, "map_index": -1,
                 "try_number": 1, "max_tries": 0, "context": context_json("chain", tid, RUN)}


def median(v):
    return sorted(v)[len(v) // 2]


def in_process(path):
    from windsock_rt.execute import import_dag_file, run_task, warm
    warm()
    import_dag_file(path)
    w = Worker()
    rpc.set_handler(w.handle)
    times = []
    for i in range(100):
        tid, req = request(path, i)
        w.current = ("chain", RUN, tid, -1)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            out = run_task(req, rpc)
        times.append(time.perf_counter() - start)
        w.store_outcome(out)
    assert w.xcom("chain", "s99") == 100
    print("in-process run_task per hop, file already imported: median %.2f ms" % (median(times) * 1000))
    from windsock_rt import execute
    times, cpu = [], []
    for i in range(100):
        tid, req = request(path, i)
        w.current = ("chain", RUN, tid, -1)
        execute._CACHE.clear()  # as for a file whose import reads Variables
        start, start_cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            out = run_task(req, rpc)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        w.store_outcome(out)
    rpc.set_handler(None)
    print("in-process run_task per hop, importing the 100-task file each time: median %.2f ms (cpu %.2f ms)"
          % (median(times) * 1000, median(cpu) * 1000))


def through_server(path):
    w = Worker()
    server = fs.ForkServer({"dags_folder": os.path.dirname(path), "max_idle": 4})
    try:
        cpu, faults, wall = [], [], []
        for i in range(100):
            tid, req = request(path, i)
            w.current = ("chain", RUN, tid, -1)
            start = time.perf_counter()
            out, log, status = server.request({"op": "eval", "code": CHILD % (req,)}, w.handle)
            wall.append(time.perf_counter() - start)
            w.store_outcome(out)
            c, f = log.split("COST ")[1].split()[:2]
            cpu.append(float(c))
            faults.append(int(f))
        assert w.xcom("chain", "s99") == 100
    finally:
        server.close()
    print("python server worker: run_task cpu median %.1f ms, page faults median %d; "
          "request wall median %.1f ms" % (median(cpu), median(faults), median(wall) * 1000))


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "chain.py")
        with open(path, "w") as f:
            f.write(CHAIN)
        through_server(path)
        in_process(path)


if __name__ == "__main__":
    main()

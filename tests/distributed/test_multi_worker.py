"""`tf.distribute.MultiWorkerMirroredStrategy`: 2 worker processes on 127.0.0.1.

Each worker (`python -m tests.distributed.worker OUT.json`, one CPU device
each) runs `scenario.run()` with the cluster in `TF_CONFIG` (two free
loopback ports) and writes its result as JSON into `tmp_path`. Every
worker's metrics equal the single-process run of the same data and initial
weights to 1e-6, its losses and weights to float32 tolerance, and its
metrics equal scikit-learn on its predictions.

Bounded: the workers get `TIMEOUT` seconds together; on a timeout or any
failure both process groups are killed (SIGKILL) and their logs are shown.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.distributed import scenario

pytestmark = [
    pytest.mark.slow,
    pytest.mark.tensorflow_only,
    pytest.mark.filterwarnings("ignore:AUROC:UserWarning"),
]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKERS = 2
TIMEOUT = 240  # seconds, for both workers together


def free_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on 127.0.0.1 (bound to port 0, then released)."""
    with contextlib.ExitStack() as stack:
        sockets = []
        for _ in range(n):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]


def tf_config(ports: list[int], index: int) -> str:
    workers = [f"127.0.0.1:{p}" for p in ports]
    return json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    )


def kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


WORKER = ["-m", "tests.distributed.worker"]


def run_workers(
    tmp_path, *, command=WORKER, timeout=TIMEOUT, started=None
) -> list[dict]:
    """Runs the workers (`python COMMAND OUT.json`), returns their JSON results.

    `started` (a list) receives the workers' process ids.
    """
    ports = free_ports(WORKERS)
    outs = [tmp_path / f"worker{i}.json" for i in range(WORKERS)]
    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    processes = []
    try:
        for i in range(WORKERS):
            env = {
                **os.environ,
                "KERAS_BACKEND": "tensorflow",
                "TF_CPP_MIN_LOG_LEVEL": "3",
                "TF_CONFIG": tf_config(ports, i),
                "PYTHONPATH": ROOT,
                "CUDA_VISIBLE_DEVICES": "",
            }
            with open(logs[i], "w") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, *command, str(outs[i])],
                        env=env,
                        cwd=ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group
                    )
                )
            if started is not None:
                started.append(processes[-1].pid)
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"workers still running after {timeout} s:\n{tails(logs)}")
        codes = [p.returncode for p in processes]
        assert codes == [0] * WORKERS, f"exit codes {codes}:\n{tails(logs)}"
        return [json.loads(out.read_text()) for out in outs]
    finally:
        for process in processes:
            kill_group(process)


def tails(logs) -> str:
    return "\n".join(
        f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs if log.exists()
    )


def test_two_workers_equal_one_process_and_sklearn(tmp_path, single_device_run):
    results = run_workers(tmp_path)
    for i, result in enumerate(results):
        how = f"MultiWorkerMirroredStrategy worker {i}"
        assert result["num_replicas_in_sync"] == WORKERS, how
        assert result["task"] == {"type": "worker", "index": i}, how
        scenario.assert_matches_sklearn(result, how)
        scenario.assert_same_run(result, single_device_run, how)


def test_free_ports_are_distinct_and_bindable():
    ports = free_ports(WORKERS)
    assert len(set(ports)) == WORKERS
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))


def gone(pid: int) -> bool:
    """Whether process `pid` has ended (exited or a zombie awaiting its reaper)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


HANG = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1] + ".child", "w").write(str(child.pid))
time.sleep(600)
"""


def test_hung_workers_and_their_children_are_killed(tmp_path):
    started = []
    with pytest.raises(pytest.fail.Exception, match="still running after 10 s"):
        run_workers(tmp_path, command=["-c", HANG], timeout=10, started=started)
    children = [int((tmp_path / f"worker{i}.json.child").read_text()) for i in range(2)]
    deadline = time.monotonic() + 10
    while not all(map(gone, started + children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(map(gone, started + children)), started + children

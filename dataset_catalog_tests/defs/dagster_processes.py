"""Helpers for tests that start `dagster dev` or `dagster-webserver` in their own process group."""

import os
import signal
import socket
import subprocess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process_group(process: subprocess.Popen, grace_seconds: float) -> None:
    """SIGTERM the whole group (the webserver forks code servers), SIGKILL whatever outlives the grace time."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

"""The local services' processes (Kafka, PostgreSQL, Spark): alive, gone, free ports.

Each starter keeps its server's PID in a file and may be asked about it from another
process (`make kafka-status`), so these work on bare PIDs, not Popen objects.
"""

from __future__ import annotations

import os
import socket
import time


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie child of ours (exited, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True  # not our child: its parent reaps it


def wait_exit(pid: int, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for `pid` to end; True if it did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def free_port(host: str = "localhost") -> int:
    """A TCP port nobody listens on now (the OS's choice)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
